// A case status entry: one row of a case's history.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

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

// An entry read in place (Repository::visit): views of the repository's own
// strings, valid only during the call that hands it out. No allocation.
struct EntryView {
  std::string_view caseId;
  std::optional<std::string_view> businessKey;
  std::string_view caseType;
  std::string_view clientId;
  std::string_view clientType;
  std::string_view status;
  std::optional<std::string_view> statusDescription;
  std::optional<std::string_view> source;
  Timestamp creationDate{};
  Timestamp updateDate{};

  // An owning copy.
  Entry to_entry() const {
    auto copy = [](const std::optional<std::string_view>& v) {
      return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
    };
    return Entry{std::string(caseId), copy(businessKey), std::string(caseType), std::string(clientId),
                 std::string(clientType), std::string(status), copy(statusDescription), copy(source),
                 creationDate, updateDate};
  }
};

}  // namespace caserepo
