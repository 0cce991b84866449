// Dispatcher: one request in, its response out — routing (404, 405 with
// Allow), authentication (401 with WWW-Authenticate, 429 when throttled),
// authorization (403), then the endpoint. Synchronous and socket-free: the
// connection decides where it runs (may_block), the fuzzer calls it directly.
#pragma once

#include <string>
#include <string_view>

#include "server/service.h"
#include "server/auth.h"
#include "server/http_types.h"
#include "server/metrics.h"

namespace caserepo::server {

// What the access log and the metrics record of a request.
struct RequestInfo {
  std::string_view route = "unknown";  // the route's label
  std::string user;                     // empty when not signed in
};

class Dispatcher {
 public:
  Dispatcher(const Service& service, Authenticator& auth, Metrics& metrics)
      : service_(service), auth_(auth), metrics_(metrics) {}

  // Whether respond() may block for long: a write (fsync) or a password
  // that is not remembered (the slow hash).
  bool may_block(const Request& req) const;

  // `client`: the peer's address (for throttling).
  Response respond(const Request& req, std::string_view client, RequestInfo& info) const;

 private:
  const Service& service_;
  Authenticator& auth_;
  Metrics& metrics_;
};

}  // namespace caserepo::server
