// Env's default implementations.
#include <utility>

#include "caserepo/env.h"

namespace caserepo {
namespace {

class StringContents final : public FileContents {
 public:
  explicit StringContents(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string_view bytes() const noexcept override { return bytes_; }

 private:
  std::string bytes_;
};

}  // namespace

Result<std::unique_ptr<FileContents>> Env::map_file(const std::string& path, std::uint64_t max_bytes) {
  auto bytes = read_file(path, max_bytes);
  if (!bytes.ok()) return bytes.error();
  return std::unique_ptr<FileContents>(std::make_unique<StringContents>(std::move(*bytes)));
}

}  // namespace caserepo
