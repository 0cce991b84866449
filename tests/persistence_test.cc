// Persistence: reopen gives back the state; crashes at every I/O operation
// lose nothing acknowledged; injected I/O errors give typed errors and a
// read-only repository; damaged files give Corruption or a tail repair,
// never a crash; real SIGKILLed writers lose nothing acknowledged.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "support/fault_env.h"
#include "support/fixtures.h"

namespace caserepo::testing {
namespace {

const std::string kDir = "/data";

// A deterministic workload: explicit caseIds (no random UUIDs), business-key
// joins, updates, removes and checkpoints.
struct Op {
  enum Kind { kCreate, kUpdate, kRemove, kCheckpoint } kind;
  CreateRequest create;
  std::string caseId;
  Patch patch;
};

std::vector<Op> workload() {
  std::vector<Op> ops;
  auto create = [&](std::string id, std::string client, std::string status, std::optional<std::string> bk = {}) {
    CreateRequest r = request(client, "LOAN", status);
    if (!id.empty()) r.caseId = id;
    r.businessKey = bk;
    r.statusDescription = "op " + std::to_string(ops.size());
    ops.push_back({Op::kCreate, r, {}, {}});
  };
  auto update = [&](std::string id, std::string status) {
    Patch p;
    p.status = status;
    p.source.emplace();
    ops.push_back({Op::kUpdate, {}, id, p});
  };
  create("c1", "k1", "NEW", "BK-1");
  create("c2", "k2", "NEW");
  create("", "k1", "OPEN", "BK-1");  // joins c1 by business key
  update("c2", "OPEN");
  create("c3", "k3", "NEW");
  ops.push_back({Op::kCheckpoint, {}, {}, {}});
  create("c2", "k2", "IN_PROGRESS");
  ops.push_back({Op::kRemove, {}, "c3", {}});
  create("c4", "k1", "NEW");
  update("c1", "CLOSED");
  ops.push_back({Op::kCheckpoint, {}, {}, {}});
  create("c5", "k5", "NEW");
  create("c4", "k1", "OPEN");
  ops.push_back({Op::kRemove, {}, "c2", {}});
  create("c6", "k6", "NEW", "BK-6");
  update("c6", "REJECTED");
  return ops;
}

// Runs ops[from..] until one fails; returns how many state-changing ops
// were acknowledged (checkpoints do not change state).
struct RunResult {
  std::size_t acked = 0;
  bool failed = false;
};
RunResult run(Repository& repo, ManualClock& clock, const std::vector<Op>& ops) {
  RunResult r;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    *clock.ms = 1735689600000LL + static_cast<std::int64_t>(i) * 1000;
    const Op& op = ops[i];
    bool ok = true;
    switch (op.kind) {
      case Op::kCreate: ok = repo.create(op.create).ok(); break;
      case Op::kUpdate: ok = repo.update(op.caseId, op.patch).ok(); break;
      case Op::kRemove: ok = repo.remove(op.caseId).ok(); break;
      case Op::kCheckpoint: ok = repo.checkpoint().ok(); break;
    }
    if (!ok) {
      r.failed = true;
      return r;
    }
    if (op.kind != Op::kCheckpoint) ++r.acked;
  }
  return r;
}

// states[i]: all entries after the first i state-changing ops.
std::vector<std::vector<Entry>> expected_states(const std::vector<Op>& ops) {
  ManualClock clock;
  Options o;
  o.clock = clock.function();
  Repository repo(o);
  std::vector<std::vector<Entry>> states{all_entries(repo)};
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind == Op::kCheckpoint) continue;
    std::vector<Op> one{ops[i]};
    *clock.ms = 1735689600000LL + static_cast<std::int64_t>(i) * 1000;
    switch (ops[i].kind) {
      case Op::kCreate: EXPECT_TRUE(repo.create(ops[i].create).ok()); break;
      case Op::kUpdate: EXPECT_TRUE(repo.update(ops[i].caseId, ops[i].patch).ok()); break;
      case Op::kRemove: EXPECT_TRUE(repo.remove(ops[i].caseId).ok()); break;
      default: break;
    }
    states.push_back(all_entries(repo));
  }
  return states;
}

