// Small helpers shared by the unit tests.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "caserepo/caserepo.h"

namespace caserepo::testing {

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
