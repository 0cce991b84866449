// Api: the service's endpoints as plain functions from a request to a
// response — no sockets — so that they are tested and fuzzed directly.
// Bodies are the SPEC's JSON wire format (src/json/wire.h); every error is
// the error JSON with the SPEC's status code.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "caserepo/repository.h"
#include "json/wire.h"
#include "server/auth.h"
#include "server/http_types.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/service.h"

namespace caserepo::server {

// An error response: {"error":NAME,"message":MESSAGE}, JSON content type.
Response error_response(http::status status, std::string_view name, std::string_view message, unsigned version,
                        bool keep_alive);

// The endpoints on one repository (a single server; each partition of a
// cluster node answers its router's reads with it too).
// The status code of an error (400 InvalidArgument, 404 NotFound, 409
// Conflict, 503 for the rest).
http::status status_of(ErrorCode code);
// The one caseId parameter of /v1 and /v1/history; nothing else allowed.
Result<std::string> case_id_param(std::string_view query);
// GET /v1/search's parameters as the JSON search request: the list fields
// collect repeated parameters; the others may appear once.
Result<json::Json> search_from_query(std::string_view query);

// The request body as JSON (it must be application/json), or the error
// response to send (415, or 400 for malformed JSON).
std::variant<json::Json, Response> body_json(const Request& req);

class Api : public Service {
 public:
  Api(Repository& repo, Metrics& metrics) : repo_(repo), metrics_(metrics) {}

  // A write waits for its fsync.
  bool blocks(Endpoint e) const override {
    return e == Endpoint::kCreate || e == Endpoint::kUpdate || e == Endpoint::kRemove;
  }
  Response handle(const Request& req, const Route& route, const Principal* who, std::string_view query) const override;

 private:
  Response run(const Request& req, const Route& route, const Principal* who, std::string_view query) const;

  Repository& repo_;
  Metrics& metrics_;
};

}  // namespace caserepo::server