Options options_for(Env& env, ManualClock& clock, FsyncPolicy policy = FsyncPolicy::kAlways) {
  Options o;
  o.env = &env;
  o.clock = clock.function();
  o.fsync = policy;
  o.checkpointLogBytes = 0;
  return o;
}

TEST(PersistenceTest, ReopenGivesBackTheStateAndWritesContinue) {
  FaultEnv env;
  ManualClock clock;
  const auto ops = workload();
  const auto states = expected_states(ops);
  {
    auto repo = Repository::open(kDir, options_for(env, clock));
    ASSERT_TRUE(repo.ok()) << repo.error().to_string();
    EXPECT_FALSE(run(**repo, clock, ops).failed);
    EXPECT_EQ(all_entries(**repo), states.back());
  }
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ(all_entries(**repo), states.back());
  const Stats s = (*repo)->stats();
  EXPECT_TRUE(s.persistent);
  EXPECT_GT(s.recoveredSnapshotEntries, 0u);  // the second checkpoint
  EXPECT_EQ(s.replayedRecords, 5u);           // the ops after it
  // Writes continue where the log left off.
  ASSERT_TRUE((*repo)->create(request("k9", "CARD", "NEW")).ok());
  const auto with_one_more = all_entries(**repo);
  repo->reset();
  auto again = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(all_entries(**again), with_one_more);
}

TEST(PersistenceTest, ADirectoryOpenInOneRepositoryCannotBeOpenedAgain) {
  FaultEnv env;
  ManualClock clock;
  auto first = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(first.ok());
  auto second = Repository::open(kDir, options_for(env, clock));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), ErrorCode::kIOError);
}

TEST(PersistenceTest, TheRealDirectoryLockRefusesASecondOpen) {
  const auto dir = std::filesystem::temp_directory_path() / ("caserepo-lock-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto first = Repository::open(dir.string());
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  auto second = Repository::open(dir.string());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), ErrorCode::kIOError);
  first->reset();
  EXPECT_TRUE(Repository::open(dir.string()).ok());
  std::filesystem::remove_all(dir);
}

// Crash after the k-th I/O operation, for every k; unsynced bytes dropped,
// torn, or zero-filled. The reopened state holds every acknowledged write
// and is a prefix of the workload.
TEST(PersistenceTest, ACrashAtEveryIoOperationLosesNothingAcknowledged) {
  const auto ops = workload();
  const auto states = expected_states(ops);
  std::uint64_t total_ops;
  {
    FaultEnv env;
    ManualClock clock;
    auto repo = Repository::open(kDir, options_for(env, clock));
    ASSERT_TRUE(repo.ok());
    ASSERT_FALSE(run(**repo, clock, ops).failed);
    total_ops = env.mutating_ops();
  }
  ASSERT_GT(total_ops, 40u);
  int tails_repaired = 0;
  for (std::uint64_t k = 0; k <= total_ops; ++k) {
    for (auto tear : {FaultEnv::Tear::kDrop, FaultEnv::Tear::kPartial, FaultEnv::Tear::kZeros}) {
      FaultEnv env;
      ManualClock clock;
      env.die_after(k);
      RunResult r;
      {
        auto repo = Repository::open(kDir, options_for(env, clock));
        if (repo.ok()) r = run(**repo, clock, ops);
      }
      env.crash(tear, k);
      auto reopened = Repository::open(kDir, options_for(env, clock));
      ASSERT_TRUE(reopened.ok()) << "crash after op " << k << ": " << reopened.error().to_string();
      const auto state = all_entries(**reopened);
      const bool acked_state = state == states[r.acked];
      const bool one_more = r.acked + 1 < states.size() && state == states[r.acked + 1];
      ASSERT_TRUE(acked_state || one_more) << "crash after op " << k << ", " << r.acked << " writes acknowledged";
      if (!(*reopened)->stats().tailRepair.empty()) ++tails_repaired;
      // The repaired log takes new writes.
      ASSERT_TRUE((*reopened)->create(request("after", "CARD", "NEW")).ok()) << "crash after op " << k;
    }
  }
  EXPECT_GT(tails_repaired, 0);  // torn tails really happened and were cut
}

