// The writes a log holds, fully resolved (caseId, defaults, stamp), so that
// replaying them is deterministic. Payloads are cereal portable-binary
// archives; every string is read with its length checked first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "caserepo/error.h"
#include "caserepo/requests.h"
#include "storage/format.h"

namespace caserepo::storage {

struct CreateRecord {
  CreateRequest request;  // caseId and caseType set
  std::int64_t stamp_ms = 0;
};
struct UpdateRecord {
  std::string caseId;
  Patch patch;
  std::int64_t stamp_ms = 0;
};
struct RemoveRecord {
  std::string caseId;
};
using Mutation = std::variant<CreateRecord, UpdateRecord, RemoveRecord>;

RecordType type_of(const Mutation& m);
std::string encode_payload(const Mutation& m);
// Corruption when the payload does not decode to exactly one record.
Result<Mutation> decode_payload(RecordType type, std::string_view payload);

}  // namespace caserepo::storage
