// Stream commands (Repository::applyStream): each command's write and its
// position are durable together, so after a crash at any I/O operation the
// repository holds exactly the commands up to its streamPosition() — no
// command lost that was acknowledged, none applied twice when the stream is
// delivered again — and the same commands give the same state on any node.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <map>
#include <optional>

#include "caserepo/caserepo.h"
#include "json/wire.h"
#include "support/fault_env.h"
#include "support/fixtures.h"
#include "support/persistence_workload.h"

namespace caserepo::testing {
namespace {

const std::string kDir = "/stream";

StreamCommand create_command(std::uint64_t position, std::optional<std::string> caseId, std::string client,
                             std::optional<std::string> businessKey, std::string status) {
  StreamCommand c;
  c.kind = StreamCommand::Kind::kCreate;
  c.create = request(std::move(client), "LOAN", std::move(status));
  c.create.caseId = std::move(caseId);
  c.create.businessKey = std::move(businessKey);
  c.position = position;
  c.time = Timestamp(std::chrono::milliseconds(1767225600000LL + 1000 * static_cast<std::int64_t>(position)));
  return c;
}

StreamCommand update_command(std::uint64_t position, std::string caseId, std::string status) {
  StreamCommand c;
  c.kind = StreamCommand::Kind::kUpdate;
  c.caseId = std::move(caseId);
  c.patch.status = std::move(status);
  c.position = position;
  c.time = Timestamp(std::chrono::milliseconds(1767225600000LL + 1000 * static_cast<std::int64_t>(position)));
  return c;
}

StreamCommand remove_command(std::uint64_t position, std::string caseId) {
  StreamCommand c;
  c.kind = StreamCommand::Kind::kRemove;
  c.caseId = std::move(caseId);
  c.position = position;
  return c;
}

// Forty commands at positions 3, 5, 7, ... (a filtered stream skips some):
// creates with and without caseId (those start cases whose caseId derives
// from the position, or join by businessKey), updates, removes. None is refused.
std::vector<StreamCommand> commands() {
  std::vector<StreamCommand> out;
  std::uint64_t position = 1;
  auto next = [&] { return position += 2; };
  for (int i = 0; i < 10; ++i) {
    const std::string n = std::to_string(i);
    out.push_back(create_command(next(), "case-" + n, "client-" + n, std::nullopt, "NEW"));
    out.push_back(create_command(next(), std::nullopt, "client-" + n, "BK-" + n, "OPEN"));
    out.push_back(create_command(next(), std::nullopt, "client-" + n, "BK-" + n, "IN_PROGRESS"));  // joins BK-n
    if (i % 3 == 2) {
      out.push_back(remove_command(next(), "case-" + std::to_string(i - 1)));
    } else {
      out.push_back(update_command(next(), "case-" + n, "CLOSED"));
    }
  }
  return out;
}

std::string state_of(const Repository& repo) {
  std::string out;
  for (const Entry& e : all_entries(repo)) out += json::to_json(e).dump() + "\n";
  return out;
}

// states[j]: the state after the first j commands (and their positions).
struct Reference {
  std::vector<std::string> states;
  std::map<std::uint64_t, std::size_t> taken;  // position -> how many commands that makes
};
Reference reference(const std::vector<StreamCommand>& cmds) {
  Reference ref;
  Repository repo;
  ref.states.push_back(state_of(repo));
  ref.taken[0] = 0;
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    const StreamApplied a = repo.applyStream({&cmds[i], 1});
    EXPECT_EQ(a.applied, 1u);
    EXPECT_FALSE(a.stopped) << a.stopped->to_string();
    ref.states.push_back(state_of(repo));
    ref.taken[cmds[i].position] = i + 1;
  }
  return ref;
}

// A long interval keeps the background syncer out of the way: the k-th I/O
// operation is the same in every run.
Options stream_options(FaultEnv& env, ManualClock& clock, FsyncPolicy policy) {
  Options o = options_for(env, clock, policy);
  o.fsyncInterval = std::chrono::hours(1);
  return o;
}

TEST(StreamTest, AppliesInOrderStampsWithTheStreamTimeAndDerivesNewCaseIdsFromThePosition) {
  const auto cmds = commands();
  ManualClock clock;  // never moves: the stamps must come from the commands
  Options options;
  options.clock = clock.function();
  Repository repo(options);
  const StreamApplied a = repo.applyStream(cmds);
  EXPECT_EQ(a.applied, cmds.size());
  EXPECT_EQ(a.duplicates, 0u);
  EXPECT_FALSE(a.stopped);
  EXPECT_EQ(repo.streamPosition(), cmds.back().position);
  EXPECT_EQ(repo.stats().streamPosition, cmds.back().position);

  auto first = repo.get("case-0");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->creationDate, cmds[0].time);
  EXPECT_EQ(first->updateDate, cmds[3].time);  // the update at position 9
  EXPECT_EQ(first->status, "CLOSED");

