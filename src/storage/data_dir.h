// The data directory's files: what is there, atomic replacement, durable
// truncation, checkpoints (snapshot + MANIFEST switch) and keeping damaged
// bytes aside as evidence. Recovery — what the files mean — is db/recovery.
//
//   DIR/LOCK              flock'ed while open
//   DIR/MANIFEST          which snapshot, where the log starts
//   DIR/snapshot-S.snap   the state at log seq S
//   DIR/log-F.log         log segments; F = seq of the first record
//   DIR/log-F.log.damaged-at-O[.N]   bytes a repair cut off log-F.log at offset O
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caserepo/env.h"
#include "storage/snapshot.h"

namespace caserepo::storage {

struct DirListing {
  bool has_manifest = false;
  std::vector<std::uint64_t> segments;   // first seqs, ascending
  std::vector<std::uint64_t> snapshots;  // covered seqs
  std::vector<std::string> temporary;    // *.tmp names left by an interrupted write
};
Result<DirListing> list_data_dir(Env& env, const std::string& dir);

// Writes `bytes` to dir/name atomically: name.tmp, fsync, rename, fsync dir.
Status write_file_atomically(Env& env, const std::string& dir, const std::string& name, const std::string& bytes);

// Cuts dir/name to `size` bytes and makes that durable (file, then directory).
Status truncate_durably(Env& env, const std::string& dir, const std::string& name, std::uint64_t size);

// Keeps `bytes`, cut off dir/name at `offset`, in a new file beside it
// (name.damaged-at-offset, or with .2, .3, ... if taken); durable on return.
// Returns the new file's name.
Result<std::string> keep_aside(Env& env, const std::string& dir, const std::string& name, std::uint64_t offset,
                               const std::string& bytes);

// Renames dir/name to name.damaged-at-0 (or .2, .3, ...), durably.
// Returns the new name.
Result<std::string> move_aside(Env& env, const std::string& dir, const std::string& name);

// Writes snapshot-S.snap (temp, fsync, rename, fsync dir), switches the
// MANIFEST to it, then removes the snapshot and segments it replaces.
// REQUIRES: the log already continues in segment log-(S+1).log.
// Returns the snapshot file's size.
Result<std::uint64_t> write_checkpoint(Env& env, const std::string& dir, const SnapshotData& data);

}  // namespace caserepo::storage
