// Journal: appends batches of framed records to the current log segment and
// makes them as durable as the fsync policy promises before returning.
//
// One caller appends at a time (the commit queue's leader, or a checkpoint
// holding the queue); a background thread syncs under `interval`. A batch
// whose append or fsync fails is cut off the file again (it was never
// acknowledged, so no restart may bring it back) and the failure is sticky:
// the journal refuses everything after it and never retries an fsync.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "caserepo/env.h"
#include "caserepo/options.h"
#include "storage/format.h"
#include "storage/unsynced_window.h"

namespace caserepo::storage {

struct PendingRecord {
  RecordType type;
  std::string payload;
};

class Journal {
 public:
  // `file`: the open segment `dir`/log_name(first seq), already `file_bytes`
  // long, whose records end at next_seq - 1.
  Journal(Env& env, std::string dir, FsyncPolicy policy, std::chrono::milliseconds interval,
          std::unique_ptr<WritableFile> file, std::string file_path, std::uint64_t file_bytes,
          std::uint64_t next_seq);
  ~Journal();  // syncs what is unsynced (a clean close loses nothing), unless the log failed
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends `records` (seqs last_seq()+1, +2, ...) with one write and returns
  // once they are durable per the policy: `always` fsynced; `interval`
  // written, or fsynced when the syncer is two intervals behind; `none`
  // written. Returns the seq of the last one. On error the batch is not in
  // the file and every later call fails with ReadOnly.
  // REQUIRES: one caller at a time; records not empty.
  Result<std::uint64_t> write(const std::vector<PendingRecord>& records);

  // Syncs the current segment and continues in a new one, log-<next seq>.log.
  // If only the new segment cannot be made, it is removed again and the
  // journal stays writable; a failed sync of the current one is sticky.
  // REQUIRES: no write() runs meanwhile.
  Status rotate();

  std::optional<Error> failure() const;
  std::uint64_t last_seq() const;
  std::uint64_t synced_seq() const;
  std::uint64_t bytes_since_rotate() const;
  std::uint64_t syncs() const;

 private:
  Status sync_once(std::unique_lock<std::mutex>& lock);  // releases the mutex while syncing
  Status fail(Error e);
  void cut_back(std::uint64_t bytes, std::uint64_t seq);
  void interval_loop();

  Env& env_;
  const std::string dir_;
  const FsyncPolicy policy_;
  const std::chrono::milliseconds interval_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<WritableFile> file_;
  std::string file_path_;
  std::uint64_t file_bytes_;
  UnsyncedWindow window_;
  std::uint64_t bytes_since_rotate_ = 0;
  std::uint64_t syncs_ = 0;
  std::optional<Error> failure_;
  bool stop_ = false;
  std::thread syncer_;
};

}  // namespace caserepo::storage
