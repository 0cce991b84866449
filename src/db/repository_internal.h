// White-box access to a Repository's Store, for tests and benchmarks only
// (tuning knobs, index statistics). Not installed; not part of the API.
#pragma once

#include "caserepo/repository.h"
#include "engine/store.h"

namespace caserepo {

class RepositoryInternal {
 public:
  // REQUIRES: no other thread uses `repo` meanwhile.
  static engine::Store& store(Repository& repo);
};

}  // namespace caserepo
