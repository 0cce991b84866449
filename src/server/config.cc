#include "server/config.h"

#include <charconv>

namespace caserepo::server {
namespace {

template <class T>
bool number(const std::string& s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

Result<ServerConfig> parse_server_args(const std::vector<std::string>& args) {
  ServerConfig c;
  auto bad = [](const std::string& m) { return Error::InvalidArgument(m); };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--insecure-plain-http") {
      c.insecure_plain_http = true;
      continue;
    }
    if (a == "--no-change-feed") {
      c.change_feed = false;
      continue;
    }
    if (a == "--router") {
      c.router = true;
      continue;
    }
    if (i + 1 >= args.size()) return bad(a + " needs a value (or is unknown)");
    const std::string& v = args[++i];
    unsigned long long n = 0;
    if (a == "--data") {
      c.data_dir = v;
    } else if (a == "--users") {
      c.users_file = v;
    } else if (a == "--listen") {
      const auto colon = v.rfind(':');
      if (colon == std::string::npos || !number(v.substr(colon + 1), n) || n > 65535) return bad("--listen takes HOST:PORT");
      c.host = v.substr(0, colon);
      if (c.host.size() > 2 && c.host.front() == '[' && c.host.back() == ']') c.host = c.host.substr(1, c.host.size() - 2);
      c.port = static_cast<std::uint16_t>(n);
    } else if (a == "--fsync") {
      if (v == "always") c.fsync = FsyncPolicy::kAlways;
      else if (v == "interval") c.fsync = FsyncPolicy::kInterval;
      else if (v == "none") c.fsync = FsyncPolicy::kNone;
      else return bad("--fsync must be always, interval or none");
    } else if (a == "--tls-cert") {
      c.tls_cert = v;
    } else if (a == "--tls-key") {
      c.tls_key = v;
    } else if (a == "--access-log") {
      c.access_log = v;
    } else if (a == "--nats") {
      c.nats_urls = v;
    } else if (a == "--ingest") {
      const auto colon = v.find(':');
      c.ingest_stream = v.substr(0, colon);
      if (colon != std::string::npos) c.ingest_filter = v.substr(colon + 1);
      if (c.ingest_stream.empty() || (colon != std::string::npos && c.ingest_filter.empty())) {
        return bad("--ingest takes STREAM or STREAM:FILTER");
      }
    } else if (a == "--node-id") {
      if (v.empty() || v.find_first_of(" .*>\t") != std::string::npos) return bad("--node-id: a name without spaces, '.', '*' or '>'");
      c.node_id = v;
    } else if (a == "--nats-replicas") {
      if (!number(v, n) || n < 1 || n > 5) return bad("--nats-replicas takes 1 to 5");
      c.nats_replicas = static_cast<int>(n);
    } else if (a == "--partitions") {
      if (!number(v, n) || n < 1 || n > 1024) return bad("--partitions takes 1 to 1024");
      c.partitions = static_cast<unsigned>(n);
    } else if (a == "--serve") {
      c.serve.clear();
      for (std::size_t from = 0; from <= v.size();) {
        const auto comma = std::min(v.find(',', from), v.size());
        if (!number(v.substr(from, comma - from), n) || n > 1023) return bad("--serve takes partition numbers: 0,3,4");
        c.serve.push_back(static_cast<unsigned>(n));
        from = comma + 1;
      }
    } else if (a == "--stream") {
      if (v.empty() || v.find_first_of(" .*>\t") != std::string::npos) return bad("--stream: a name without spaces, '.', '*' or '>'");
      c.stream = v;
    } else if (a == "--threads" || a == "--workers" || a == "--max-body" || a == "--max-header" ||
               a == "--request-timeout" || a == "--idle-timeout" || a == "--max-connections" ||
               a == "--checkpoint-every") {
      if (!number(v, n)) return bad(a + " takes a non-negative integer");
      if (a == "--threads") c.threads = static_cast<unsigned>(n);
      if (a == "--workers") c.workers = static_cast<unsigned>(std::max<unsigned long long>(n, 1));
      if (a == "--max-body") c.max_body = n;
      if (a == "--max-header") c.max_header = n;
      if (a == "--request-timeout") c.request_timeout = std::chrono::seconds(n);
      if (a == "--idle-timeout") c.idle_timeout = std::chrono::seconds(n);
      if (a == "--max-connections") c.max_connections = n;
      if (a == "--checkpoint-every") c.checkpoint_every = std::chrono::seconds(n);
    } else {
      return bad("unknown option " + a);
    }
  }
  if (c.router || !c.serve.empty()) {
    if (c.router && !c.serve.empty()) return bad("--router and --serve exclude each other");
    if (c.nats_urls.empty() || c.partitions == 0) return bad("a router or a partition node needs --nats URLS and --partitions P");
    if (!c.ingest_stream.empty()) return bad("--ingest is for a single server; a cluster's stream is --stream");
    for (unsigned p : c.serve) {
      if (p >= c.partitions) return bad("--serve " + std::to_string(p) + ": partitions are 0 to " + std::to_string(c.partitions - 1));
    }
  }
  if (c.data_dir.empty() && !c.router) return bad("--data DIR is required");
  if (c.users_file.empty()) return bad("--users FILE is required");
  if (c.nats_urls.empty() && !c.ingest_stream.empty()) return bad("--ingest needs --nats URLS");
  if (c.tls_cert.empty() != c.tls_key.empty()) return bad("--tls-cert and --tls-key go together");
  if (!c.tls() && !is_loopback(c.host) && !c.insecure_plain_http) {
    return bad("refusing to serve plain HTTP on " + c.host +
               ": Basic auth would cross the network in clear text. Give --tls-cert/--tls-key, or "
               "--insecure-plain-http if something in front terminates TLS");
  }
  return c;
}

}  // namespace caserepo::server
