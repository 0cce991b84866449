// Applying a resolved write (a log record) to the Store: the same code path
// for live writes and for log replay, so replay gives the state the writes
// gave.
#pragma once

#include <optional>

#include "caserepo/error.h"
#include "engine/store.h"
#include "engine/mutation.h"

namespace caserepo::engine {

// Why `m` cannot be applied to `store` as it is now, or nullopt. (A live
// write is checked before it is logged; a replayed record that fails this
// is damage.)
std::optional<Error> check_mutation(const Store& store, const Mutation& m);

// REQUIRES: check_mutation(store, m) is nullopt. Returns the slot of the
// entry to report (the new entry, or the case's current entry), or kNoValue
// after a remove.
std::uint32_t apply_mutation(Store& store, const Mutation& m);

}  // namespace caserepo::engine
