// The writes a log holds, fully resolved (caseId, defaults, stamp), so that
// replaying them is deterministic. Payloads are cereal portable-binary
// archives; every string is read with its length checked first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "caserepo/error.h"
#include "engine/mutation.h"
#include "storage/format.h"

namespace caserepo::storage {

using engine::Mutation;

RecordType type_of(const Mutation& m);
std::string encode_payload(const Mutation& m);
// Corruption when the payload does not decode to exactly one record.
Result<Mutation> decode_payload(RecordType type, std::string_view payload);

}  // namespace caserepo::storage
