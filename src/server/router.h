// Router: which endpoint a request's method and path name, before anything
// runs. The table is the service's whole surface: docs/openapi.yaml lists
// the same paths (tests/server/openapi_test.py compares them).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_types.h"

namespace caserepo::server {

inline constexpr std::string_view kApiPrefix = "/api/case-repository";

enum class Endpoint {
  kCreate, kGet, kUpdate, kRemove, kHistory, kSearchPost, kSearchGet, kFacets, kMe,
  kHealth, kReady, kMetrics,
};

// Who may call it.
enum class Access { kPublic, kReader, kWriter };

struct Route {
  http::verb method;
  std::string_view path;  // exact, after the prefix for API routes
  Endpoint endpoint;
  Access access;
  std::string_view label;  // for metrics and the access log: stable, low-cardinality
};

const std::vector<Route>& routes();

struct Match {
  const Route* route = nullptr;  // null: see `path_known` and `allow`
  bool path_known = false;       // the path exists, not with this method (405)
  std::string allow;             // the Allow header for a 405
};

// `path` without the query string.
Match match(http::verb method, std::string_view path);

// The full paths of every route ("/api/case-repository/v1", "/healthz", ...), sorted, unique.
std::vector<std::string> route_paths();

}  // namespace caserepo::server
