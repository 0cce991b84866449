// Journal: appends framed records to the current log segment and makes them
// durable according to the fsync policy (group commit for kAlways, a
// background syncer for kInterval). Any write or sync error is sticky: the
// journal refuses everything after it and never retries an fsync.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "caserepo/env.h"
#include "caserepo/options.h"
#include "storage/format.h"

namespace caserepo::storage {

class Journal {
 public:
  // `file`: the open current segment, whose records end at next_seq - 1.
  Journal(Env& env, std::string dir, FsyncPolicy policy, std::chrono::milliseconds interval,
          std::unique_ptr<WritableFile> file, std::uint64_t next_seq);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one record; its bytes are in the OS's hands on return.
  // REQUIRES: appends are serialized by the caller.
  Result<std::uint64_t> append(RecordType type, std::string_view payload);
  // Returns once record `seq` is as durable as the policy promises.
  Status wait_durable(std::uint64_t seq);
  // Syncs and closes the current segment and starts log-<next seq>.log.
  // REQUIRES: no append runs meanwhile.
  Status rotate();
  Status sync_now();

  std::optional<Error> failure() const;
  std::uint64_t last_seq() const;
  std::uint64_t synced_seq() const;
  std::uint64_t bytes_since_rotate() const;
  std::uint64_t syncs() const;

 private:
  Status sync_locked(std::unique_lock<std::mutex>& lock);  // as the group's leader
  Status sync_until(std::unique_lock<std::mutex>& lock, std::uint64_t seq);
  Status fail(Error e);
  void interval_loop();

  Env& env_;
  std::string dir_;
  FsyncPolicy policy_;
  std::chrono::milliseconds interval_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<WritableFile> file_;
  std::uint64_t next_seq_;
  std::uint64_t appended_seq_;
  std::uint64_t synced_seq_;
  std::uint64_t bytes_since_rotate_ = 0;
  std::uint64_t syncs_ = 0;
  bool syncing_ = false;
  std::chrono::steady_clock::time_point oldest_unsynced_{};
  std::optional<Error> failure_;
  bool stop_ = false;
  std::thread syncer_;
};

}  // namespace caserepo::storage
