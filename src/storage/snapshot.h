// Snapshot files: the whole state at one log sequence number, as
// checksummed frames of Boost.Serialization archives (grammar in format.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caserepo/env.h"
#include "engine/stored_entry.h"

namespace caserepo::storage {

struct SnapshotData {
  std::uint64_t covered_seq = 0;  // every log record up to here is in it
  engine::StoreCounters counters;
  std::vector<engine::StoredEntry> entries;  // creation order
};

// Writes `data` to `path` (the caller writes to a temporary name, syncs and
// renames). Returns the file's size.
Result<std::uint64_t> write_snapshot(Env& env, const std::string& path, const SnapshotData& data);

// Parses and checks a snapshot file's bytes: checksums, counts, and the
// invariants the store relies on (ordered seqs and dates, valid strings).
// Corruption names `name` and the offset.
Result<SnapshotData> parse_snapshot(std::string_view bytes, const std::string& name);

}  // namespace caserepo::storage
