// The data directory: recovery on open (manifest, snapshot, log replay,
// torn-tail repair), checkpoints (snapshot + manifest switch), and the
// read-only inspection behind `caserepo verify`.
//
//   DIR/LOCK              flock'ed while open
//   DIR/MANIFEST          which snapshot, where the log starts
//   DIR/snapshot-S.snap   the state at log seq S
//   DIR/log-F.log         log segments; F = seq of the first record
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caserepo/env.h"
#include "engine/store.h"
#include "storage/snapshot.h"

namespace caserepo::storage {

struct RecoveryReport {
  std::uint64_t snapshot_seq = 0;
  std::uint64_t snapshot_entries = 0;
  std::uint64_t replayed_records = 0;
  std::uint64_t last_seq = 0;
  std::vector<std::string> segments;   // replayed, in order
  bool tail_repaired = false;
  std::string tail_reason;             // where and why the torn tail was cut
  std::uint64_t tail_bytes_dropped = 0;
  double snapshot_seconds = 0, replay_seconds = 0;
  std::vector<std::string> obsolete;   // files a checkpoint left behind
};

struct Recovered {
  RecoveryReport report;
  std::string last_segment;       // path of the segment to append to
  bool last_segment_fresh = false;  // it must be (re)created with a header
};

// Rebuilds `store` (REQUIRES: empty) from `dir`. With `repair`, cuts a torn
// tail off the last segment and creates what a fresh or interrupted
// directory lacks; without, only reads (verify). Corruption names the file
// and offset of any other damage.
Result<Recovered> recover(Env& env, const std::string& dir, engine::Store& store, bool repair);

// Writes snapshot-S.snap (temp, fsync, rename, fsync dir), switches the
// MANIFEST to it, then removes the snapshot and segments it replaces.
// REQUIRES: the log already continues in segment log-(S+1).log.
Status write_checkpoint(Env& env, const std::string& dir, const SnapshotData& data);

// Writes `bytes` to dir/name atomically: name.tmp, fsync, rename, fsync dir.
Status write_file_atomically(Env& env, const std::string& dir, const std::string& name, const std::string& bytes);

}  // namespace caserepo::storage
