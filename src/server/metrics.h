// Metrics: the server's counters and latency histograms, rendered with the
// repository's own figures in the Prometheus text format (version 0.0.4).
// Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "caserepo/repository.h"

namespace caserepo::server {

class Metrics {
 public:
  // One finished request: its route label ("create", "get", ..., "unknown"),
  // status code and duration.
  void request(std::string_view route, unsigned status, double seconds);
  void auth_failure() { auth_failures_.fetch_add(1, std::memory_order_relaxed); }
  void throttled() { throttled_.fetch_add(1, std::memory_order_relaxed); }
  void connection_opened() { connections_.fetch_add(1, std::memory_order_relaxed); ++connections_total_; }
  void connection_closed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  void connection_refused() { connections_refused_.fetch_add(1, std::memory_order_relaxed); }
  void limit_hit(std::string_view which);  // "header", "body", "timeout"

  std::int64_t open_connections() const { return connections_.load(); }

  std::string render(const Stats& repo) const;
  // More lines for render(), from parts the server does not own (the NATS
  // ingestor and change feed). Set before serving.
  void set_extra(std::function<std::string()> extra) { extra_ = std::move(extra); }

 private:
  static constexpr std::array<double, 14> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,    0.025,  0.05,    0.1,    0.25,  0.5,   1.0};
  struct PerRoute {
    std::array<std::uint64_t, kBuckets.size() + 1> buckets{};  // the last: +Inf
    std::uint64_t count = 0;
    double sum_seconds = 0;
    std::map<unsigned, std::uint64_t> by_status;
  };

  mutable std::mutex mu_;  // guards routes_ and limits_
  std::map<std::string, PerRoute, std::less<>> routes_;
  std::map<std::string, std::uint64_t, std::less<>> limits_;
  std::atomic<std::uint64_t> auth_failures_{0}, throttled_{0}, connections_refused_{0};
  std::atomic<std::int64_t> connections_{0};
  std::atomic<std::uint64_t> connections_total_{0};
  std::function<std::string()> extra_;
};

}  // namespace caserepo::server
