// NatsCluster: N nats-server processes with JetStream, clustered on
// loopback ports (one server: no cluster), each with its own store under
// `dir`, started by the test and stopped by pid.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "events/nats_link.h"
#include "support/child_process.h"

namespace caserepo::testing {

class NatsCluster {
 public:
  NatsCluster(const std::string& dir, int servers);
  ~NatsCluster();

  // "nats://127.0.0.1:P1,nats://127.0.0.1:P2,..."
  std::string urls() const;
  // Starts server k (0-based) again after kill(k).
  void start(int k);
  void kill(int k);
  // Server k's process id (-1 while it is stopped): for the benchmarks' CPU accounting.
  pid_t pid(int k) const { return servers_[k].pid(); }
  int size() const { return static_cast<int>(servers_.size()); }
  // Waits until JetStream answers (a meta leader is elected). Throws on timeout.
  void wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

 private:
  std::string dir_;
  std::vector<std::uint16_t> client_ports_, cluster_ports_;
  std::vector<ChildProcess> servers_;
};

// A test's own connection and JetStream context, on the server's NatsLink.
class NatsClient {
 public:
  explicit NatsClient(const std::string& urls);
  ~NatsClient();
  jsCtx* js() { return link_->js(); }
  natsConnection* connection() { return link_->connection(); }
  // Creates a file-backed stream with `subjects` and `replicas` (if missing).
  void add_stream(const std::string& name, const std::vector<std::string>& subjects, int replicas);
  // A stream of any configuration (limits, discard policy).
  void add_stream(const jsStreamConfig& config);
  // Publishes and waits for JetStream's ack; returns the stream sequence.
  std::uint64_t publish(const std::string& subject, const std::string& data);
  // Every message of the stream, in order (by sequence), with sequence and time.
  struct Stored {
    std::uint64_t sequence;
    std::int64_t time_ms;
    std::string subject, data;
    std::string header(const char* key) const;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  std::vector<Stored> read_stream(const std::string& stream);
  std::uint64_t last_sequence(const std::string& stream);
  // Waits until every replica of `stream` is online and current (a server
  // just restarted has caught up), so that killing another one leaves a
  // quorum at once. Throws after `timeout`.
  void wait_replicas_current(const std::string& stream, std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  std::unique_ptr<events::NatsLink> link_;  // the server's own connection code
};

}  // namespace caserepo::testing
