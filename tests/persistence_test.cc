// Persistence: reopen gives back the state; a crash at every I/O operation,
// under every fsync policy and every way a disk loses unsynced data, keeps
// every acknowledged-and-synced write (exactly: the state is the one after a
// known number of writes); real SIGKILLed writers lose nothing acknowledged;
// checkpoints are consistent while writers run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "support/fault_env.h"
#include "support/fixtures.h"
#include "support/persistence_workload.h"
#include "workload/generator.h"

namespace caserepo::testing {
namespace {

const std::string& kDir = kDataDir;

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

// Every entry, and each case's current one, as searches return them.
std::pair<std::vector<Entry>, std::vector<Entry>> whole_state(const Repository& repo) {
  std::vector<Entry> current;
  Filter f;
  f.currentOnly = true;
  PageRequest page;
  page.sort = SortOrder::kUpdateDateDesc;
  page.size = kMaxPageSize;
  for (;;) {
    auto r = repo.search(f, page);
    if (!r.ok()) throw std::runtime_error(r.error().to_string());
    current.insert(current.end(), r->content.begin(), r->content.end());
    if (!r->nextPageToken) break;
    page.token = *r->nextPageToken;
  }
  return {all_entries(repo), current};
}

// A replay decodes its records a window (4096) at a time, into the objects
// of a window already applied with their strings' room reused
// (db/decode_ahead.h), and looks each record's keys up a few records ahead
// of applying it. Over more than three windows of mixed writes — creates
// joining cases or not, with and without each nullable field, texts on
// both sides of the inline limits; updates setting, clearing and keeping
// fields; removes — the reopened repository is exactly the one closed.
TEST(PersistenceTest, AReplayOfManyDecodingWindowsOfMixedWritesGivesBackTheExactState) {
  FaultEnv env;
  ManualClock clock;
  std::mt19937 rng(5);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto text = [&](const std::string& prefix) { return prefix + std::string(static_cast<std::size_t>(pick(40)), 'x'); };
  std::pair<std::vector<Entry>, std::vector<Entry>> closed;
  std::uint64_t records = 0;
  {
    auto repo = Repository::open(kDir, options_for(env, clock, FsyncPolicy::kNone));
    ASSERT_TRUE(repo.ok()) << repo.error().to_string();
    std::vector<Entry> cases;  // the current entry of each live case
    for (int i = 0; i < 14000; ++i) {
      clock.advance(pick(3));
      const int op = pick(100);
      if (op < 70 || cases.empty()) {
        CreateRequest r = request("k" + std::to_string(pick(500)), pick(2) ? "LOAN" : "CARD", pick(2) ? "NEW" : "OPEN");
        if (!cases.empty() && pick(2)) {  // a follow-up of a known case
          const Entry& c = cases[static_cast<std::size_t>(pick(static_cast<int>(cases.size())))];
          r.caseId = c.caseId;
          r.clientId = c.clientId;
          r.caseType = c.caseType;
        }
        if (pick(3) == 0) r.businessKey = text("bk-" + std::to_string(i) + "-");  // its own: joins by caseId only
        if (pick(2)) r.statusDescription = text("d");
        if (pick(2)) r.source = pick(2) ? "PORTAL" : "BRANCH";
        auto e = (*repo)->create(r);
        ASSERT_TRUE(e.ok()) << e.error().to_string();
        std::erase_if(cases, [&](const Entry& c) { return c.caseId == e->caseId; });
        cases.push_back(*e);
      } else if (op < 95) {
        const std::size_t k = static_cast<std::size_t>(pick(static_cast<int>(cases.size())));
        Patch p;
        p.status = pick(2) ? "CLOSED" : "IN_PROGRESS";
        if (pick(3) == 0) p.businessKey = pick(2) ? std::optional<std::string>(text("bk-u")) : std::nullopt;
        if (pick(2)) p.statusDescription = pick(2) ? std::optional<std::string>(text("u")) : std::nullopt;
        if (pick(3) == 0) p.source = pick(2) ? std::optional<std::string>("MOBILE") : std::nullopt;
        if (pick(4) == 0) p.clientType = "NIP";
        auto e = (*repo)->update(cases[k].caseId, p);
        ASSERT_TRUE(e.ok()) << e.error().to_string();
        cases[k] = *e;
      } else {
        const std::size_t k = static_cast<std::size_t>(pick(static_cast<int>(cases.size())));
        ASSERT_TRUE((*repo)->remove(cases[k].caseId).ok());
        cases.erase(cases.begin() + static_cast<std::ptrdiff_t>(k));
      }
      ++records;
    }
    closed = whole_state(**repo);
  }
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ((*repo)->stats().replayedRecords, records);
  ASSERT_GT(records, 3u * 4096);
  const auto reopened = whole_state(**repo);
  EXPECT_EQ(reopened.first, closed.first);
  EXPECT_EQ(reopened.second, closed.second);
}

TEST(PersistenceTest, OpeningAndCheckpointingReportProgress) {
  FaultEnv env;
  ManualClock clock;
  std::vector<Progress> seen;
  std::vector<std::string> tasks;  // Progress::task views die with the call
  Options o = options_for(env, clock);
  o.progress = [&](const Progress& p) {
    seen.push_back(p);
    tasks.emplace_back(p.task);
  };
  {
    auto repo = Repository::open(kDir, o);
    ASSERT_TRUE(repo.ok());
    for (int i = 0; i < 70000; ++i) ASSERT_TRUE((*repo)->create(request("k" + std::to_string(i % 50), "LOAN", "NEW")).ok());
  }
  seen.clear();
  tasks.clear();
  auto repo = Repository::open(kDir, o);
  ASSERT_TRUE(repo.ok());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(tasks.front(), "replaying log");
  EXPECT_EQ(seen.front().done, 65536u);  // a report every 64k records
  EXPECT_TRUE(seen.back().finished);
  EXPECT_EQ(seen.back().done, 70000u);
  seen.clear();
  tasks.clear();
  ASSERT_TRUE((*repo)->checkpoint().ok());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(tasks.back(), "checkpoint: copying");
  EXPECT_TRUE(seen.back().finished);
  EXPECT_EQ(seen.back().done, 70000u);
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

const char* name_of(FsyncPolicy p) {
  return p == FsyncPolicy::kAlways ? "always" : p == FsyncPolicy::kInterval ? "interval" : "none";
}
const char* name_of(FaultEnv::Tear t) {
  switch (t) {
    case FaultEnv::Tear::kDrop: return "drop";
    case FaultEnv::Tear::kPartial: return "partial";
    case FaultEnv::Tear::kZeros: return "zeros";
    case FaultEnv::Tear::kPagesOutOfOrder: return "pages-out-of-order";
    case FaultEnv::Tear::kProcessKill: return "process-kill";
  }
  return "?";
}

// The process dies after its k-th I/O operation, for every k, under every
// policy; then the machine loses unsynced data in each way FaultEnv knows.
// With W writes acknowledged and S of them synced (Stats::syncedSeq), the
// reopened state must be exactly the state after j writes, S <= j <= W+1
// (W+1: the write in flight may have made it); after a process kill nothing
// is lost (j >= W). Out-of-order page loss may instead be Corruption naming
// the log file and offset — then `repair` must give such a state.
TEST(CrashTest, EveryIoOperationEveryPolicyEveryTearKeepsEveryAcknowledgedSyncedWrite) {
  const auto ops = workload(/*description_bytes=*/1500);  // records span pages
  const auto states = expected_states(ops);
  std::map<std::string, int> outcomes;
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kInterval, FsyncPolicy::kNone}) {
    // A long interval keeps the background syncer out of the way, so that
    // the k-th operation is the same in every run.
    auto options = [&](FaultEnv& env, ManualClock& clock) {
      Options o = options_for(env, clock, policy);
      o.fsyncInterval = std::chrono::hours(1);
      return o;
    };
    std::uint64_t total_ops;
    {
      FaultEnv env;
      ManualClock clock;
      auto repo = Repository::open(kDir, options(env, clock));
      ASSERT_TRUE(repo.ok());
      ASSERT_FALSE(run(**repo, clock, ops).failed);
      total_ops = env.mutating_ops();
    }
    ASSERT_GT(total_ops, 40u);
    for (std::uint64_t k = 0; k <= total_ops; ++k) {
      for (auto tear : {FaultEnv::Tear::kDrop, FaultEnv::Tear::kPartial, FaultEnv::Tear::kZeros,
                        FaultEnv::Tear::kPagesOutOfOrder, FaultEnv::Tear::kProcessKill}) {
        const std::string where = std::string(name_of(policy)) + ", crash after op " + std::to_string(k) + ", " +
                                  name_of(tear);
        FaultEnv env;
        ManualClock clock;
        env.die_after(k);
        RunResult r;
        std::uint64_t synced = 0;
        {
          auto repo = Repository::open(kDir, options(env, clock));
          if (repo.ok()) {
            r = run(**repo, clock, ops);
            synced = (*repo)->stats().syncedSeq;
          }
        }
        env.crash(tear, k);
        const std::size_t lowest = tear == FaultEnv::Tear::kProcessKill ? r.acked : synced;
        const std::size_t highest = std::min(r.acked + 1, states.size() - 1);
        auto state_index = [&](const Repository& repo) -> std::optional<std::size_t> {
          const auto state = all_entries(repo);
          for (std::size_t j = lowest; j <= highest; ++j) {
            if (state == states[j]) return j;
          }
          return std::nullopt;
        };
        auto reopened = Repository::open(kDir, options(env, clock));
        if (!reopened.ok()) {
          ASSERT_EQ(tear, FaultEnv::Tear::kPagesOutOfOrder) << where << ": " << reopened.error().to_string();
          ASSERT_EQ(reopened.error().code(), ErrorCode::kCorruption) << where;
          ASSERT_NE(reopened.error().message().find(kDir + "/log-"), std::string::npos) << where;
          ASSERT_NE(reopened.error().message().find(" at offset "), std::string::npos) << where;
          auto repaired = repair(kDir, options(env, clock));
          ASSERT_TRUE(repaired.ok()) << where << ": " << repaired.error().to_string();
          reopened = Repository::open(kDir, options(env, clock));
          ASSERT_TRUE(reopened.ok()) << where << " after repair: " << reopened.error().to_string();
          ASSERT_TRUE(state_index(**reopened)) << where << " after repair: " << r.acked << " acknowledged, " << synced
                                               << " synced";
          ++outcomes["corruption, repaired"];
        } else {
          ASSERT_TRUE(state_index(**reopened)) << where << ": " << r.acked << " acknowledged, " << synced << " synced";
          ++outcomes[(*reopened)->stats().tailRepair.empty() ? "opened" : "opened after cutting a torn tail"];
        }
        ASSERT_TRUE((*reopened)->create(request("after", "CARD", "NEW")).ok()) << where;  // the log takes writes
      }
    }
  }
  for (const auto& [outcome, n] : outcomes) std::cout << "[ counts   ] " << outcome << ": " << n << "\n";
  EXPECT_GT(outcomes["opened after cutting a torn tail"], 0);  // torn tails really happened and were cut
  EXPECT_GT(outcomes["corruption, repaired"], 0);               // and lost pages out of order
}

TEST(CrashTest, CuttingATornTailIsDurableBeforeAnyWrite) {
  FaultEnv env;
  ManualClock clock;
  const std::string log = log_after_creates(env, clock, 3);
  env.set_file(log, env.files()[log].substr(0, env.files()[log].size() - 7));  // the last record, torn
  const std::size_t before = env.trace().size();
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(repo.ok());
  EXPECT_FALSE((*repo)->stats().tailRepair.empty());
  ASSERT_TRUE((*repo)->create(request("k", "LOAN", "NEW")).ok());
  const auto trace = env.trace();
  std::vector<std::string> seen(trace.begin() + static_cast<std::ptrdiff_t>(before), trace.end());
  auto at = [&](const std::string& line) { return std::find(seen.begin(), seen.end(), line) - seen.begin(); };
  const auto cut = at("truncate " + log), sync = at("sync " + log), dir_sync = at("sync_dir " + kDir),
             append = at("append " + log);
  ASSERT_LT(cut, static_cast<std::ptrdiff_t>(seen.size()));
  EXPECT_LT(cut, sync);
  EXPECT_LT(sync, dir_sync);
  EXPECT_LT(dir_sync, append);
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

TEST(CheckpointTest, ReportsTheSnapshotFilesSize) {
  FaultEnv env;
  ManualClock clock;
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(repo.ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE((*repo)->create(request("k" + std::to_string(i % 5), "LOAN", "NEW")).ok());
  auto info = (*repo)->checkpoint();
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  EXPECT_EQ(info->entries, 50u);
  const std::string snapshot = env.files()[kDir + "/snapshot-00000000000000000050.snap"];
  ASSERT_FALSE(snapshot.empty());
  EXPECT_EQ(info->bytes, snapshot.size());
  auto again = (*repo)->checkpoint();  // nothing new
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->bytes, 0u);
}

// The copy is made in chunks with writes in between; whatever they change,
// the snapshot must be the state at the seq it covers, so that the log after
// it replays onto it exactly.
TEST(CheckpointTest, WritesDuringTheCopyLeaveAConsistentSnapshot) {
  FaultEnv env;
  workload::SimulatedClock clock(workload::kDefaultStart);
  Options o;
  o.env = &env;
  o.clock = clock.function();
  o.fsync = FsyncPolicy::kNone;
  o.checkpointLogBytes = 0;
  std::vector<Entry> state;
  std::uint64_t checkpoints = 0;
  {
    auto repo = Repository::open(kDir, o);
    ASSERT_TRUE(repo.ok());
    auto cases = workload::fill(**repo, clock, 30000, 5);
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 2; ++w) {
      writers.emplace_back([&, w] {
        std::mt19937_64 rng(w);
        workload::Generator gen(30000, 50 + w);
        for (int i = 0; !stop.load(); ++i) {
          clock.advance(std::chrono::milliseconds(1));
          const std::string& id = cases[rng() % cases.size()];
          switch (i % 4) {
            case 0: {
              Patch p;
              p.status = "IN_PROGRESS";
              (void)(*repo)->update(id, p);
              break;
            }
            case 1: (void)(*repo)->remove(id); break;
            default: {
              CreateRequest r = gen.next();
              r.caseId.reset();
              r.businessKey.reset();
              auto e = (*repo)->create(r);
              if (e.ok()) gen.created(*e);
            }
          }
        }
      });
    }
    for (int c = 0; c < 3; ++c) {
      auto info = (*repo)->checkpoint();
      ASSERT_TRUE(info.ok()) << info.error().to_string();
      checkpoints += info->bytes > 0;
    }
    stop = true;
    for (auto& t : writers) t.join();
    state = all_entries(**repo);
  }
  EXPECT_EQ(checkpoints, 3u);
  auto repo = Repository::open(kDir, o);
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_GT((*repo)->stats().recoveredSnapshotEntries, 0u);
  EXPECT_EQ(all_entries(**repo), state);
}

}  // namespace
}  // namespace caserepo::testing
