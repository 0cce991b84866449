// Applying a resolved write (a log record) to the Store: the same code path
// for live writes and for log replay, so replay gives the state the writes
// gave.
#pragma once

#include <optional>

#include "caserepo/error.h"
#include "engine/store.h"
#include "engine/mutation.h"

namespace caserepo::engine {

// Why `m` is not a well-formed write whatever the store holds (a value
// breaks the SPEC's rules, a create has no caseId), or nullopt. Reads no
// store state: replay runs it on its decoding thread (db/decode_ahead.h).
std::optional<Error> check_form(const Mutation& m);

// REQUIRES: check_form(m) is nullopt. Why `m` cannot be applied to `store`
// as it is now (conflict, unknown case, stamp going backwards), or nullopt.
// (A live write is checked before it is logged; a replayed record that
// fails either check is damage.)
std::optional<Error> check_against(const Store& store, const Mutation& m);

// REQUIRES: both checks are nullopt. Returns the slot of the entry to
// report (the new entry, or the case's current entry), or kNoValue after a
// remove.
std::uint32_t apply_mutation(Store& store, const Mutation& m);

}  // namespace caserepo::engine
