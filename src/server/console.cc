#include "server/console.h"

#include "server/api.h"

namespace caserepo::server {

std::optional<Response> console_response(const Request& req, std::string_view path) {
  if (path != "/console" && path.substr(0, kConsolePrefix.size()) != kConsolePrefix) return std::nullopt;
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    Response r = error_response(http::status::method_not_allowed, "MethodNotAllowed", "the console is read with GET",
                                req.version(), req.keep_alive());
    r.set(http::field::allow, "GET, HEAD");
    return r;
  }
  if (path == "/console") {
    Response r{http::status::moved_permanently, req.version()};
    r.set(http::field::location, std::string(kConsolePrefix));
    r.keep_alive(req.keep_alive());
    r.prepare_payload();
    return r;
  }
  std::string_view name = path.substr(kConsolePrefix.size());
  if (name.empty()) name = "index.html";
  for (const ConsoleFile& f : console_files()) {
    if (f.name != name) continue;
    Response r{http::status::ok, req.version()};
    r.set(http::field::content_type, std::string(f.type));
    r.set(http::field::cache_control, "no-cache");
    // Only this server's own files and API; nothing inline, nothing framed.
    r.set("Content-Security-Policy",
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    r.set("X-Content-Type-Options", "nosniff");
    r.keep_alive(req.keep_alive());
    if (req.method() == http::verb::get) r.body() = std::string(f.bytes);
    r.prepare_payload();
    if (req.method() == http::verb::head) r.content_length(f.bytes.size());
    return r;
  }
  return error_response(http::status::not_found, "NotFound", "no such console file", req.version(), req.keep_alive());
}

}  // namespace caserepo::server
