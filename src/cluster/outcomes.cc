#include "cluster/outcomes.h"

#include <algorithm>
#include <vector>

namespace caserepo::cluster {

void Outcomes::start_at(std::uint64_t position) {
  std::lock_guard lock(mu_);
  opened_at_ = last_ = position;
}

void Outcomes::record(std::uint64_t position, unsigned status, std::string body) {
  std::vector<std::pair<Reply, bool>> ready;  // (reply, known): called outside the lock
  std::pair<unsigned, std::string> outcome{status, std::move(body)};
  {
    std::lock_guard lock(mu_);
    // Waits for earlier positions that never got an outcome here will not get one.
    auto it = pending_.begin();
    for (; it != pending_.end() && it->first <= position; ++it) ready.emplace_back(std::move(it->second), it->first == position);
    pending_.erase(pending_.begin(), it);
    done_[position] = outcome;
    last_ = std::max(last_, position);
    order_.push_back(position);
    if (order_.size() > kKept) {
      done_.erase(order_.front());
      order_.pop_front();
    }
  }
  advanced_.notify_all();
  for (auto& [reply, known] : ready) {
    if (known) reply(outcome.first, outcome.second);
    else reply(kUnknown, {});
  }
}

void Outcomes::when_done(std::uint64_t position, Reply reply) {
  std::unique_lock lock(mu_);
  if (auto it = done_.find(position); it != done_.end()) {
    const auto outcome = it->second;
    lock.unlock();
    reply(outcome.first, outcome.second);
    return;
  }
  // Not the stream position (stored before the outcome is recorded): what was recorded.
  if (position <= opened_at_ || position < last_ || pending_.size() >= kKept) {
    lock.unlock();
    reply(kUnknown, {});
    return;
  }
  pending_.emplace(position, std::move(reply));
}

bool Outcomes::wait_for(std::uint64_t position, const std::function<std::uint64_t()>& current,
                        std::chrono::milliseconds timeout) {
  // Woken by record(); a position can also advance without one (a skip
  // recorded before it is logged, a duplicate), hence the short slices.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  while (current() < position) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    advanced_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(deadline - now, std::chrono::milliseconds(5)));
  }
  return true;
}

}  // namespace caserepo::cluster
