// UnsyncedWindow: which appended log records no completed fsync covers yet,
// and since when. The `interval` policy makes a writer wait for an fsync
// when the oldest such record is two intervals old; that age must restart
// from the first append a sync did NOT cover, or writers fall back to
// synchronous commits under steady load. Not thread-safe: the Journal
// guards it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace caserepo::storage {

class UnsyncedWindow {
 public:
  using Clock = std::chrono::steady_clock;

  explicit UnsyncedWindow(std::uint64_t last_seq) : appended_(last_seq), synced_(last_seq) {}

  void appended(std::uint64_t seq, Clock::time_point now) {
    if (!dirty()) oldest_ = now;
    if (syncing_ && !first_after_sync_start_) first_after_sync_start_ = now;
    appended_ = seq;
  }
  // A sync starts; it covers everything appended so far. Returns that seq.
  std::uint64_t sync_started() {
    syncing_ = true;
    first_after_sync_start_.reset();
    return appended_;
  }
  void sync_finished(std::uint64_t target, bool ok) {
    syncing_ = false;
    if (!ok) return;
    if (target > synced_) synced_ = target;
    oldest_ = appended_ > synced_ ? first_after_sync_start_ : std::nullopt;
  }
  // The records appended after `seq` were cut off the file again.
  void cut_back(std::uint64_t seq) { appended_ = seq; }

  std::uint64_t appended_seq() const noexcept { return appended_; }
  std::uint64_t synced_seq() const noexcept { return synced_; }
  bool syncing() const noexcept { return syncing_; }
  bool dirty() const noexcept { return appended_ > synced_; }
  // When the oldest record no completed sync covers was appended.
  std::optional<Clock::time_point> oldest_unsynced() const { return dirty() ? oldest_ : std::nullopt; }

 private:
  std::uint64_t appended_;
  std::uint64_t synced_;
  bool syncing_ = false;
  std::optional<Clock::time_point> oldest_;
  std::optional<Clock::time_point> first_after_sync_start_;
};

}  // namespace caserepo::storage
