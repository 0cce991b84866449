// A case status entry: one row of a case's history.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace caserepo {

// UTC, millisecond precision (the SPEC's timestamp).
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

struct Entry {
  std::string caseId;
  std::optional<std::string> businessKey;
  std::string caseType;
  std::string clientId;
  std::string clientType;
  std::string status;
  std::optional<std::string> statusDescription;
  std::optional<std::string> source;
  Timestamp creationDate{};
  Timestamp updateDate{};

  friend bool operator==(const Entry&, const Entry&) = default;
};

}  // namespace caserepo
