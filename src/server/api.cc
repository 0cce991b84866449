#include "server/api.h"

#include <set>
#include <variant>

#include "json/wire.h"

namespace caserepo::server {
namespace {

using json::Json;

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// One query parameter list, percent-decoded ('+' is a space). nullopt on a
// malformed escape.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  auto decode = [](std::string_view s) -> std::optional<std::string> {
    std::string r;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        r.push_back(' ');
      } else if (s[i] == '%') {
        auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
        if (i + 2 >= s.size()) return std::nullopt;
        const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        r.push_back(static_cast<char>(hi << 4 | lo));
        i += 2;
      } else {
        r.push_back(s[i]);
      }
    }
    return r;
  };
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    auto k = decode(part.substr(0, eq));
    auto v = decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    if (!k || !v) return std::nullopt;
    out.emplace_back(std::move(*k), std::move(*v));
  }
  return out;
}

Response json_response(http::status status, std::string body, const Request& req) {
  Response res{status, req.version()};
  res.set(http::field::content_type, kJsonType);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response error_for(const Error& e, const Request& req) {
  return error_response(status_of(e.code()), to_string(e.code()), e.message(), req.version(), req.keep_alive());
}

Response invalid(std::string_view message, const Request& req) {
  return error_response(http::status::bad_request, "InvalidArgument", message, req.version(), req.keep_alive());
}

}  // namespace

http::status status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return http::status::bad_request;
    case ErrorCode::kNotFound: return http::status::not_found;
    case ErrorCode::kConflict: return http::status::conflict;
    default: return http::status::service_unavailable;  // IOError, Corruption, ReadOnly
  }
}

Result<std::string> case_id_param(std::string_view query) {
  auto params = parse_query(query);
  if (!params) return Error::InvalidArgument("malformed query string");
  std::optional<std::string> id;
  for (auto& [k, v] : *params) {
    if (k != "caseId") return Error::InvalidArgument("unknown query parameter '" + k + "'");
    if (id) return Error::InvalidArgument("'caseId' given more than once");
    id = std::move(v);
  }
  if (!id) return Error::InvalidArgument("the query parameter 'caseId' is required");
  return *id;
}

Result<Json> search_from_query(std::string_view query) {
  static const std::set<std::string> kLists = {"caseId", "businessKey", "caseType", "clientId", "clientType", "status", "source"};
  static const std::set<std::string> kText = {"creationDateFrom", "creationDateTo", "updateDateFrom", "updateDateTo", "sort", "pageToken"};
  auto params = parse_query(query);
  if (!params) return Error::InvalidArgument("malformed query string");
  Json j = Json::object();
  for (auto& [k, v] : *params) {
    if (kLists.count(k)) {
      if (!j.contains(k)) j[k] = Json::array();
      j[k].push_back(v);
      continue;
    }
    if (j.contains(k)) return Error::InvalidArgument("'" + k + "' given more than once");
    if (kText.count(k)) {
      j[k] = v;
    } else if (k == "page" || k == "size") {
      if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos) {
        return Error::InvalidArgument("'" + k + "' must be a non-negative integer");
      }
      j[k] = std::stoull(v);
    } else if (k == "currentOnly") {
      if (v != "true" && v != "false") return Error::InvalidArgument("'currentOnly' must be true or false");
      j[k] = v == "true";
    } else {
      return Error::InvalidArgument("unknown query parameter '" + k + "'");
    }
  }
  return j;
}

