// Generated caseIds: random (version 4) UUIDs, lowercase, 36 characters,
// from a 64-bit Mersenne Twister (formatted by Boost.Uuid) whose whole state is
// seeded from the operating system's entropy (not from one 32-bit seed,
// which would let two processes generate the same sequence). Seeded on first
// use, so a repository that never generates an id pays nothing. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace caserepo::db {

class CaseIdGenerator {
 public:
  std::string next();
  // The caseId of a new case started by the stream command at `position`:
  // a name-based (version 5) UUID of the position, the same on every node.
  // `attempt` > 0 when an earlier one is taken (by a write from elsewhere).
  static std::string for_stream(std::uint64_t position, unsigned attempt);

 private:
  std::optional<std::mt19937_64> engine_;
};

}  // namespace caserepo::db