  // The create at position 5 started a case; the one at 7 joined it by businessKey.
  Filter by_key;
  by_key.businessKey = {"BK-0"};
  auto joined = repo.search(by_key);
  ASSERT_TRUE(joined.ok());
  ASSERT_EQ(joined->totalElements, 2u);
  EXPECT_EQ(joined->content[0].caseId, joined->content[1].caseId);
  EXPECT_EQ(joined->content[0].caseId.size(), 36u);

  // Another node, with another clock, applying the same commands in other
  // batches, holds exactly the same state: dates and generated caseIds included.
  ManualClock other_clock;
  other_clock.advance(123456789);
  Options other_options;
  other_options.clock = other_clock.function();
  Repository other(other_options);
  for (std::size_t i = 0; i < cmds.size(); i += 7) {
    const std::size_t n = std::min<std::size_t>(7, cmds.size() - i);
    EXPECT_EQ(other.applyStream({cmds.data() + i, n}).applied, n);
  }
  EXPECT_EQ(state_of(other), state_of(repo));
  EXPECT_EQ(state_of(repo), reference(cmds).states.back());
}

TEST(StreamTest, CommandsDeliveredAgainAreNotAppliedTwice) {
  const auto cmds = commands();
  Repository repo;
  EXPECT_EQ(repo.applyStream({cmds.data(), 20}).applied, 20u);
  const std::string after_twenty = state_of(repo);
  // Redelivery of 10..29: the first ten are duplicates, the rest new.
  const StreamApplied again = repo.applyStream({cmds.data() + 10, 20});
  EXPECT_EQ(again.applied, 20u);
  EXPECT_EQ(again.duplicates, 10u);
  EXPECT_FALSE(again.stopped);
  EXPECT_EQ(repo.streamPosition(), cmds[29].position);
  const StreamApplied all_old = repo.applyStream({cmds.data(), 30});
  EXPECT_EQ(all_old.applied, 30u);
  EXPECT_EQ(all_old.duplicates, 30u);
  EXPECT_EQ(state_of(repo), reference({cmds.begin(), cmds.begin() + 30}).states.back());
  EXPECT_NE(state_of(repo), after_twenty);
}

TEST(StreamTest, StopsAtARefusedCommandWhoseSkipThenTakesThePosition) {
  auto cmds = commands();
  Repository repo;
  // Position 100: an update of a case that does not exist; 101: an invalid create.
  std::vector<StreamCommand> batch(cmds.begin(), cmds.begin() + 4);
  batch.push_back(update_command(100, "no-such-case", "OPEN"));
  batch.push_back(create_command(101, "case-x", "client-x", std::nullopt, ""));
  batch.push_back(create_command(102, "case-y", "client-y", std::nullopt, "NEW"));
  const StreamApplied a = repo.applyStream(batch);
  EXPECT_EQ(a.applied, 4u);
  ASSERT_TRUE(a.stopped);
  EXPECT_EQ(a.stopped->code(), ErrorCode::kNotFound);
  EXPECT_EQ(repo.streamPosition(), cmds[3].position);
  EXPECT_FALSE(repo.get("case-y").ok());  // nothing after the refused one

  // The consumer dead-letters it, then skips its position and goes on.
  StreamCommand skip;
  skip.position = 100;
  std::vector<StreamCommand> rest{skip, batch[5], batch[6]};
  const StreamApplied b = repo.applyStream(rest);
  EXPECT_EQ(b.applied, 1u);
  ASSERT_TRUE(b.stopped);
  EXPECT_EQ(b.stopped->code(), ErrorCode::kInvalidArgument);  // the create with an empty status
  EXPECT_EQ(repo.streamPosition(), 100u);
  skip.position = 101;
  std::vector<StreamCommand> last{skip, batch[6]};
  const StreamApplied c = repo.applyStream(last);
  EXPECT_EQ(c.applied, 2u);
  EXPECT_FALSE(c.stopped);
  EXPECT_EQ(repo.streamPosition(), 102u);
  EXPECT_TRUE(repo.get("case-y").ok());
  EXPECT_EQ(repo.stats().entries, 4u);  // three creates (an update adds none), and case-y
}

