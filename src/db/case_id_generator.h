// Generated caseIds: random (version 4) UUIDs, lowercase, 36 characters,
// from Boost.Uuid's Mersenne Twister seeded with its whole state from the
// operating system's entropy (not from one 32-bit seed, which would let two
// processes generate the same sequence). Not thread-safe.
#pragma once

#include <boost/uuid/random_generator.hpp>
#include <string>

namespace caserepo::db {

class CaseIdGenerator {
 public:
  std::string next();

 private:
  boost::uuids::random_generator_mt19937 generator_;
};

}  // namespace caserepo::db
