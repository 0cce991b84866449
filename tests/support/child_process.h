// ChildProcess: a program a test starts (nats-server, caserepo-server) and
// stops by pid — SIGTERM and wait, or SIGKILL — with its output in a file.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace caserepo::testing {

// A TCP port on 127.0.0.1 that nothing listens on (bound once, then freed).
std::uint16_t free_port();

class ChildProcess {
 public:
  ChildProcess() = default;
  // Starts `argv` with stdout and stderr appended to `log_file`.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_file);
  ~ChildProcess();  // kill()
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Whether it has not exited (reaps it if it has): a benchmark waiting on
  // a process's work stops instead of waiting forever for a dead one.
  bool alive() const;
  const std::string& log_file() const { return log_file_; }
  // SIGKILL and reap.
  void kill();
  // SIGTERM and wait up to `timeout` (then SIGKILL); the exit status as
  // waitpid gives it, or -1 when it had to be killed.
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Waits until `needle` appears in the log file (or the process exits).
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) const;

 private:
  mutable pid_t pid_ = -1;  // -1 once reaped
  std::string log_file_;
};

}  // namespace caserepo::testing
