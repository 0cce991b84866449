// Api: the service's endpoints as plain functions from a request to a
// response — no sockets — so that they are tested and fuzzed directly.
// Bodies are the SPEC's JSON wire format (src/json/wire.h); every error is
// the error JSON with the SPEC's status code.
#pragma once

#include <string>
#include <string_view>

#include "caserepo/repository.h"
#include "server/auth.h"
#include "server/http_types.h"
#include "server/metrics.h"
#include "server/router.h"

namespace caserepo::server {

// An error response: {"error":NAME,"message":MESSAGE}, JSON content type.
Response error_response(http::status status, std::string_view name, std::string_view message, unsigned version,
                        bool keep_alive);

class Api {
 public:
  Api(Repository& repo, Metrics& metrics) : repo_(repo), metrics_(metrics) {}

  // Whether the endpoint may block for long (a write waits for its fsync):
  // the server runs those off its I/O threads.
  static bool blocks(Endpoint e) { return e == Endpoint::kCreate || e == Endpoint::kUpdate || e == Endpoint::kRemove; }

  // Runs the matched route for an authorized caller (null for public
  // routes). `query` is the target's part after '?'. Never throws.
  Response handle(const Request& req, const Route& route, const Principal* who, std::string_view query) const;

 private:
  Response run(const Request& req, const Route& route, const Principal* who, std::string_view query) const;

  Repository& repo_;
  Metrics& metrics_;
};

}  // namespace caserepo::server
