// How a Repository is configured.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

#include "caserepo/change.h"
#include "caserepo/entry.h"

namespace caserepo {

class Env;

// When an acknowledged write is durable against power loss (a process kill
// loses nothing under any policy: records reach the OS before the ack).
// Under every policy a write is visible to readers only once it is as
// durable as its policy promises.
// Stored nowhere: may be renumbered.
enum class FsyncPolicy : std::uint8_t {
  kAlways,    // every write is fsynced before it is acknowledged; concurrent writers share one fsync
  kInterval,  // fsync every fsyncInterval; writers wait if syncing falls two intervals behind
  kNone,      // the OS decides (and close/checkpoint sync)
};

// What opening a data directory does about a damaged log (RocksDB's WAL
// recovery modes). A snapshot or MANIFEST that fails its checks is
// Corruption in every mode. Stored nowhere: may be renumbered.
enum class RecoveryMode : std::uint8_t {
  // Default. A torn tail of the last log segment — a crash mid-append, with
  // no intact record after it — is cut off (durably); any other damage is
  // Corruption naming the file and offset.
  kTolerateTornTail,
  // Any damage, a torn tail included, is Corruption; nothing is cut.
  kAbsoluteConsistency,
  // What `repair` does: the log is cut at its first damage, the cut bytes
  // are kept in files beside the data, and the repository opens with every
  // record before the damage. Records after it are dropped: an operator's
  // decision, never a default.
  kPointInTime,
};

// Progress of long work — opening (snapshot load, log replay), checkpoints,
// verify, repair — for a caller that shows it. `total` is 0 when unknown.
struct Progress {
  std::string_view task;  // "loading snapshot", "replaying log", "checkpoint: copying", ...
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  bool finished = false;  // the last report of this task
};
using ProgressFn = std::function<void(const Progress&)>;

struct Options {
  // The low-code facade's application name. When not empty, a create that
  // leaves them out gets caseType = applicationName and source = "eximee".
  std::string applicationName;

  // Source of creationDate/updateDate. Default: the system clock.
  // The engine never lets stamps go backwards: a write is stamped
  // max(clock(), previous stamp), so creation order and date order agree.
  std::function<Timestamp()> clock;

  // --- persistence: used by Repository::open ---------------------------------
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  std::chrono::milliseconds fsyncInterval{1000};
  // A checkpoint starts by itself once the log holds this many bytes since
  // the last one (0: only on demand).
  std::uint64_t checkpointLogBytes = std::uint64_t{256} << 20;
  RecoveryMode recovery = RecoveryMode::kTolerateTornTail;
  // Called once per committed write, in log order, once it is durable and
  // visible — from the thread that committed it, with writes waiting
  // behind it: enqueue and return (a change feed publishes elsewhere). The
  // Change's pointers are valid only during the call. Empty: nothing.
  std::function<void(const Change&)> onChange;
  // Open reports the logged writes after this seq to onChange again, as it
  // replays them, so a change feed can publish events lost with a killed
  // process (it passes the seq up to which it knows every event
  // acknowledged). Default: none.
  std::uint64_t replayChangesAfter = std::numeric_limits<std::uint64_t>::max();
  // A checkpoint calls this before it lets go of the log up to `seq` (the
  // writes a later open could report again), from its own thread; false
  // keeps the log and fails the checkpoint (the next threshold tries
  // again). A change feed waits here for its events up to `seq`.
  // Empty: always let go.
  std::function<bool(std::uint64_t seq)> beforeLogDropped;
  // Called now and then during long work (from the thread doing it); empty: nothing.
  ProgressFn progress;
  // The file system; nullptr = Env::posix(). Tests inject faults here.
  Env* env = nullptr;
};

inline constexpr const char* kLowCodeDefaultSource = "eximee";

}  // namespace caserepo
