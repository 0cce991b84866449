#include "caserepo/error.h"

namespace caserepo {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kConflict: return "Conflict";
    case ErrorCode::kIOError: return "IOError";
    case ErrorCode::kCorruption: return "Corruption";
    case ErrorCode::kReadOnly: return "ReadOnly";
  }
  return "Unknown";
}

std::string Error::to_string() const { return std::string(caserepo::to_string(code_)) + ": " + message_; }

}  // namespace caserepo
