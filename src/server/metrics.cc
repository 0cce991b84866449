#include "server/metrics.h"

#include <cstdio>

namespace caserepo::server {

void Metrics::request(std::string_view route, unsigned status, double seconds) {
  std::lock_guard lock(mu_);
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.try_emplace(std::string(route)).first;
  PerRoute& r = it->second;
  ++r.by_status[status];
  std::size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  ++r.buckets[b];
  ++r.count;
  r.sum_seconds += seconds;
}

void Metrics::limit_hit(std::string_view which) {
  std::lock_guard lock(mu_);
  auto it = limits_.find(which);
  if (it == limits_.end()) it = limits_.emplace(std::string(which), 0).first;
  ++it->second;
}

std::string Metrics::render(const Stats& s) const {
  std::string out;
  char line[512];
  auto metric = [&](const char* name, const char* type, const char* help) {
    std::snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    out += line;
  };
  // A metric with one unlabelled sample.
  auto single = [&](const char* name, const char* type, const char* help, double v) {
    metric(name, type, help);
    std::snprintf(line, sizeof line, "%s %.17g\n", name, v);
    out += line;
  };
  std::lock_guard lock(mu_);
  metric("caserepo_http_requests_total", "counter", "HTTP requests by route and status code.");
  for (const auto& [route, r] : routes_) {
    for (const auto& [status, n] : r.by_status) {
      std::snprintf(line, sizeof line, "caserepo_http_requests_total{route=\"%s\",code=\"%u\"} %llu\n", route.c_str(),
                    status, static_cast<unsigned long long>(n));
      out += line;
    }
  }
  metric("caserepo_http_request_duration_seconds", "histogram", "Time from a request's last byte read to its response queued.");
  for (const auto& [route, r] : routes_) {
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += r.buckets[b];
      if (b < kBuckets.size()) {
        std::snprintf(line, sizeof line, "caserepo_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                      route.c_str(), kBuckets[b], static_cast<unsigned long long>(cumulative));
      } else {
        std::snprintf(line, sizeof line, "caserepo_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                      route.c_str(), static_cast<unsigned long long>(cumulative));
      }
      out += line;
    }
    std::snprintf(line, sizeof line,
                  "caserepo_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n"
                  "caserepo_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                  route.c_str(), r.sum_seconds, route.c_str(), static_cast<unsigned long long>(r.count));
    out += line;
  }
  metric("caserepo_http_limit_hits_total", "counter", "Requests or connections stopped by a limit (header, body, timeout).");
  for (const auto& [which, n] : limits_) {
    std::snprintf(line, sizeof line, "caserepo_http_limit_hits_total{limit=\"%s\"} %llu\n", which.c_str(),
                  static_cast<unsigned long long>(n));
    out += line;
  }
  single("caserepo_auth_failures_total", "counter",
         "Requests refused for missing or wrong credentials.", static_cast<double>(auth_failures_.load()));
  single("caserepo_auth_throttled_total", "counter",
         "Requests refused because their client or user failed too often.", static_cast<double>(throttled_.load()));
  single("caserepo_http_connections", "gauge", "Open connections.", static_cast<double>(connections_.load()));
  single("caserepo_http_connections_total", "counter",
         "Connections accepted.", static_cast<double>(connections_total_.load()));
  single("caserepo_http_connections_refused_total", "counter",
         "Connections closed at once because the cap was reached.", static_cast<double>(connections_refused_.load()));

  single("caserepo_entries", "gauge", "Live status entries.", static_cast<double>(s.entries));
  single("caserepo_cases", "gauge", "Live cases.", static_cast<double>(s.cases));
  single("caserepo_log_bytes_since_checkpoint", "gauge",
         "Bytes in the log since the last checkpoint.", static_cast<double>(s.logBytesSinceCheckpoint));
  single("caserepo_log_last_seq", "gauge", "Sequence number of the last log record.", static_cast<double>(s.lastSeq));
  single("caserepo_log_synced_seq", "gauge", "Log records up to here are fsynced.", static_cast<double>(s.syncedSeq));
  single("caserepo_log_syncs_total", "counter", "fsyncs of the log.", static_cast<double>(s.syncs));
  single("caserepo_checkpoints_total", "counter",
         "Checkpoints written since start.", static_cast<double>(s.checkpoints));
  single("caserepo_read_only", "gauge", "1 after a persistence failure: writes are refused.", s.readOnly ? 1 : 0);
  metric("caserepo_operations_total", "counter", "Repository operations since start, by kind.");
  std::snprintf(line, sizeof line,
                "caserepo_operations_total{op=\"create\"} %llu\ncaserepo_operations_total{op=\"update\"} %llu\n"
                "caserepo_operations_total{op=\"remove\"} %llu\ncaserepo_operations_total{op=\"search\"} %llu\n",
                static_cast<unsigned long long>(s.creates), static_cast<unsigned long long>(s.updates),
                static_cast<unsigned long long>(s.removes), static_cast<unsigned long long>(s.searches));
  out += line;
  if (extra_) out += extra_();
  return out;
}

}  // namespace caserepo::server
