#include "server/access_log.h"

#include <chrono>

#include "json/wire.h"

namespace caserepo::server {

AccessLog::AccessLog(const std::string& where) {
  if (where == "off") return;
  if (where == "-") {
    out_ = stderr;
  } else {
    out_ = std::fopen(where.c_str(), "a");
    owned_ = out_ != nullptr;
  }
  if (out_) std::setvbuf(out_, nullptr, _IOFBF, 1 << 16);
}

AccessLog::~AccessLog() {
  flush();
  if (owned_) std::fclose(out_);
}

void AccessLog::flush() {
  if (!out_) return;
  std::lock_guard lock(mu_);
  std::fflush(out_);
}

void AccessLog::record(std::string_view client, std::string_view user, std::string_view method, std::string_view target,
                       std::string_view route, unsigned status, std::size_t bytes, double seconds) {
  if (!out_) return;
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  // Written by hand (a JSON value per request cost more than the request).
  // The target is raw bytes from the client: anything not printable ASCII
  // is replaced, so the line stays valid UTF-8 and JSON.
  std::string path(target.substr(0, 512));
  for (char& c : path) {
    if (static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  std::string line = "{\"time\":\"" + json::format_timestamp(now) + "\",\"client\":";
  json::append_string(line, client);
  line += ",\"user\":";
  if (user.empty()) line += "null"; else json::append_string(line, user);
  line += ",\"method\":";
  json::append_string(line, method);
  line += ",\"path\":";
  json::append_string(line, path);
  line += ",\"route\":";
  json::append_string(line, route);
  char tail[96];
  std::snprintf(tail, sizeof tail, ",\"status\":%u,\"bytes\":%zu,\"ms\":%.3f}\n", status, bytes, seconds * 1000);
  line += tail;
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
}

}  // namespace caserepo::server
