// BatchResolver: turns the writes of one commit batch into resolved
// mutations (engine/mutation.h) against the Store as it is before the batch.
//
// Resolving decides which case a create joins (its caseId, else its
// businessKey), generates the caseId of a new case, checks conflicts and
// that the case exists, and stamps the dates. Every write of a batch is
// resolved against the pre-batch state, which is right only if it does not
// depend on an earlier write of the same batch (the same case, or a
// business key an earlier write set or may have moved); such a write is
// reported kDependent and leads the next batch instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>

#include "caserepo/error.h"
#include "db/case_id_generator.h"
#include "db/write_request.h"
#include "engine/mutation.h"
#include "engine/store.h"

namespace caserepo::db {

class BatchResolver {
 public:
  // `now_ms`: the clock once for the batch; stamps never go below the store's last one.
  // `shared`: more than one write may be resolved (else nothing is tracked).
  BatchResolver(const engine::Store& store, std::int64_t now_ms, CaseIdGenerator& ids, bool shared = true);

  struct Resolution {
    enum Kind { kResolved, kRefused, kDependent } kind;
    engine::Mutation mutation;   // kResolved
    std::uint64_t removed = 0;   // kResolved remove: entries it removes
    std::optional<Error> error;  // kRefused: NotFound or Conflict

    static Resolution resolved(engine::Mutation m, std::uint64_t removed = 0) {
      return {kResolved, std::move(m), removed, std::nullopt};
    }
    static Resolution refused(Error e) { return {kRefused, engine::Mutation{}, 0, std::move(e)}; }
    static Resolution dependent() { return {kDependent, engine::Mutation{}, 0, std::nullopt}; }
  };
  // Moves what it needs out of `request`, but only when the verdict is
  // kResolved (a dependent write keeps its request for the next batch).
  // A write from a stream (`origin.position` > 0) is stamped with the
  // stream's time and a new case gets the caseId of its position.
  Resolution resolve(WriteRequest& request, const StreamOrigin& origin = {});

 private:
  Resolution create(CreateRequest& request, std::int64_t stamp, std::uint64_t position);
  Resolution update(UpdateRequest& request, std::int64_t stamp);
  Resolution remove(RemoveRequest& request);
  void wrote_case(const std::string& caseId) {
    if (shared_) cases_.insert(caseId);
  }
  bool case_written(const std::string& caseId) const { return shared_ && cases_.count(caseId) > 0; }
  bool business_key_written(const std::string& key) const {
    return shared_ && (all_business_keys_ || business_keys_.count(key) > 0);
  }

  const engine::Store& store_;
  const std::int64_t now_ms_;
  std::int64_t stamp_ms_;  // the last stamp given: stamps never go backwards along the log
  CaseIdGenerator& ids_;
  const bool shared_;
  std::unordered_set<std::string> cases_;          // written by this batch
  std::unordered_set<std::string> business_keys_;  // set by this batch
  bool all_business_keys_ = false;                 // an update or remove may have moved any of them
};

}  // namespace caserepo::db