TEST(StreamTest, ThePositionSurvivesReplayAndCheckpoint) {
  const auto cmds = commands();
  FaultEnv env;
  ManualClock clock;
  const Reference ref = reference(cmds);
  {
    auto repo = Repository::open(kDir, stream_options(env, clock, FsyncPolicy::kAlways));
    ASSERT_TRUE(repo.ok());
    EXPECT_EQ((*repo)->applyStream({cmds.data(), 25}).applied, 25u);
  }
  {
    auto repo = Repository::open(kDir, stream_options(env, clock, FsyncPolicy::kAlways));
    ASSERT_TRUE(repo.ok());
    EXPECT_EQ((*repo)->stats().replayedRecords, 25u);
    EXPECT_EQ((*repo)->streamPosition(), cmds[24].position);
    EXPECT_EQ(state_of(**repo), ref.states[25]);
    ASSERT_TRUE((*repo)->checkpoint().ok());
    EXPECT_EQ((*repo)->applyStream({cmds.data() + 25, 5}).applied, 5u);
    ASSERT_TRUE((*repo)->create(request("rest-client", "CARD", "NEW")).ok());  // a write not from the stream
  }
  auto repo = Repository::open(kDir, stream_options(env, clock, FsyncPolicy::kAlways));
  ASSERT_TRUE(repo.ok());
  EXPECT_EQ((*repo)->stats().recoveredSnapshotEntries,
            static_cast<std::uint64_t>(std::count(ref.states[25].begin(), ref.states[25].end(), '\n')));
  EXPECT_EQ((*repo)->stats().replayedRecords, 6u);
  EXPECT_EQ((*repo)->streamPosition(), cmds[29].position);
}

TEST(StreamTest, EveryCommittedWriteIsReportedOnceInLogOrder) {
  const auto cmds = commands();
  FaultEnv env;
  ManualClock clock;
  struct Seen {
    Change::Kind kind;
    std::uint64_t seq;
    std::string caseId;
    std::string status;  // of the entry, if any
    std::uint64_t removed, position;
  };
  std::vector<Seen> seen;
  Options options = stream_options(env, clock, FsyncPolicy::kAlways);
  options.onChange = [&](const Change& c) {
    seen.push_back({c.kind, c.seq, std::string(c.caseId), c.entry ? c.entry->status : "", c.removed, c.streamPosition});
  };
  auto repo = Repository::open(kDir, options);
  ASSERT_TRUE(repo.ok());
  ASSERT_TRUE((*repo)->create(request("api-client", "CARD", "NEW")).ok());
  StreamCommand skip;
  skip.position = 2;
  std::vector<StreamCommand> batch{skip};
  batch.insert(batch.end(), cmds.begin(), cmds.begin() + 12);  // the 12th removes case-1
  EXPECT_EQ((*repo)->applyStream(batch).applied, 13u);
  ASSERT_EQ(seen.size(), 13u);  // one API create, twelve stream writes; the skip is no change
  EXPECT_EQ(seen[0].position, 0u);
  EXPECT_EQ(seen[0].status, "NEW");
  for (std::size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].seq, i + 2);  // log seq: 1 the API create, 2 the skip
    EXPECT_EQ(seen[i].position, cmds[i - 1].position);
  }
  EXPECT_EQ(seen[4].kind, Change::Kind::kUpdate);
  EXPECT_EQ(seen[4].caseId, "case-0");
  EXPECT_EQ(seen[4].status, "CLOSED");
  EXPECT_EQ(seen[12].kind, Change::Kind::kRemove);
  EXPECT_EQ(seen[12].caseId, "case-1");
  EXPECT_EQ(seen[12].removed, 1u);
  EXPECT_EQ(seen[12].status, "");
  EXPECT_EQ((*repo)->stats().lastSeq, 14u);
}

