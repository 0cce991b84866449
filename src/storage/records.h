// The writes a log holds, fully resolved (caseId, defaults, stamp), so that
// replaying them is deterministic. Payloads are cereal portable-binary
// archives; every string is read with its length checked first.
#pragma once

#include <cstdint>
#include <optional>
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

// A command taken from an ordered stream (RecordType::kStream): its position
// in the stream and the write it made — none for a command that was refused
// and dead-lettered, recorded so that it is not taken again. The write and
// its position are one record, so they are durable together.
struct StreamRecord {
  std::uint64_t position = 0;  // ≥ 1
  std::optional<Mutation> mutation;
};
std::string encode_stream_payload(const StreamRecord& r);
Result<StreamRecord> decode_stream_payload(std::string_view payload);

// Any record, as a StreamRecord: position 0 for a plain create, update or remove.
Result<StreamRecord> decode_record(RecordType type, std::string_view payload);
// decode_record into `out`, reusing the room of the strings it holds (a
// replay decodes a window of records into the same objects each time);
// the Corruption, or nullopt. On an error `out` holds part of the record.
std::optional<Error> decode_record_into(RecordType type, std::string_view payload, StreamRecord& out);

}  // namespace caserepo::storage
