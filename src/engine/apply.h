// Applying a resolved write (a log record) to the Store: the same code path
// for live writes and for log replay, so replay gives the state the writes
// gave.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "caserepo/error.h"
#include "engine/fields.h"
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

// A write's key texts as hash bits (its caseId; a create's clientId and
// businessKey too), computed ahead, e.g. on replay's decoding thread.
struct KeyTags {
  std::array<Field, 3> fields{};
  std::array<std::uint32_t, 3> tags{};
  std::uint8_t count = 0;
};
KeyTags key_tags(const Mutation& m);
// A replay's batched lookups (Dictionary's two steps), a few records ahead
// of applying them: first the keys' table slots, then, once those are
// loaded, their values and the case's newest entry.
void prefetch_slots(const Store& store, const KeyTags& keys);
void prefetch_values(const Store& store, const KeyTags& keys);

// REQUIRES: both checks are nullopt. Returns the slot of the entry to
// report (the new entry, or the case's current entry), or kNoValue after a
// remove.
std::uint32_t apply_mutation(Store& store, const Mutation& m);

}  // namespace caserepo::engine
