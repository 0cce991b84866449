#include "server/router.h"

#include <algorithm>
#include <set>

namespace caserepo::server {

const std::vector<Route>& routes() {
  using http::verb;
  static const std::vector<Route> kRoutes = {
      {verb::post, "/v1", Endpoint::kCreate, Access::kWriter, "create"},
      {verb::get, "/v1", Endpoint::kGet, Access::kReader, "get"},
      {verb::patch, "/v1", Endpoint::kUpdate, Access::kWriter, "update"},
      {verb::delete_, "/v1", Endpoint::kRemove, Access::kWriter, "remove"},
      {verb::get, "/v1/history", Endpoint::kHistory, Access::kReader, "history"},
      {verb::post, "/v1/search", Endpoint::kSearchPost, Access::kReader, "search"},
      {verb::get, "/v1/search", Endpoint::kSearchGet, Access::kReader, "search"},
      {verb::post, "/v1/facets", Endpoint::kFacets, Access::kReader, "facets"},
      {verb::get, "/v1/me", Endpoint::kMe, Access::kReader, "me"},
      {verb::get, "/healthz", Endpoint::kHealth, Access::kPublic, "healthz"},
      {verb::get, "/readyz", Endpoint::kReady, Access::kPublic, "readyz"},
      {verb::get, "/metrics", Endpoint::kMetrics, Access::kPublic, "metrics"},
  };
  return kRoutes;
}

namespace {

bool is_api(const Route& r) { return r.access != Access::kPublic; }

std::string full_path(const Route& r) {
  return is_api(r) ? std::string(kApiPrefix) + std::string(r.path) : std::string(r.path);
}

}  // namespace

Match match(http::verb method, std::string_view path) {
  Match m;
  std::set<std::string> allowed;
  for (const Route& r : routes()) {
    if (full_path(r) != path) continue;
    m.path_known = true;
    allowed.insert(std::string(http::to_string(r.method)));
    if (r.method == method) m.route = &r;
  }
  if (!m.route && m.path_known) {
    for (const std::string& a : allowed) m.allow += (m.allow.empty() ? "" : ", ") + a;
  }
  return m;
}

std::vector<std::string> route_paths() {
  std::set<std::string> paths;
  for (const Route& r : routes()) paths.insert(full_path(r));
  return {paths.begin(), paths.end()};
}

}  // namespace caserepo::server
