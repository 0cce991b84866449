// An entry as snapshots hold it, and the counters a restored Store
// continues from: the types shared by the Store and the snapshot files.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace caserepo::engine {

struct StoredEntry {
  std::uint64_t seq = 0;
  std::uint64_t touch_seq = 0;
  std::int64_t creation_ms = 0;
  std::int64_t update_ms = 0;
  std::string caseId;
  std::optional<std::string> businessKey;
  std::string caseType, clientId, clientType, status;
  std::optional<std::string> statusDescription, source;

  bool operator==(const StoredEntry&) const = default;
};

struct StoreCounters {
  std::uint64_t next_seq = 1;
  std::uint64_t next_touch_seq = 1;
  std::int64_t last_stamp_ms = std::numeric_limits<std::int64_t>::min();
};

}  // namespace caserepo::engine
