#include "storage/journal.h"

#include "storage/log.h"

namespace caserepo::storage {

Journal::Journal(Env& env, std::string dir, FsyncPolicy policy, std::chrono::milliseconds interval,
                 std::unique_ptr<WritableFile> file, std::uint64_t next_seq)
    : env_(env),
      dir_(std::move(dir)),
      policy_(policy),
      interval_(interval),
      file_(std::move(file)),
      next_seq_(next_seq),
      appended_seq_(next_seq - 1),
      synced_seq_(next_seq - 1) {
  if (policy_ == FsyncPolicy::kInterval) syncer_ = std::thread([this] { interval_loop(); });
}

Journal::~Journal() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  std::unique_lock lock(mu_);
  if (!failure_ && appended_seq_ > synced_seq_) (void)sync_locked(lock);  // a clean close loses nothing
  if (file_) (void)file_->close();
}

Status Journal::fail(Error e) {
  if (!failure_) failure_ = e;
  cv_.notify_all();
  return e;
}

Result<std::uint64_t> Journal::append(RecordType type, std::string_view payload) {
  std::lock_guard lock(mu_);
  if (failure_) return Error::ReadOnly("the log failed earlier: " + failure_->message());
  const std::uint64_t seq = next_seq_;
  const std::string record = encode_record(type, seq, payload);
  if (auto s = file_->append(record); !s.ok()) {
    (void)fail(s.error());
    return s.error();
  }
  if (appended_seq_ == synced_seq_) oldest_unsynced_ = std::chrono::steady_clock::now();
  appended_seq_ = seq;
  ++next_seq_;
  bytes_since_rotate_ += record.size();
  return seq;
}

// The leader of a group commit: syncs everything appended so far, outside
// the mutex so that appends (and more waiters) continue meanwhile.
Status Journal::sync_locked(std::unique_lock<std::mutex>& lock) {
  syncing_ = true;
  const std::uint64_t target = appended_seq_;
  const std::shared_ptr<WritableFile> file = file_;
  lock.unlock();
  Status s = file->sync();
  lock.lock();
  syncing_ = false;
  ++syncs_;
  if (!s.ok()) return fail(s.error());
  if (target > synced_seq_) synced_seq_ = target;
  cv_.notify_all();
  return ok_status();
}

Status Journal::wait_durable(std::uint64_t seq) {
  if (policy_ == FsyncPolicy::kNone) return ok_status();
  std::unique_lock lock(mu_);
  if (policy_ == FsyncPolicy::kInterval) {
    // Acknowledge at once unless the syncer has fallen two intervals behind.
    if (synced_seq_ >= seq || std::chrono::steady_clock::now() - oldest_unsynced_ < 2 * interval_) {
      return failure_ ? Status(*failure_) : ok_status();
    }
  }
  return sync_until(lock, seq);
}

// Group commit: the first waiter with no sync running becomes the leader
// and syncs everything appended so far; the others wait for it.
Status Journal::sync_until(std::unique_lock<std::mutex>& lock, std::uint64_t seq) {
  while (synced_seq_ < seq) {
    if (failure_) return *failure_;
    if (!syncing_) {
      if (auto s = sync_locked(lock); !s.ok()) return s;
    } else {
      cv_.wait(lock);
    }
  }
  return failure_ ? Status(*failure_) : ok_status();
}

Status Journal::sync_now() {
  std::unique_lock lock(mu_);
  return sync_until(lock, appended_seq_);
}

Status Journal::rotate() {
  if (auto s = sync_now(); !s.ok()) return s;
  std::unique_lock lock(mu_);
  while (syncing_) cv_.wait(lock);
  if (failure_) return *failure_;
  const std::string path = dir_ + "/" + log_name(next_seq_);
  auto next = env_.open_writable(path, /*truncate=*/true);
  if (!next.ok()) return fail(next.error());
  if (auto s = (*next)->append(encode_log_header(next_seq_)); !s.ok()) return fail(s.error());
  if (auto s = (*next)->sync(); !s.ok()) return fail(s.error());
  if (auto s = env_.sync_dir(dir_); !s.ok()) return fail(s.error());
  if (auto s = file_->close(); !s.ok()) return fail(s.error());
  file_ = std::move(*next);
  bytes_since_rotate_ = 0;
  return ok_status();
}

void Journal::interval_loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, interval_, [&] { return stop_; });
    if (stop_ || failure_) break;
    if (appended_seq_ > synced_seq_ && !syncing_) (void)sync_locked(lock);
  }
}

std::optional<Error> Journal::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}
std::uint64_t Journal::last_seq() const {
  std::lock_guard lock(mu_);
  return appended_seq_;
}
std::uint64_t Journal::synced_seq() const {
  std::lock_guard lock(mu_);
  return synced_seq_;
}
std::uint64_t Journal::bytes_since_rotate() const {
  std::lock_guard lock(mu_);
  return bytes_since_rotate_;
}
std::uint64_t Journal::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

}  // namespace caserepo::storage
