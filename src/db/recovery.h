// Recovery: rebuilding the in-memory state from a data directory — the
// MANIFEST, its snapshot, then every log record after it — and deciding,
// per RecoveryMode, what to do about damage (docs/format.md "Recovery").
// The same walk serves Repository::open, verify (read only) and repair
// (point in time).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "caserepo/env.h"
#include "caserepo/maintenance.h"
#include "caserepo/options.h"
#include "engine/store.h"

namespace caserepo::db {

struct RecoveryReport {
  std::uint64_t snapshot_seq = 0;
  std::uint64_t snapshot_entries = 0;
  std::uint64_t replayed_records = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t stream_position = 0;  // of the last stream command taken (Repository::streamPosition)
  std::vector<std::string> segments;  // replayed, in order
  std::string tail_reason;            // a torn tail cut off (or, read only, to be cut): where and why
  std::uint64_t tail_bytes = 0;
  RepairReport repair;                // kPointInTime: the cut, if there was damage
  std::vector<std::string> obsolete;  // files a checkpoint left behind (removed unless read only)
};

struct Recovered {
  RecoveryReport report;
  // Where the log continues: the segment dir/segment_name, `segment_bytes`
  // long; when `fresh`, it is to be (re)created with a file header.
  std::string segment_name;
  std::uint64_t segment_bytes = 0;
  bool fresh = false;
};

// Options::replayChangesAfter: the logged writes after `after`, reported to
// `report` as they are replayed (each as the live write reported it).
struct ChangeReplay {
  std::uint64_t after;
  const std::function<void(const Change&)>& report;
};

// Rebuilds `store` (REQUIRES: empty) from `dir`, treating damage per `mode`.
// Unless `read_only`, it also makes the directory ready for appends: writes
// the MANIFEST of a new directory, cuts what the mode cuts (durably, keeping
// repaired bytes aside) and removes obsolete files. With `read_only` it
// changes nothing and reports what it would do. With `changes`, the writes
// it names are reported (intact records, applied: a damaged record later in
// the log can still fail the open after some were). Errors: Corruption naming
// the file and offset, IOError.
Result<Recovered> recover(Env& env, const std::string& dir, engine::Store& store, RecoveryMode mode,
                          bool read_only, const ProgressFn& progress = {}, const ChangeReplay* changes = nullptr);

}  // namespace caserepo::db