struct IoFault {
  const char* name;
  FaultEnv::Op op;
  FaultEnv::Fault fault;
};

class IoErrorTest : public ::testing::TestWithParam<IoFault> {};

TEST_P(IoErrorTest, GivesATypedErrorTurnsReadOnlyAndLosesNothingAcknowledged) {
  const auto ops = workload();
  const auto states = expected_states(ops);
  const IoFault f = GetParam();
  // Fail the 3rd operation of the kind after open, whatever it is.
  FaultEnv env;
  ManualClock clock;
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(repo.ok());
  env.fail_at(2, f.op, f.fault);
  RunResult r = run(**repo, clock, ops);
  ASSERT_TRUE(r.failed) << "the fault never fired";
  const Stats s = (*repo)->stats();
  if (s.readOnly) {
    auto refused = (*repo)->create(request("x", "LOAN", "NEW"));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kReadOnly);
  }
  EXPECT_TRUE((*repo)->search({}).ok());  // reads still work
  repo->reset();
  env.crash(FaultEnv::Tear::kDrop);
  auto reopened = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  const auto state = all_entries(**reopened);
  EXPECT_TRUE(state == states[r.acked] || state == states[r.acked + 1]) << r.acked << " acknowledged";
  EXPECT_TRUE((*reopened)->create(request("after", "CARD", "NEW")).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Faults, IoErrorTest,
    ::testing::Values(IoFault{"EIOOnAppend", FaultEnv::Op::kAppend, FaultEnv::Fault::kEIO},
                      IoFault{"ENOSPCOnAppend", FaultEnv::Op::kAppend, FaultEnv::Fault::kENOSPC},
                      IoFault{"ShortWrite", FaultEnv::Op::kAppend, FaultEnv::Fault::kShortWrite},
                      IoFault{"FailingFsync", FaultEnv::Op::kSync, FaultEnv::Fault::kEIO},
                      IoFault{"FailingRename", FaultEnv::Op::kRename, FaultEnv::Fault::kEIO},
                      IoFault{"FailingDirectorySync", FaultEnv::Op::kSyncDir, FaultEnv::Fault::kEIO},
                      IoFault{"FailingOpen", FaultEnv::Op::kOpen, FaultEnv::Fault::kENOSPC}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(IoErrorTest, AFailedFsyncIsNeverRetriedIntoSuccess) {
  FaultEnv env;
  ManualClock clock;
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(repo.ok());
  env.fail_at(0, FaultEnv::Op::kSync, FaultEnv::Fault::kEIO);
  auto first = (*repo)->create(request("k1", "LOAN", "NEW"));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code(), ErrorCode::kIOError);
  auto second = (*repo)->create(request("k1", "LOAN", "NEW"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), ErrorCode::kReadOnly);
  EXPECT_TRUE((*repo)->stats().readOnly);
}

// A small data directory: a snapshot, a log with records after it, a manifest.
std::map<std::string, std::string> small_directory(std::vector<std::vector<Entry>>& states) {
  FaultEnv env;
  ManualClock clock;
  const auto ops = workload();
  states = expected_states(ops);
  auto repo = Repository::open(kDir, options_for(env, clock));
  EXPECT_TRUE(repo.ok());
  EXPECT_FALSE(run(**repo, clock, ops).failed);
  repo->reset();
  return env.files();
}

enum class Outcome { kCorruption, kOpened };
Outcome open_damaged(const std::map<std::string, std::string>& files, const std::vector<std::vector<Entry>>& states,
                     std::string* why) {
  FaultEnv env;
  for (const auto& [path, data] : files) env.set_file(path, data);
  ManualClock clock;
  auto repo = Repository::open(kDir, options_for(env, clock));
  if (!repo.ok()) {
    if (repo.error().code() != ErrorCode::kCorruption) *why = "not Corruption: " + repo.error().to_string();
    return Outcome::kCorruption;
  }
  const auto state = all_entries(**repo);
  if (std::find(states.begin(), states.end(), state) == states.end()) *why = "opened to a state no prefix had";
  return Outcome::kOpened;
}

TEST(CorruptionTest, EveryBitFlipIsCorruptionOrATailRepair) {
  std::vector<std::vector<Entry>> states;
  const auto files = small_directory(states);
  int corruption = 0, repaired = 0;
  for (const auto& [path, data] : files) {
    if (path.ends_with("LOCK")) continue;
    const bool is_log = path.find("/log-") != std::string::npos;
    for (std::size_t byte = 0; byte < data.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        auto damaged = files;
        damaged[path][byte] = static_cast<char>(damaged[path][byte] ^ (1 << bit));
        std::string why;
        const Outcome o = open_damaged(damaged, states, &why);
        ASSERT_TRUE(why.empty()) << path << " byte " << byte << " bit " << bit << ": " << why;
        if (!is_log) {
          ASSERT_EQ(o, Outcome::kCorruption) << path << " byte " << byte << " bit " << bit;
        }
        (o == Outcome::kCorruption ? corruption : repaired)++;
      }
    }
  }
  EXPECT_GT(corruption, 0);
  EXPECT_GT(repaired, 0);  // flips in the final record are a torn tail
}

