// The server's command line (docs/server.md):
//   caserepo-server --data DIR --users FILE [--listen 127.0.0.1:8080]
//       [--fsync always|interval|none] [--tls-cert FILE --tls-key FILE]
//       [--threads N] [--workers N] [--insecure-plain-http]
//       [--max-body BYTES] [--max-header BYTES] [--request-timeout S] [--idle-timeout S]
//       [--max-connections N] [--checkpoint-every S] [--access-log FILE|-|off]
//       [--nats URLS [--ingest STREAM[:FILTER]] [--node-id ID] [--nats-replicas N] [--no-change-feed]]
//       [--nats URLS --partitions P (--router | --serve LIST) [--stream NAME]]
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "caserepo/error.h"
#include "caserepo/options.h"

namespace caserepo::server {

struct ServerConfig {
  std::string data_dir;
  std::string users_file;
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  std::string tls_cert, tls_key;
  bool insecure_plain_http = false;
  unsigned threads = 0;  // I/O threads; 0 = one per core
  unsigned workers = 64;  // threads for writes and slow password checks (group commit needs many in flight)
  std::size_t max_body = 64 * 1024;
  std::size_t max_header = 16 * 1024;
  std::chrono::seconds request_timeout{10};  // from a request's first byte to its last
  std::chrono::seconds idle_timeout{60};     // a kept-alive connection with no request
  std::size_t max_connections = 16384;
  std::chrono::seconds checkpoint_every{0};  // 0: only by log size (Options::checkpointLogBytes)
  std::string access_log = "-";              // "-" stderr, "off", or a file
  std::chrono::seconds shutdown_grace{10};
  // NATS JetStream (docs/events.md); all off when nats_urls is empty.
  std::string nats_urls;                  // comma-separated
  std::string ingest_stream, ingest_filter;  // consume commands from this stream (and subject filter)
  std::string node_id = "caserepo";       // names this node's consumer and its change events' ids
  int nats_replicas = 1;                  // of the streams this node creates (changes, dead letters)
  bool change_feed = true;                // publish every committed write
  // A partitioned cluster (docs/scale-out.md): commands on `stream`, one
  // subject per partition. A router serves the API for all partitions; a
  // node (`serve` not empty) holds the partitions listed.
  bool router = false;
  unsigned partitions = 0;
  std::vector<unsigned> serve;
  std::string stream = "CASEREPO_CMDS";

  bool tls() const { return !tls_cert.empty(); }
};

// InvalidArgument with a message for the user (exit 1).
Result<ServerConfig> parse_server_args(const std::vector<std::string>& args);

// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback(const std::string& host);

}  // namespace caserepo::server
