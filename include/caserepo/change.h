// A committed write, as a change feed publishes it (Options::onChange,
// docs/events.md).
#pragma once

#include <cstdint>
#include <string_view>

#include "caserepo/entry.h"

namespace caserepo {

struct Change {
  enum class Kind : std::uint8_t { kCreate, kUpdate, kRemove };
  Kind kind = Kind::kCreate;
  // The write's log sequence number: increasing, unique within one data
  // directory (an in-memory repository counts from 1 per process).
  std::uint64_t seq = 0;
  std::string_view caseId;
  std::string_view caseType;  // of the case (kRemove: as it was)
  // kCreate: the new entry; kUpdate: the case's current entry after the
  // patch (every entry of the case got it). kRemove: null.
  const Entry* entry = nullptr;
  std::uint64_t removed = 0;         // kRemove: entries removed
  std::uint64_t streamPosition = 0;  // the stream command that made it (0: not from a stream)
};

}  // namespace caserepo
