// NatsLink: one connection to a NATS cluster with JetStream (the C client
// libnats), shared by the ingestor and the change feed, and the few
// JetStream administrative calls they need. The client reconnects by itself
// (to any server of the URL list) and never gives up; calls made while it is
// away fail with IOError and are retried by their callers.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caserepo/error.h"

namespace caserepo::events {

// IOError "what: <status text> (<last error>)" for a failed libnats call.
Error nats_error(const std::string& what, natsStatus s, jsErrCode js = static_cast<jsErrCode>(0));

// Sets the servers of `options` from a comma-separated URL list (libnats's
// SetURL takes one URL).
natsStatus set_servers(natsOptions* options, const std::string& urls);

class NatsLink {
 public:
  // `urls`: comma-separated (nats://127.0.0.1:4222,nats://...). Waits up to
  // `timeout_ms` for a first connection. `send_asap`: every message is
  // written at once — for request/reply, where libnats 3.4's flusher would
  // hold each one up to 1 ms to batch it (it did: 2.8 ms per router get).
  // Errors: IOError.
  static Result<std::unique_ptr<NatsLink>> connect(const std::string& urls, const std::string& name,
                                                   int timeout_ms = 10000, bool send_asap = false);
  ~NatsLink();
  NatsLink(const NatsLink&) = delete;
  NatsLink& operator=(const NatsLink&) = delete;

  natsConnection* connection() { return conn_; }
  jsCtx* js() { return js_; }

  // Creates the stream if it does not exist (file storage, the duplicate
  // window for message-id de-duplication); an existing one is left as it is.
  // What a forming or recovering cluster answers for a while (a timeout, no
  // responders, no meta leader or too few servers yet) is tried again, with
  // a line on stderr, for up to `retry_for`.
  Status ensure_stream(const std::string& name, const std::vector<std::string>& subjects, int replicas,
                       std::int64_t duplicate_window_ms,
                       std::chrono::milliseconds retry_for = std::chrono::seconds(60));

 private:
  NatsLink() = default;
  natsOptions* options_ = nullptr;
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace caserepo::events
