#include "server/dispatcher.h"

#include "server/api.h"
#include "server/console.h"

namespace caserepo::server {
namespace {

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

std::string_view authorization(const Request& req) {
  const auto it = req.find(http::field::authorization);
  return it == req.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
}

}  // namespace

bool Dispatcher::may_block(const Request& req) const {
  const auto [path, query] = split_target(std::string_view(req.target().data(), req.target().size()));
  const Match m = match(req.method(), path);
  if (!m.route) return false;
  if (service_.blocks(m.route->endpoint)) return true;
  return m.route->access != Access::kPublic && auth_.needs_slow_path(authorization(req));
}

Response Dispatcher::respond(const Request& req, std::string_view client, RequestInfo& info) const {
  const auto [path, query] = split_target(std::string_view(req.target().data(), req.target().size()));
  if (auto page = console_response(req, path)) {
    info.route = "console";
    return std::move(*page);
  }
  const Match m = match(req.method(), path);
  if (!m.route) {
    if (!m.path_known) {
      return error_response(http::status::not_found, "NotFound", "no such path: " + std::string(path.substr(0, 200)),
                            req.version(), req.keep_alive());
    }
    Response r = error_response(http::status::method_not_allowed, "MethodNotAllowed",
                                std::string(req.method_string()) + " is not allowed here; allowed: " + m.allow,
                                req.version(), req.keep_alive());
    r.set(http::field::allow, m.allow);
    return r;
  }
  const Route& route = *m.route;
  info.route = route.label;
  if (route.access == Access::kPublic) return service_.handle(req, route, nullptr, query);

  const auto verdict = auth_.check(authorization(req), client);
  switch (verdict.outcome) {
    case Authenticator::Outcome::kOk: break;
    case Authenticator::Outcome::kThrottled: {
      metrics_.throttled();
      Response r = error_response(http::status::too_many_requests, "TooManyRequests",
                                  "too many failed sign-ins from this client or for this user; try again later",
                                  req.version(), req.keep_alive());
      r.set(http::field::retry_after, "60");
      return r;
    }
    default: {
      metrics_.auth_failure();
      Response r = error_response(http::status::unauthorized, "Unauthorized",
                                  verdict.outcome == Authenticator::Outcome::kMissing ? "credentials are required"
                                                                                     : "wrong user name or password",
                                  req.version(), req.keep_alive());
      // Browser code marks its calls; a challenge would make the browser pop
      // up its own sign-in dialog over the page's (the console's) form.
      const auto marked = req.find("X-Requested-With");
      if (marked == req.end() || marked->value() != "XMLHttpRequest") {
        r.set(http::field::www_authenticate, "Basic realm=\"caserepo\"");
      }
      return r;
    }
  }
  info.user = verdict.principal.name;
  if (route.access == Access::kWriter && verdict.principal.role != Role::kWriter) {
    return error_response(http::status::forbidden, "Forbidden",
                          "user '" + verdict.principal.name + "' is a reader; " + std::string(route.label) + " needs a writer",
                          req.version(), req.keep_alive());
  }
  return service_.handle(req, route, &verdict.principal, query);
}

}  // namespace caserepo::server
