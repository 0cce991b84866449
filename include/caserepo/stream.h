// Commands from an ordered stream: the repository as a materialized view of
// a stream of writes (caserepo-server --ingest, docs/events.md).
//
// Each command carries its position in the stream, and the position is
// logged in the same record as the write it makes, so the write and the
// position become durable together: after a crash at any point,
// Repository::streamPosition() says exactly which commands took effect, and
// a command delivered again is recognised and not applied twice.
//
// The same commands applied in order to the same state give the same state
// on any node: a command's write is stamped with the stream's time for it
// (never below the previous stamp), not the local clock, and a create
// without caseId that starts a new case gets a caseId derived from its
// position.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "caserepo/entry.h"
#include "caserepo/error.h"
#include "caserepo/requests.h"

namespace caserepo {

struct StreamCommand {
  enum class Kind : std::uint8_t {
    kCreate,
    kUpdate,
    kRemove,
    kSkip,  // takes the position and writes nothing: a command that was refused and dead-lettered
  };
  Kind kind = Kind::kSkip;
  CreateRequest create;  // kCreate
  std::string caseId;    // kUpdate, kRemove
  Patch patch;           // kUpdate
  std::uint64_t position = 0;  // ≥ 1, increasing along the stream
  Timestamp time{};            // the stream's time of the command
};

// What Repository::applyStream did with commands[0..n).
struct StreamApplied {
  // commands[0..applied) took effect, durably (duplicates and skips
  // included); none after them did.
  std::size_t applied = 0;
  // Of those, commands at or below streamPosition() (delivered again): not applied twice.
  std::size_t duplicates = 0;
  // Why commands[applied] did not: a refusal of that command alone
  // (InvalidArgument, NotFound, Conflict — dead-letter it, then skip its
  // position), or of the repository (IOError, ReadOnly). Empty: all applied.
  std::optional<Error> stopped;
};

}  // namespace caserepo