bool is_json(const Request& req) {
  const auto it = req.find(http::field::content_type);
  if (it == req.end()) return false;
  std::string type(it->value().substr(0, it->value().find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type == "application/json";
}

std::variant<Json, Response> body_json(const Request& req) {
  if (!is_json(req)) {
    return error_response(http::status::unsupported_media_type, "UnsupportedMediaType",
                          "the body must be application/json", req.version(), req.keep_alive());
  }
  auto parsed = json::parse(req.body());
  if (!parsed.ok()) return error_for(parsed.error(), req);
  return std::move(*parsed);
}

Response error_response(http::status status, std::string_view name, std::string_view message, unsigned version,
                        bool keep_alive) {
  Response res{status, version};
  res.set(http::field::content_type, kJsonType);
  res.keep_alive(keep_alive);
  res.body() = dump(Json{{"error", name}, {"message", message}});
  res.prepare_payload();
  return res;
}

Response Api::handle(const Request& req, const Route& route, const Principal* who, std::string_view query) const {
  try {
    return run(req, route, who, query);
  } catch (const std::exception& e) {  // never expected: the engine and the wire layer return errors
    return error_response(http::status::internal_server_error, "InternalError", e.what(), req.version(), false);
  }
}

Response Api::run(const Request& req, const Route& route, const Principal* who, std::string_view query) const {
  switch (route.endpoint) {
    case Endpoint::kCreate: {
      auto body = body_json(req);
      if (auto* r = std::get_if<Response>(&body)) return std::move(*r);
      auto request = json::parse_create(std::get<Json>(body));
      if (!request.ok()) return error_for(request.error(), req);
      if (who && !who->app.empty()) {  // the low-code facade's defaults, per user
        if (!request->caseType) request->caseType = who->app;
        if (!request->source) request->source = kLowCodeDefaultSource;
      }
      auto e = repo_.create(*request);
      return e.ok() ? json_response(http::status::ok, json::dump(*e), req) : error_for(e.error(), req);
    }
    case Endpoint::kGet:
    case Endpoint::kHistory:
    case Endpoint::kRemove: {
      auto id = case_id_param(query);
      if (!id.ok()) return error_for(id.error(), req);
      if (route.endpoint == Endpoint::kGet) {
        std::string body;  // written from the stored strings in place, no Entry copied
        auto found = repo_.visit(*id, [&](const EntryView& v) { body = json::dump(v); });
        return found.ok() ? json_response(http::status::ok, std::move(body), req) : error_for(found.error(), req);
      }
      if (route.endpoint == Endpoint::kHistory) {
        auto h = repo_.history(*id);
        return h.ok() ? json_response(http::status::ok, json::dump(*h), req) : error_for(h.error(), req);
      }
      auto n = repo_.remove(*id);
      return n.ok() ? json_response(http::status::ok, dump(Json{{"removed", *n}}), req) : error_for(n.error(), req);
    }
    case Endpoint::kUpdate: {
      auto id = case_id_param(query);
      if (!id.ok()) return error_for(id.error(), req);
      auto body = body_json(req);
      if (auto* r = std::get_if<Response>(&body)) return std::move(*r);
      auto patch = json::parse_patch(std::get<Json>(body));
      if (!patch.ok()) return error_for(patch.error(), req);
      auto e = repo_.update(*id, *patch);
      return e.ok() ? json_response(http::status::ok, json::dump(*e), req) : error_for(e.error(), req);
    }
    case Endpoint::kSearchPost:
    case Endpoint::kSearchGet: {
      Json j;
      if (route.endpoint == Endpoint::kSearchPost) {
        if (!query.empty()) return invalid("POST /v1/search takes its request in the body, not the query string", req);
        auto body = body_json(req);
        if (auto* r = std::get_if<Response>(&body)) return std::move(*r);
        j = std::move(std::get<Json>(body));
      } else {
        auto q = search_from_query(query);
        if (!q.ok()) return error_for(q.error(), req);
        j = std::move(*q);
      }
      auto s = json::parse_search(j);
      if (!s.ok()) return error_for(s.error(), req);
      auto r = repo_.search(s->filter, s->page);
      return r.ok() ? json_response(http::status::ok, json::dump(*r), req) : error_for(r.error(), req);
    }
    case Endpoint::kFacets: {
      if (!query.empty()) return invalid("POST /v1/facets takes its request in the body, not the query string", req);
      auto body = body_json(req);
      if (auto* r = std::get_if<Response>(&body)) return std::move(*r);
      auto f = json::parse_facets(std::get<Json>(body));
      if (!f.ok()) return error_for(f.error(), req);
      auto r = repo_.facets(f->filter, f->field);
      return r.ok() ? json_response(http::status::ok, dump(json::to_json(f->field, *r)), req) : error_for(r.error(), req);
    }
    case Endpoint::kMe: {
      if (!query.empty()) return invalid("GET /v1/me takes no parameters", req);
      return json_response(http::status::ok,
                           dump(Json{{"name", who->name}, {"role", to_string(who->role)},
                                     {"app", who->app.empty() ? Json(nullptr) : Json(who->app)}}),
                           req);
    }
    case Endpoint::kHealth: return json_response(http::status::ok, R"({"status":"ok"})", req);
    case Endpoint::kReady: {
      const Stats s = repo_.stats();
      if (s.readOnly) {
        return error_response(http::status::service_unavailable, "ReadOnly",
                              "a persistence failure made the repository read-only", req.version(), req.keep_alive());
      }
      return json_response(http::status::ok, R"({"status":"ready"})", req);
    }
    case Endpoint::kMetrics: {
      Response res{http::status::ok, req.version()};
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.keep_alive(req.keep_alive());
      res.body() = metrics_.render(repo_.stats());
      res.prepare_payload();
      return res;
    }
  }
  return invalid("no such endpoint", req);
}

}  // namespace caserepo::server
