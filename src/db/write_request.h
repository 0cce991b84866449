// A write as the caller asked for it — validated and with the low-code
// defaults filled, but not yet resolved against the state — and what it
// answers.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "caserepo/entry.h"
#include "caserepo/requests.h"

namespace caserepo::db {

struct UpdateRequest {
  std::string caseId;
  Patch patch;
};
struct RemoveRequest {
  std::string caseId;
};
using WriteRequest = std::variant<CreateRequest, UpdateRequest, RemoveRequest>;

// Where a write comes from when applyStream made it: the command's position
// (logged with the write) and the stream's time (its stamp).
struct StreamOrigin {
  std::uint64_t position = 0;
  std::int64_t time_ms = 0;
};

// create and update answer the entry; remove the number of entries removed.
struct WriteResult {
  Entry entry;
  std::uint64_t removed = 0;
};

}  // namespace caserepo::db