TEST(CorruptionTest, EveryTruncationIsCorruptionOrATailRepair) {
  std::vector<std::vector<Entry>> states;
  const auto files = small_directory(states);
  for (const auto& [path, data] : files) {
    if (path.ends_with("LOCK")) continue;
    const bool is_log = path.find("/log-") != std::string::npos;
    for (std::size_t size = 0; size < data.size(); ++size) {
      auto damaged = files;
      damaged[path].resize(size);
      std::string why;
      const Outcome o = open_damaged(damaged, states, &why);
      ASSERT_TRUE(why.empty()) << path << " cut to " << size << ": " << why;
      // A log cut anywhere is a crash mid-append: it always opens.
      ASSERT_EQ(o, is_log ? Outcome::kOpened : Outcome::kCorruption) << path << " cut to " << size;
    }
  }
}

TEST(CorruptionTest, AZeroFilledTailIsCutOffAndReported) {
  std::vector<std::vector<Entry>> states;
  auto files = small_directory(states);
  for (auto& [path, data] : files) {
    if (path.find("/log-") != std::string::npos) data.append(4096, '\0');
  }
  FaultEnv env;
  for (const auto& [path, data] : files) env.set_file(path, data);
  ManualClock clock;
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ(all_entries(**repo), states.back());
  EXPECT_EQ((*repo)->stats().tailBytesDropped, 4096u);
  EXPECT_FALSE((*repo)->stats().tailRepair.empty());
}

