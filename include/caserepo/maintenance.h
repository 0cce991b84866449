// Operator's tools for a data directory that is not open: verify (read
// only) and repair (cut a damaged log at its first damage, keeping the cut
// bytes). Both take the directory's lock, so they fail with IOError while a
// Repository has it open.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caserepo/error.h"
#include "caserepo/options.h"

namespace caserepo {

struct VerifyReport {
  std::uint64_t snapshotSeq = 0;      // 0: no snapshot yet
  std::uint64_t snapshotEntries = 0;
  std::vector<std::string> segments;  // log segments replayed, oldest first
  std::uint64_t replayedRecords = 0;  // log records after the snapshot
  std::uint64_t lastSeq = 0;
  std::uint64_t entries = 0, cases = 0;
  std::string tornTail;               // a torn tail the next open cuts off: where and why
  std::uint64_t tornTailBytes = 0;
  std::vector<std::string> obsoleteFiles;  // removed at the next open
};

// Checks every file of `dir` — checksums, grammar, and a replay of the log
// into a scratch state — without changing a byte. Errors: Corruption
// naming the file and offset of the first damage the default open refuses
// (a torn tail is reported, not an error), IOError.
Result<VerifyReport> verify(const std::string& dir, const Options& options = {});

struct RepairReport {
  bool damaged = false;           // false: nothing to repair, nothing changed
  std::string damagedFile;        // the first damage: file, offset, what
  std::uint64_t damagedOffset = 0;
  std::string damage;
  std::uint64_t recordsDropped = 0;   // log records after the cut, seqs firstDroppedSeq..lastDroppedSeq
  std::uint64_t firstDroppedSeq = 0;
  std::uint64_t lastDroppedSeq = 0;
  std::uint64_t bytesMoved = 0;
  std::vector<std::string> evidenceFiles;  // where the cut bytes are now (never deleted)
  std::uint64_t lastSeq = 0;               // the log ends here after the repair
  std::uint64_t entries = 0;               // entries the directory opens with
};

// Point-in-time repair (RecoveryMode::kPointInTime): cuts the log at its
// first damage — a torn tail, a damaged record, a record that cannot be
// replayed, a missing or damaged segment — moves every byte after the cut
// into files beside the data, and leaves a directory that opens with every
// record before the damage. With `dryRun`, reports what it would do and
// changes nothing. Errors: Corruption when the damage is in the snapshot or
// the MANIFEST (the log cannot stand in for them: restore from a backup),
// IOError.
Result<RepairReport> repair(const std::string& dir, const Options& options = {}, bool dryRun = false);

}  // namespace caserepo
