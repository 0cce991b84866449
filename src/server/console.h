// The operator console's static files (src/server/console/), embedded in
// the binary at build time (cmake/embed_files.cmake): no CDN, no files to
// install, no network at run time. Served at /console/.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "server/http_types.h"

namespace caserepo::server {

struct ConsoleFile {
  std::string_view name;  // "index.html", "app.js", ...
  std::string_view type;  // Content-Type
  std::string_view bytes;
};

const std::vector<ConsoleFile>& console_files();

inline constexpr std::string_view kConsolePrefix = "/console/";

// The response for a path at or under /console (a redirect from "/console",
// a file, 404, or 405 for other methods than GET and HEAD); nullopt when the
// path is not the console's.
std::optional<Response> console_response(const Request& req, std::string_view path);

}  // namespace caserepo::server
