// Requester: the router's requests to the nodes over NATS — several at
// once (one per partition), their replies gathered on one long-lived inbox
// subscription rather than a subscription per request.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "caserepo/error.h"

namespace caserepo::cluster {

class Requester {
 public:
  struct Call {
    std::string subject;
    std::string payload;
  };

  // Errors: IOError (the subscription cannot be made).
  static Result<std::unique_ptr<Requester>> make(natsConnection* conn);
  ~Requester();
  Requester(const Requester&) = delete;
  Requester& operator=(const Requester&) = delete;

  // Sends every call at once and waits for their replies, at most until
  // `timeout`. A reply is nullopt when nobody answered in time or nobody
  // listens on its subject (NATS's "no responders").
  std::vector<std::optional<std::string>> call_all(const std::vector<Call>& calls, std::chrono::milliseconds timeout);

 private:
  struct Pending {
    std::optional<std::string>* reply;
    std::size_t* remaining;
  };
  explicit Requester(natsConnection* conn) : conn_(conn) {}
  static void on_reply(natsConnection*, natsSubscription*, natsMsg* msg, void* self);

  natsConnection* conn_;
  natsSubscription* sub_ = nullptr;
  std::string inbox_;  // replies come to <inbox>.<id>
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, Pending> pending_;
};

}  // namespace caserepo::cluster
