// verify and repair: recovery run on a directory that is not open, read
// only or point in time (include/caserepo/maintenance.h).
#include "caserepo/maintenance.h"

#include "caserepo/env.h"
#include "db/recovery.h"
#include "storage/format.h"

namespace caserepo {
namespace {

// Runs recovery on `dir` under its lock, into a scratch store.
template <class F>
auto with_directory(const std::string& dir, const Options& options, F&& f) -> decltype(f(std::declval<Env&>())) {
  Env& env = options.env ? *options.env : *Env::posix();
  if (!env.exists(dir)) return Error::IOError(dir + " does not exist");
  auto lock = env.lock_file(dir + "/" + storage::kLockName);
  if (!lock.ok()) return lock.error();
  return f(env);
}

}  // namespace

Result<VerifyReport> verify(const std::string& dir, const Options& options) {
  return with_directory(dir, options, [&](Env& env) -> Result<VerifyReport> {
    engine::Store store;
    auto recovered = db::recover(env, dir, store, RecoveryMode::kTolerateTornTail, /*read_only=*/true, options.progress);
    if (!recovered.ok()) return recovered.error();
    const db::RecoveryReport& r = recovered->report;
    VerifyReport v;
    v.snapshotSeq = r.snapshot_seq;
    v.snapshotEntries = r.snapshot_entries;
    v.segments = r.segments;
    v.replayedRecords = r.replayed_records;
    v.lastSeq = r.last_seq;
    v.entries = store.entry_count();
    v.cases = store.case_count();
    v.tornTail = r.tail_reason;
    v.tornTailBytes = r.tail_bytes;
    v.obsoleteFiles = r.obsolete;
    return v;
  });
}

Result<RepairReport> repair(const std::string& dir, const Options& options, bool dryRun) {
  return with_directory(dir, options, [&](Env& env) -> Result<RepairReport> {
    engine::Store store;
    auto recovered = db::recover(env, dir, store, RecoveryMode::kPointInTime, /*read_only=*/dryRun, options.progress);
    if (!recovered.ok()) return recovered.error();
    RepairReport r = recovered->report.repair;
    r.lastSeq = recovered->report.last_seq;
    r.entries = store.entry_count();
    return r;
  });
}

}  // namespace caserepo
