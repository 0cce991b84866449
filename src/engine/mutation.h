// Resolved writes: a create, update or remove with everything it depends on
// decided (which case it joins, the generated caseId, the defaults, the
// timestamp). Applying the same sequence of resolved writes to an empty
// Store always gives the same state, so they are exactly what the log
// records and what recovery replays.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "caserepo/requests.h"

namespace caserepo::engine {

struct ResolvedCreate {
  CreateRequest request;  // caseId and caseType set
  std::int64_t stamp_ms = 0;
};
struct ResolvedUpdate {
  std::string caseId;
  Patch patch;
  std::int64_t stamp_ms = 0;
};
struct ResolvedRemove {
  std::string caseId;
};
using Mutation = std::variant<ResolvedCreate, ResolvedUpdate, ResolvedRemove>;

// The case a mutation writes to.
inline std::string_view case_of(const Mutation& m) {
  if (const auto* c = std::get_if<ResolvedCreate>(&m)) return *c->request.caseId;
  if (const auto* u = std::get_if<ResolvedUpdate>(&m)) return u->caseId;
  return std::get<ResolvedRemove>(m).caseId;
}

}  // namespace caserepo::engine
