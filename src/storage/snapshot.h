// Snapshot files: the whole state at one log sequence number, as
// checksummed frames of Boost.Serialization archives (grammar in format.h).
// Version 2 holds the Store's image (each distinct value once, then arrays
// of codes); version 3 adds the stream position; versions 1 (one record per
// entry) and 2 are still read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caserepo/env.h"
#include "engine/store_image.h"
#include "engine/stored_entry.h"

namespace caserepo::storage {

// What a checkpoint copies out of the Store.
struct SnapshotData {
  std::uint64_t covered_seq = 0;  // every log record up to here is in it
  engine::StoreCounters counters;
  std::uint64_t stream_position = 0;  // Repository::streamPosition at covered_seq
  std::vector<engine::StoredEntry> entries;  // creation order
};

// What a snapshot file holds, ready for Store::restore.
struct LoadedSnapshot {
  std::uint64_t covered_seq = 0;
  std::uint64_t stream_position = 0;  // 0 before version 3
  engine::StoreImage image;
};

// Writes `data` to `path` (the caller writes to a temporary name, syncs and
// renames). Returns the file's size.
Result<std::uint64_t> write_snapshot(Env& env, const std::string& path, const SnapshotData& data);

// Parses and checks a snapshot file's bytes (either version): checksums,
// counts, and the invariants the store relies on (engine::check_image).
// Corruption names `name` and the offset.
Result<LoadedSnapshot> parse_snapshot(std::string_view bytes, const std::string& name);

}  // namespace caserepo::storage
