#include "storage/journal.h"

#include "storage/log.h"

namespace caserepo::storage {

Journal::Journal(Env& env, std::string dir, FsyncPolicy policy, std::chrono::milliseconds interval,
                 std::unique_ptr<WritableFile> file, std::string file_path, std::uint64_t file_bytes,
                 std::uint64_t next_seq)
    : env_(env),
      dir_(std::move(dir)),
      policy_(policy),
      interval_(interval),
      file_(std::move(file)),
      file_path_(std::move(file_path)),
      file_bytes_(file_bytes),
      window_(next_seq - 1) {
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
  if (!failure_ && window_.dirty()) (void)sync_once(lock);
  if (file_) (void)file_->close();
}

Status Journal::fail(Error e) {
  if (!failure_) failure_ = e;
  cv_.notify_all();
  return e;
}

// Removes a batch that will not be acknowledged from the file, so that no
// restart replays it. Best effort: the journal has failed already.
void Journal::cut_back(std::uint64_t bytes, std::uint64_t seq) {
  if (file_bytes_ > bytes && env_.truncate(file_path_, bytes).ok()) (void)file_->sync();
  file_bytes_ = bytes;
  window_.cut_back(seq);
}

// Syncs everything appended so far. Waits for a sync already running (the
// interval syncer's) first: one fsync at a time.
Status Journal::sync_once(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return !window_.syncing(); });
  if (failure_) return *failure_;
  const std::uint64_t target = window_.sync_started();
  const std::shared_ptr<WritableFile> file = file_;
  lock.unlock();
  Status s = file->sync();
  lock.lock();
  window_.sync_finished(target, s.ok());
  ++syncs_;
  cv_.notify_all();
  if (!s.ok()) return fail(s.error());
  return ok_status();
}

Result<std::uint64_t> Journal::write(const std::vector<PendingRecord>& records) {
  std::unique_lock lock(mu_);
  if (failure_) return Error::ReadOnly("the log failed earlier: " + failure_->message());
  const std::uint64_t start_bytes = file_bytes_;
  const std::uint64_t start_seq = window_.appended_seq();
  std::string frames;
  std::size_t frame_bytes = 0;
  for (const PendingRecord& r : records) frame_bytes += kRecordHeaderSize + r.payload.size();
  frames.reserve(frame_bytes);
  std::uint64_t seq = start_seq;
  for (const PendingRecord& r : records) append_record(frames, r.type, ++seq, r.payload);
  if (auto s = file_->append(frames); !s.ok()) {
    file_bytes_ += frames.size();  // part of it may be there
    (void)fail(s.error());
    cut_back(start_bytes, start_seq);
    return s.error();
  }
  file_bytes_ += frames.size();
  bytes_since_rotate_ += frames.size();
  window_.appended(seq, UnsyncedWindow::Clock::now());

  bool sync = policy_ == FsyncPolicy::kAlways;
  if (policy_ == FsyncPolicy::kInterval) {
    const auto oldest = window_.oldest_unsynced();
    sync = oldest && UnsyncedWindow::Clock::now() - *oldest >= 2 * interval_;
  }
  // The syncer may have failed meanwhile: then this batch is refused too.
  Status s = sync ? sync_once(lock) : (failure_ ? Status(*failure_) : ok_status());
  if (!s.ok()) {
    cut_back(start_bytes, start_seq);
    return s.error();
  }
  return seq;
}

Status Journal::rotate() {
  std::unique_lock lock(mu_);
  if (window_.dirty() || window_.syncing()) {
    if (auto s = sync_once(lock); !s.ok()) return s;
  }
  if (failure_) return *failure_;
  const std::uint64_t next_seq = window_.appended_seq() + 1;
  const std::string path = dir_ + "/" + log_name(next_seq);
  const std::string header = encode_log_header(next_seq);
  // The current segment is synced and intact: a failure to start the next
  // one fails this rotation only, once the half-made file is gone again.
  auto abandon = [&](const Error& e) -> Status {
    if (env_.remove(path).ok() && env_.sync_dir(dir_).ok()) return e;
    return fail(Error::IOError(e.message() + "; and " + path + " could not be removed again"));
  };
  auto next = env_.open_writable(path, /*truncate=*/true);
  if (!next.ok()) return abandon(next.error());
  if (auto s = (*next)->append(header); !s.ok()) return abandon(s.error());
  if (auto s = (*next)->sync(); !s.ok()) return abandon(s.error());
  if (auto s = env_.sync_dir(dir_); !s.ok()) return abandon(s.error());
  (void)file_->close();  // everything in it is synced
  file_ = std::move(*next);
  file_path_ = path;
  file_bytes_ = header.size();
  bytes_since_rotate_ = 0;
  return ok_status();
}

void Journal::interval_loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, interval_, [&] { return stop_; });
    if (stop_ || failure_) break;
    if (window_.dirty() && !window_.syncing()) (void)sync_once(lock);
  }
}

std::optional<Error> Journal::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}
std::uint64_t Journal::last_seq() const {
  std::lock_guard lock(mu_);
  return window_.appended_seq();
}
std::uint64_t Journal::synced_seq() const {
  std::lock_guard lock(mu_);
  return window_.synced_seq();
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
