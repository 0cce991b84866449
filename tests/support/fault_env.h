// FaultEnv: an in-memory file system that remembers what is durable, so a
// test can crash it (dropping or tearing unsynced bytes, and directory
// changes not yet fsynced) and inject I/O errors into any operation.
//
// Durability model (ext4 data=ordered, roughly): a file's bytes are durable
// up to its last sync(); a name (creation, rename, removal) is durable after
// sync_dir() of its directory. A crash keeps the durable state and, per
// Tear, some of the unsynced bytes: none, a random prefix, a prefix read
// back as zeros (a file extended but not written), whole 4 KiB pages kept
// or lost independently (an earlier page lost, a later one kept — lost
// pages read as zeros), or all of them (a process kill: the kernel has them).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "caserepo/env.h"

namespace caserepo::testing {

class FaultEnv final : public Env {
 public:
  enum class Fault { kEIO, kENOSPC, kShortWrite };
  enum class Op { kAny, kAppend, kSync, kRename, kOpen, kSyncDir, kTruncate, kRemove };
  enum class Tear { kDrop, kPartial, kZeros, kPagesOutOfOrder, kProcessKill };

  // Every mutating operation (open, append, sync, rename, remove, truncate,
  // sync_dir) counts; the k-th (0-based) of kind `op` fails with `fault`.
  void fail_at(std::uint64_t k, Op op, Fault fault);
  // After `k` mutating operations every further one fails: the process died.
  void die_after(std::uint64_t k);
  // Drops what a crash would lose; afterwards the env works again.
  void crash(Tear tear, std::uint64_t seed = 1);
  std::uint64_t mutating_ops() const;
  // Every mutating operation so far, as "op path" lines ("sync /d/log-...").
  std::vector<std::string> trace() const;
  // Called (outside the env's lock) at the start of every file sync, with
  // the file's path: a test can hold a sync there, or make it fail by
  // returning an error.
  void on_sync(std::function<std::optional<Error>(const std::string&)> hook);

  // Direct access to file contents (the live view), for corruption tests.
  std::map<std::string, std::string> files() const;
  void set_file(const std::string& path, std::string data);  // durable at once

  Result<std::unique_ptr<WritableFile>> open_writable(const std::string& path, bool truncate) override;
  Result<std::string> read_file(const std::string& path, std::uint64_t max_bytes) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status truncate(const std::string& path, std::uint64_t size) override;
  Status sync_dir(const std::string& dir) override;
  Status create_dir(const std::string& dir) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  bool exists(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override;

 private:
  struct Inode {
    std::string data;
    std::size_t synced = 0;
  };
  class File;
  class Lock;
  friend class File;
  friend class Lock;

  // REQUIRES: mu_ held. The injected fault for the next operation of kind `op`, if any.
  std::optional<Error> tick(Op op, const std::string& path, Fault* fault = nullptr);
  static std::string dir_of(const std::string& path);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Inode>> live_;
  std::map<std::string, std::shared_ptr<Inode>> durable_;  // names as the disk has them
  std::set<std::string> dirs_;  // directories (never lost: they exist before a test's files)
  std::vector<std::string> trace_;
  std::function<std::optional<Error>(const std::string&)> on_sync_;
  std::set<std::string> locks_;
  std::uint64_t ops_ = 0;
  std::map<Op, std::uint64_t> ops_by_kind_;
  std::optional<std::uint64_t> die_after_;
  struct Planned {
    std::uint64_t k;
    Op op;
    Fault fault;
  };
  std::optional<Planned> planned_;
};

}  // namespace caserepo::testing