// What onChange is told of one write, copied (its views die with the call).
struct Reported {
  Change::Kind kind;
  std::uint64_t seq;
  std::string caseId, caseType;
  std::optional<Entry> entry;
  std::uint64_t removed, position;
  bool operator==(const Reported&) const = default;
};

std::function<void(const Change&)> record_into(std::vector<Reported>& out) {
  return [&out](const Change& c) {
    out.push_back({c.kind, c.seq, std::string(c.caseId), std::string(c.caseType),
                   c.entry ? std::optional<Entry>(*c.entry) : std::nullopt, c.removed, c.streamPosition});
  };
}

// An API create, a skip and twelve stream writes (creates, updates, a remove).
void write_mixed(Repository& repo, const std::vector<StreamCommand>& cmds) {
  ASSERT_TRUE(repo.create(request("api-client", "CARD", "NEW")).ok());
  StreamCommand skip;
  skip.position = 2;
  std::vector<StreamCommand> batch{skip};
  batch.insert(batch.end(), cmds.begin(), cmds.begin() + 12);
  ASSERT_EQ(repo.applyStream(batch).applied, 13u);
}

// A change feed killed with events unpublished passes the seq up to which
// it knows them published: open reports every logged write after it again,
// exactly as the live write reported it, and nothing without it.
TEST(StreamTest, OpenReportsTheLoggedWritesAfterReplayChangesAfterAsTheyWereReported) {
  const auto cmds = commands();
  FaultEnv env;
  ManualClock clock;
  std::vector<Reported> live;
  {
    Options options = stream_options(env, clock, FsyncPolicy::kAlways);
    options.onChange = record_into(live);
    auto repo = Repository::open(kDir, options);
    ASSERT_TRUE(repo.ok());
    write_mixed(**repo, cmds);
  }
  ASSERT_EQ(live.size(), 13u);
  for (const std::uint64_t after : {std::uint64_t{0}, live[5].seq - 1, live[12].seq}) {
    std::vector<Reported> replayed;
    Options options = stream_options(env, clock, FsyncPolicy::kAlways);
    options.onChange = record_into(replayed);
    options.replayChangesAfter = after;
    auto repo = Repository::open(kDir, options);
    ASSERT_TRUE(repo.ok());
    std::vector<Reported> want;
    std::copy_if(live.begin(), live.end(), std::back_inserter(want), [&](const Reported& r) { return r.seq > after; });
    EXPECT_EQ(replayed, want) << "after seq " << after;
  }
  std::vector<Reported> none;
  Options options = stream_options(env, clock, FsyncPolicy::kAlways);
  options.onChange = record_into(none);
  ASSERT_TRUE(Repository::open(kDir, options).ok());
  EXPECT_TRUE(none.empty());
}

