// AccessLog: one JSON line per request — time, client, user, method, path,
// route, status, bytes, duration — never credentials or bodies. Thread-safe.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace caserepo::server {

class AccessLog {
 public:
  // "-": stderr; "off": nothing; otherwise a file, appended to.
  explicit AccessLog(const std::string& where);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Lines are buffered (64 KiB); the server flushes every second and at exit.
  void flush();

  void record(std::string_view client, std::string_view user, std::string_view method, std::string_view target,
              std::string_view route, unsigned status, std::size_t bytes, double seconds);

 private:
  std::FILE* out_ = nullptr;
  bool owned_ = false;
  std::mutex mu_;
};

}  // namespace caserepo::server
