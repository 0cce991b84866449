// Repository: the case status store and its five operations.
//
// Thread safety: one Repository may be used from any number of threads.
// Reads (get, history, search, stats) run concurrently; writes (create,
// update, remove) are serialized; every call sees a consistent state.
//
// Every operation returns a Result: on error nothing has changed.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "caserepo/entry.h"
#include "caserepo/error.h"
#include "caserepo/options.h"
#include "caserepo/query.h"
#include "caserepo/requests.h"

namespace caserepo {

struct Stats {
  std::uint64_t entries = 0;          // live status entries
  std::uint64_t cases = 0;            // live cases
  std::uint64_t distinctClients = 0;  // distinct clientId values
  std::uint64_t creates = 0, updates = 0, removes = 0;  // since construction
  std::uint64_t searches = 0;
  std::uint64_t rebuilds = 0;        // index compactions (see architecture.md)
  std::uint64_t postingBytes = 0;    // bytes held by posting lists and bitmaps
};

class Repository {
 public:
  explicit Repository(Options options = {});
  ~Repository();
  Repository(const Repository&) = delete;
  Repository& operator=(const Repository&) = delete;

  // Validates, fills defaults, stamps the dates and stores a new entry; it
  // becomes its case's current status. Returns the stored entry.
  // Errors: InvalidArgument, Conflict (the case has another client or type).
  Result<Entry> create(const CreateRequest& request);

  // Applies `patch` to every entry of the case and sets their updateDate.
  // Returns the case's current entry. Errors: InvalidArgument (empty or bad
  // patch), NotFound.
  Result<Entry> update(std::string_view caseId, const Patch& patch);

  // Deletes every entry of the case. Returns how many. Errors: NotFound.
  Result<std::uint64_t> remove(std::string_view caseId);

  // The case's current (newest) entry. Errors: NotFound.
  Result<Entry> get(std::string_view caseId) const;

  // Every entry of the case, oldest first. Errors: NotFound.
  Result<std::vector<Entry>> history(std::string_view caseId) const;

  // One page of the entries matching `filter`, in `page.sort` order, with the
  // exact number of matches. Errors: InvalidArgument (bad value, page, size,
  // inverted date range, damaged token or token of another filter/sort).
  Result<SearchResult> search(const Filter& filter, const PageRequest& page = {}) const;

  Stats stats() const;

 private:
  friend class RepositoryInternal;  // white-box door for tests (src/engine/repository_internal.h)
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caserepo
