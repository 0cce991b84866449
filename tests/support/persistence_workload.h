// A small deterministic workload for persistence tests — explicit caseIds
// (no random UUIDs), business-key joins, updates, removes and checkpoints —
// and the exact state after each of its writes, so that a test can assert
// the precise state a crash or a fault must leave.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "caserepo/caserepo.h"
#include "support/fault_env.h"
#include "support/fixtures.h"

namespace caserepo::testing {

inline const std::string kDataDir = "/data";

struct Op {
  enum Kind { kCreate, kUpdate, kRemove, kCheckpoint } kind;
  CreateRequest create;
  std::string caseId;
  Patch patch;
};

// 13 writes with 2 checkpoints among them. `description_bytes` pads every
// create's statusDescription (long records span pages).
std::vector<Op> workload(std::size_t description_bytes = 0);

// Runs ops until one fails; `acked` counts the writes acknowledged
// (checkpoints are not writes).
struct RunResult {
  std::size_t acked = 0;
  bool failed = false;
};
RunResult run(Repository& repo, ManualClock& clock, const std::vector<Op>& ops);

// states[i]: every entry after the first i writes.
std::vector<std::vector<Entry>> expected_states(const std::vector<Op>& ops);

Options options_for(Env& env, ManualClock& clock, FsyncPolicy policy = FsyncPolicy::kAlways);

// Opens a repository in env, acknowledges `creates` creates, closes it, and
// returns the path of the log that holds them.
std::string log_after_creates(FaultEnv& env, ManualClock& clock, int creates);

}  // namespace caserepo::testing