TEST(CorruptionTest, DamageBeforeTheLastRecordIsCorruptionNamingFileAndOffset) {
  std::vector<std::vector<Entry>> states;
  auto files = small_directory(states);
  std::string log;
  for (auto& [path, data] : files) {
    if (path.find("/log-") != std::string::npos) {
      log = path;
      data[24 + 20] ^= 0x40;  // inside the first record's payload
    }
  }
  FaultEnv env;
  for (const auto& [path, data] : files) env.set_file(path, data);
  ManualClock clock;
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_FALSE(repo.ok());
  EXPECT_EQ(repo.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(repo.error().message().find(log), std::string::npos) << repo.error().message();
  EXPECT_NE(repo.error().message().find("offset 24"), std::string::npos) << repo.error().message();
}

// A child process writes and reports each acknowledged caseId on a pipe;
// the parent SIGKILLs it at a random moment, reopens, and finds them all.
TEST(ProcessKillTest, NothingAcknowledgedIsLostUnderAnyPolicy) {
  const auto base = std::filesystem::temp_directory_path() / ("caserepo-kill-" + std::to_string(::getpid()));
  std::mt19937_64 rng(42);
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kInterval, FsyncPolicy::kNone}) {
    const std::string dir = (base / std::to_string(static_cast<int>(policy))).string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::set<std::string> acked;
    for (int round = 0; round < 8; ++round) {
      int fds[2];
      ASSERT_EQ(::pipe(fds), 0);
      const pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        ::close(fds[0]);
        Options o;
        o.fsync = policy;
        o.fsyncInterval = std::chrono::milliseconds(20);
        o.checkpointLogBytes = 16 << 10;  // checkpoints happen while being killed too
        auto repo = Repository::open(dir, o);
        if (!repo.ok()) ::_exit(3);
        for (int i = 0;; ++i) {
          CreateRequest r = request("k" + std::to_string(i % 7), "LOAN", "NEW");
          r.caseId = "r" + std::to_string(round) + "-" + std::to_string(i);
          if (!(*repo)->create(r).ok()) ::_exit(4);
          const std::string line = *r.caseId + "\n";
          if (::write(fds[1], line.data(), line.size()) < 0) ::_exit(5);
        }
      }
      ::close(fds[1]);
      std::string buffer;
      std::size_t lines = 0;
      // Reads acknowledged caseIds from the pipe until `limit` lines or EOF.
      auto read_acks = [&](std::size_t limit) {
        char chunk[4096];
        while (lines < limit) {
          const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
          if (n <= 0) return;
          for (ssize_t i = 0; i < n; ++i) {
            if (chunk[i] != '\n') {
              buffer.push_back(chunk[i]);
              continue;
            }
            acked.insert(buffer);
            buffer.clear();
            ++lines;
          }
        }
      };
      read_acks(20 + rng() % 400);
      ::kill(pid, SIGKILL);
      read_acks(SIZE_MAX);  // lines already in the pipe were acknowledged too
      ::close(fds[0]);
      int status = 0;
      ::waitpid(pid, &status, 0);
      ASSERT_TRUE(WIFSIGNALED(status)) << "the writer exited by itself with " << WEXITSTATUS(status);
      auto repo = Repository::open(dir);
      ASSERT_TRUE(repo.ok()) << repo.error().to_string();
      for (const std::string& id : acked) ASSERT_TRUE((*repo)->get(id).ok()) << id << " was acknowledged but is lost";
    }
    EXPECT_GT(acked.size(), 100u);
  }
  std::filesystem::remove_all(base);
}

TEST(CheckpointTest, StartsByItselfPastTheLogThreshold) {
  FaultEnv env;
  ManualClock clock;
  Options o = options_for(env, clock, FsyncPolicy::kNone);
  o.checkpointLogBytes = 4096;
  std::vector<Entry> state;
  {
    auto repo = Repository::open(kDir, o);
    ASSERT_TRUE(repo.ok());
    for (int i = 0; i < 200; ++i) ASSERT_TRUE((*repo)->create(request("k" + std::to_string(i % 5), "LOAN", "NEW")).ok());
    state = all_entries(**repo);
    repo->reset();  // joins a running checkpoint
  }
  auto repo = Repository::open(kDir, o);
  ASSERT_TRUE(repo.ok());
  EXPECT_GT((*repo)->stats().recoveredSnapshotEntries, 0u);
  EXPECT_EQ(all_entries(**repo), state);
}

TEST(CheckpointTest, AnInMemoryRepositoryHasNothingToCheckpoint) {
  Repository repo;
  auto r = repo.checkpoint();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace caserepo::testing
