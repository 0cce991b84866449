// I/O errors: a failed append or fsync gives a typed error, turns the
// repository read-only and changes nothing — for the caller, for readers
// (who never saw the write), and after a restart (the write was cut off the
// log again). A failed checkpoint leaves the repository writable.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "support/fault_env.h"
#include "support/fixtures.h"
#include "support/persistence_workload.h"

namespace caserepo::testing {
namespace {

const std::string& kDir = kDataDir;

struct IoFault {
  const char* name;
  FaultEnv::Op op;
  FaultEnv::Fault fault;
};

class IoErrorTest : public ::testing::TestWithParam<IoFault> {};

TEST_P(IoErrorTest, GivesATypedErrorAndLeavesExactlyTheAcknowledgedState) {
  const auto ops = workload();
  const auto states = expected_states(ops);
  const IoFault f = GetParam();
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kNone}) {
    // Fail the 3rd operation of the kind after open, whatever it is.
    FaultEnv env;
    ManualClock clock;
    auto repo = Repository::open(kDir, options_for(env, clock, policy));
    ASSERT_TRUE(repo.ok());
    env.fail_at(2, f.op, f.fault);
    RunResult r = run(**repo, clock, ops);
    if (policy == FsyncPolicy::kAlways) {
      ASSERT_TRUE(r.failed) << "the fault never fired";
    }
    if (!r.failed) continue;  // `none` may make too few calls of the kind
    std::size_t op = 0;
    for (std::size_t writes = 0; op < ops.size(); ++op) {
      if (ops[op].kind != Op::kCheckpoint && writes++ == r.acked) break;
      if (ops[op].kind == Op::kCheckpoint && writes == r.acked) break;
    }
    const bool checkpoint_failed = ops[op].kind == Op::kCheckpoint;
    // Nothing changed, for anybody: the failed write is not visible.
    EXPECT_EQ(all_entries(**repo), states[r.acked]);
    const Stats s = (*repo)->stats();
    EXPECT_EQ(s.readOnly, !checkpoint_failed) << "a failed checkpoint leaves the log intact and writable";
    auto next = (*repo)->create(request("x", "LOAN", "NEW"));
    if (checkpoint_failed) {
      ASSERT_TRUE(next.ok()) << next.error().to_string();
    } else {
      ASSERT_FALSE(next.ok());
      EXPECT_EQ(next.error().code(), ErrorCode::kReadOnly);
    }
    EXPECT_TRUE((*repo)->search({}).ok());  // reads still work
    const auto before_restart = all_entries(**repo);
    repo->reset();
    env.crash(FaultEnv::Tear::kProcessKill);
    auto reopened = Repository::open(kDir, options_for(env, clock, policy));
    ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
    EXPECT_EQ(all_entries(**reopened), before_restart);  // and no restart brings the failed write back
    EXPECT_TRUE((*reopened)->create(request("after", "CARD", "NEW")).ok());
  }
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

// Visible means durable: while a write's fsync is in progress, readers do
// not see it; when that fsync fails, they never will.
TEST(VisibilityTest, AReaderCannotObserveAWriteWhoseFsyncThenFails) {
  FaultEnv env;
  ManualClock clock;
  auto repo = Repository::open(kDir, options_for(env, clock, FsyncPolicy::kAlways));
  ASSERT_TRUE(repo.ok());
  ASSERT_TRUE((*repo)->create([] {
    CreateRequest r = request("k0", "LOAN", "NEW");
    r.caseId = "before";
    return r;
  }()).ok());
  std::promise<void> syncing, release;
  auto released = release.get_future().share();
  std::atomic<bool> armed{true};
  env.on_sync([&](const std::string&) -> std::optional<Error> {
    if (!armed.exchange(false)) return std::nullopt;
    syncing.set_value();
    released.wait();
    return Error::IOError("injected: the disk failed during fsync");
  });
  auto writer = std::async(std::launch::async, [&] {
    CreateRequest r = request("k1", "LOAN", "NEW");
    r.caseId = "doomed";
    return (*repo)->create(r);
  });
  syncing.get_future().wait();  // the record is in the log, its fsync is running
  EXPECT_FALSE((*repo)->get("doomed").ok());
  Filter by_client;
  by_client.clientId = {"k1"};
  EXPECT_EQ((*repo)->search(by_client)->totalElements, 0u);
  EXPECT_EQ((*repo)->stats().entries, 1u);
  release.set_value();
  auto result = writer.get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kIOError);
  EXPECT_FALSE((*repo)->get("doomed").ok());
  EXPECT_EQ((*repo)->search(by_client)->totalElements, 0u);
  EXPECT_TRUE((*repo)->stats().readOnly);
  env.on_sync(nullptr);
  repo->reset();
  env.crash(FaultEnv::Tear::kProcessKill);
  auto reopened = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  EXPECT_TRUE((*reopened)->get("before").ok());
  EXPECT_FALSE((*reopened)->get("doomed").ok());
}

TEST(CheckpointFailureTest, AFailedLogRotationLeavesTheRepositoryWritable) {
  FaultEnv env;
  ManualClock clock;
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(repo.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*repo)->create(request("k", "LOAN", "NEW")).ok());
  env.fail_at(0, FaultEnv::Op::kOpen, FaultEnv::Fault::kENOSPC);  // the new segment cannot be made
  auto failed = (*repo)->checkpoint();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), ErrorCode::kIOError);
  EXPECT_FALSE((*repo)->stats().readOnly);
  ASSERT_TRUE((*repo)->create(request("k", "LOAN", "NEW")).ok());
  auto retried = (*repo)->checkpoint();
  ASSERT_TRUE(retried.ok()) << retried.error().to_string();
  ASSERT_TRUE((*repo)->create(request("k", "LOAN", "NEW")).ok());
  const auto state = all_entries(**repo);
  repo->reset();
  auto reopened = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  EXPECT_EQ(all_entries(**reopened), state);
}

}  // namespace
}  // namespace caserepo::testing
