// Small helpers shared by the unit tests.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "caserepo/caserepo.h"

namespace caserepo::testing {

// A directory of its own under the system's temporary directory, removed
// with everything in it when the object goes (kept, for a look at its logs,
// when CASEREPO_KEEP_TEST_DIRS is set).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "caserepo-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (std::getenv("CASEREPO_KEEP_TEST_DIRS") != nullptr) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// A file's whole contents, as the test sees it on disk.
inline std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// A clock the test moves by hand.
struct ManualClock {
  std::shared_ptr<std::int64_t> ms = std::make_shared<std::int64_t>(1735689600000LL);
  std::function<Timestamp()> function() const {
    return [ms = ms] { return Timestamp(std::chrono::milliseconds(*ms)); };
  }
  void advance(std::int64_t d) { *ms += d; }
};

inline CreateRequest request(std::string clientId, std::string caseType, std::string status) {
  CreateRequest r;
  r.caseType = std::move(caseType);
  r.clientId = std::move(clientId);
  r.clientType = "PESEL";
  r.status = std::move(status);
  return r;
}

// Every entry, oldest first, through the public API.
inline std::vector<Entry> all_entries(const Repository& repo) {
  std::vector<Entry> out;
  PageRequest page;
  page.sort = SortOrder::kCreationDateAsc;
  page.size = kMaxPageSize;
  while (true) {
    auto r = repo.search({}, page);
    if (!r.ok()) throw std::runtime_error(r.error().to_string());
    out.insert(out.end(), r->content.begin(), r->content.end());
    if (!r->nextPageToken) return out;
    page.token = *r->nextPageToken;
  }
}

}  // namespace caserepo::testing
