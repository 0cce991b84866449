// ReferenceModel: the SPEC written as plainly as possible, with no index: a
// vector of entries scanned for every operation. The differential tests and
// the ops_differential fuzzer compare the engine against it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "caserepo/caserepo.h"

namespace caserepo::testing {

class ReferenceModel {
 public:
  explicit ReferenceModel(std::string applicationName = {}) : app_(std::move(applicationName)) {}

  // `generated_id`: the caseId to give a new case (the engine's choice).
  Result<Entry> create(CreateRequest request, Timestamp now, const std::string& generated_id);
  Result<Entry> update(const std::string& caseId, const Patch& patch, Timestamp now);
  Result<std::uint64_t> remove(const std::string& caseId);
  Result<Entry> get(const std::string& caseId) const;
  Result<std::vector<Entry>> history(const std::string& caseId) const;

  // A page by number; or, with `after`, the page after the match at
  // `after` in the full ordered result (a keyset continuation).
  struct Page {
    std::vector<Entry> content;
    std::uint64_t total = 0;
    std::uint64_t offset = 0;          // of content[0] in the ordered matches
    std::optional<std::uint64_t> last;  // model key of the last entry returned
    bool more = false;                  // matches follow the page
  };
  Result<Page> search(const Filter& filter, SortOrder sort, std::uint64_t page, std::uint32_t size) const;
  Page search_after(const Filter& filter, SortOrder sort, std::uint64_t key, std::uint32_t size) const;

  // Per value of `field`, how many of the filter's matches hold it.
  FacetResult facets(const Filter& filter, FacetField field) const;

  std::size_t size() const { return entries_.size(); }
  std::vector<std::string> case_ids() const;

 private:
  struct Row {
    Entry e;
    std::uint64_t seq;
    std::uint64_t touch_seq;
  };
  std::int64_t stamp(Timestamp now);
  bool matches(const Row& row, const Filter& f, const std::map<std::string, std::uint64_t>& newest) const;
  std::vector<const Row*> ordered(const Filter& filter, SortOrder sort) const;
  static std::uint64_t key(const Row& row, SortOrder sort);

  std::string app_;
  std::vector<Row> entries_;  // in creation order
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_touch_ = 1;
  std::optional<std::int64_t> last_stamp_;
};

}  // namespace caserepo::testing
