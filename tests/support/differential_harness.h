// DifferentialHarness: runs every operation on a Repository (persistent, on
// an in-memory FaultEnv data directory) and on the ReferenceModel and
// reports the first difference; reopen() checks snapshot + replay too. Shared by the
// differential tests and the ops_differential fuzzer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "caserepo/caserepo.h"
#include "engine/store.h"
#include "support/fault_env.h"
#include "support/reference_model.h"

namespace caserepo::testing {

class DifferentialHarness {
 public:
  explicit DifferentialHarness(std::string applicationName = {}, engine::Tuning tuning = {});

  // Moves the shared clock; negative steps test the engine's clamp.
  void advance_clock(std::int64_t ms);

  // Each returns "" when engine and model agree, else what differs.
  std::string create(const CreateRequest& request);
  std::string update(const std::string& caseId, const Patch& patch);
  std::string remove(const std::string& caseId);
  std::string get(const std::string& caseId);
  std::string history(const std::string& caseId);

  // A search walk: the first page by number, then pages by token.
  struct Walk {
    Filter filter;
    PageRequest page;  // token must be empty at the start
    std::optional<std::uint64_t> model_key;
    bool done = false;
    std::uint64_t pages = 0;
  };
  std::string start(Walk& walk);
  std::string next(Walk& walk);  // REQUIRES: !walk.done
  // start + up to `pages` token pages.
  std::string search(const Filter& filter, const PageRequest& page, int pages);

  // Facet counts of a filter by a field, against the model's.
  std::string facets(const Filter& filter, FacetField field);

  // Every case's history and the whole repository in all four orders.
  std::string compare_everything();

  // The engine's index compaction, at a time of our choosing: the whole
  // store, or the update order alone (what updates' waste triggers).
  void compact(bool update_order_only = false);
  // Starts one that the next writes carry out a step each
  // (Tuning::compaction_step), whatever the waste.
  void compact_in_steps();

  // Closes the repository (after a checkpoint, when asked) and opens its data
  // directory again (snapshot load + log replay), then compares everything.
  std::string reopen(bool checkpoint_first);

  Repository& repo() { return *repo_; }
  ReferenceModel& model() { return model_; }

 private:
  std::string compare_page(const char* what, const Walk& walk, const Result<SearchResult>& engine,
                           const Result<ReferenceModel::Page>& model);

  std::shared_ptr<std::int64_t> now_ms_;
  FaultEnv env_;  // the data directory lives in memory
  Options options_;
  engine::Tuning tuning_;
  std::unique_ptr<Repository> repo_;
  ReferenceModel model_;
  std::uint64_t generated_ = 0;
};

// Describes an entry in one line, for failure messages.
std::string describe(const Entry& e);

}  // namespace caserepo::testing
