#include "server/access_log.h"

#include <chrono>
#include <nlohmann/json.hpp>

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
  nlohmann::ordered_json j{{"time", json::format_timestamp(now)},
                           {"client", client},
                           {"user", user.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(user)},
                           {"method", method},
                           {"path", target.substr(0, 512)},
                           {"route", route},
                           {"status", status},
                           {"bytes", bytes},
                           {"ms", seconds * 1000}};
  const std::string line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
}

}  // namespace caserepo::server
