// Inputs of the write operations: create and update.
#pragma once

#include <optional>
#include <string>

namespace caserepo {

// Limits of the SPEC, in bytes of UTF-8.
inline constexpr std::size_t kMaxFieldBytes = 256;
inline constexpr std::size_t kMaxDescriptionBytes = 4096;

// create(request): adds a status entry.
// caseId absent: the entry joins the case that has `businessKey`, if any,
// else a new case with a generated caseId. caseType may be left out when the
// repository was opened with an application name (it then defaults to it).
struct CreateRequest {
  std::optional<std::string> caseId;
  std::optional<std::string> businessKey;
  std::optional<std::string> caseType;
  std::string clientId;
  std::string clientType;
  std::string status;
  std::optional<std::string> statusDescription;
  std::optional<std::string> source;
};

// A change to a nullable field:
//   std::nullopt            keep the stored value
//   std::optional<string>{} set it to null        (patch.source.emplace())
//   "TEXT"                  set it to TEXT
using NullableChange = std::optional<std::optional<std::string>>;

// update(caseId, patch): the fields present are set on every entry of the case.
struct Patch {
  std::optional<std::string> caseType;
  std::optional<std::string> clientId;
  std::optional<std::string> clientType;
  std::optional<std::string> status;
  NullableChange businessKey;
  NullableChange statusDescription;
  NullableChange source;

  bool empty() const noexcept {
    return !caseType && !clientId && !clientType && !status && !businessKey && !statusDescription &&
           !source;
  }
};

}  // namespace caserepo