// A checkpoint lets go of the log only when beforeLogDropped agrees (a
// change feed has published the writes up to the seq it covers): refused,
// the log stays and open can still report every write.
TEST(StreamTest, ACheckpointKeepsTheLogWhileBeforeLogDroppedRefuses) {
  const auto cmds = commands();
  FaultEnv env;
  ManualClock clock;
  std::vector<Reported> live;
  std::vector<std::uint64_t> asked;
  bool agree = false;
  Options options = stream_options(env, clock, FsyncPolicy::kAlways);
  options.onChange = record_into(live);
  options.beforeLogDropped = [&](std::uint64_t seq) {
    asked.push_back(seq);
    return agree;
  };
  {
    auto repo = Repository::open(kDir, options);
    ASSERT_TRUE(repo.ok());
    write_mixed(**repo, cmds);
    auto refused = (*repo)->checkpoint();
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kIOError);
    EXPECT_EQ(asked, std::vector<std::uint64_t>{14});
    ASSERT_TRUE((*repo)->create(request("api-client-2", "LOAN", "NEW")).ok());  // the log goes on after a refusal
  }
  std::vector<Reported> replayed;
  Options reopen = options;
  reopen.onChange = record_into(replayed);
  reopen.replayChangesAfter = 0;
  agree = true;
  {
    auto repo = Repository::open(kDir, reopen);
    ASSERT_TRUE(repo.ok());
    EXPECT_EQ(replayed, live);  // all 14: nothing was dropped
    EXPECT_EQ((*repo)->stats().recoveredSnapshotEntries, 0u);
    auto done = (*repo)->checkpoint();
    ASSERT_TRUE(done.ok()) << done.error().to_string();
    EXPECT_EQ(done->seq, 15u);
    EXPECT_EQ(asked, (std::vector<std::uint64_t>{14, 15}));
  }
  replayed.clear();
  auto repo = Repository::open(kDir, reopen);
  ASSERT_TRUE(repo.ok());
  EXPECT_TRUE(replayed.empty());  // the snapshot holds them; the log before it is gone
  EXPECT_GT((*repo)->stats().recoveredSnapshotEntries, 0u);
}

// The process dies after its k-th I/O operation, for every k; the machine
// then keeps every synced byte (fsync always) or everything the kernel had
// (a process kill). The reopened repository holds exactly the commands up to
// its position, every acknowledged one among them; delivering the whole
// stream again then gives exactly the full reference state.
TEST(StreamTest, ACrashAtAnyIoOperationLeavesExactlyTheCommandsUpToThePosition) {
  const auto cmds = commands();
  const Reference ref = reference(cmds);
  std::uint64_t total_ops;
  {
    FaultEnv env;
    ManualClock clock;
    auto repo = Repository::open(kDir, stream_options(env, clock, FsyncPolicy::kAlways));
    ASSERT_TRUE(repo.ok());
    for (std::size_t i = 0; i < cmds.size(); i += 3) {
      (*repo)->applyStream({cmds.data() + i, std::min<std::size_t>(3, cmds.size() - i)});
      if (i == 18) {
        ASSERT_TRUE((*repo)->checkpoint().ok());
      }
    }
    total_ops = env.mutating_ops();
  }
  ASSERT_GT(total_ops, 20u);
  for (std::uint64_t k = 0; k <= total_ops; ++k) {
    for (auto tear : {FaultEnv::Tear::kDrop, FaultEnv::Tear::kPartial, FaultEnv::Tear::kProcessKill}) {
      const std::string where = "crash after op " + std::to_string(k) + ", tear " + std::to_string(static_cast<int>(tear));
      FaultEnv env;
      ManualClock clock;
      env.die_after(k);
      std::size_t acked = 0;
      {
        auto repo = Repository::open(kDir, stream_options(env, clock, FsyncPolicy::kAlways));
        if (repo.ok()) {
          for (std::size_t i = 0; i < cmds.size(); i += 3) {
            const StreamApplied a = (*repo)->applyStream({cmds.data() + i, std::min<std::size_t>(3, cmds.size() - i)});
            acked += a.applied;
            if (a.stopped) break;
            if (i == 18 && !(*repo)->checkpoint().ok()) break;
          }
        }
      }
      env.crash(tear, k);
      auto repo = Repository::open(kDir, stream_options(env, clock, FsyncPolicy::kAlways));
      ASSERT_TRUE(repo.ok()) << where << ": " << repo.error().to_string();
      const std::uint64_t position = (*repo)->streamPosition();
      ASSERT_EQ(ref.taken.count(position), 1u) << where << ": position " << position;
      const std::size_t taken = ref.taken.at(position);
      ASSERT_GE(taken, acked) << where;  // every acknowledged command is there
      ASSERT_EQ(state_of(**repo), ref.states[taken]) << where << ": position " << position;
      const StreamApplied resumed = (*repo)->applyStream(cmds);
      ASSERT_EQ(resumed.applied, cmds.size()) << where;
      ASSERT_EQ(resumed.duplicates, taken) << where;
      ASSERT_EQ(state_of(**repo), ref.states.back()) << where;
    }
  }
}

}  // namespace
}  // namespace caserepo::testing
