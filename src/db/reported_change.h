// The Change a write is reported as (Options::onChange): by the commit path
// when it is made, and by recovery again when open replays it
// (Options::replayChangesAfter) — one definition, so the two agree.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "caserepo/change.h"
#include "engine/mutation.h"
#include "engine/store.h"

namespace caserepo::db {

// A remove's caseType, read before it is applied. REQUIRES: the case exists.
inline std::string case_type_before_remove(const engine::Store& store, const engine::Mutation& m) {
  engine::Store::ViewScratch scratch;
  return std::string(store.view(store.case_entries(engine::case_of(m))->last_slot(), scratch).caseType);
}

// `entry`: the entry the write made or the case's current entry after it
// (nullptr for a remove, with `removed_type` and `removed` instead).
inline Change reported_change(const engine::Mutation& m, std::uint64_t seq, std::uint64_t position, const Entry* entry,
                              std::string_view removed_type, std::uint64_t removed) {
  Change c;
  c.kind = static_cast<Change::Kind>(m.index());
  c.seq = seq;
  c.caseId = engine::case_of(m);
  c.entry = c.kind == Change::Kind::kRemove ? nullptr : entry;
  c.caseType = c.entry ? std::string_view(c.entry->caseType) : removed_type;
  c.removed = removed;
  c.streamPosition = position;
  return c;
}

}  // namespace caserepo::db
