// Repository: the case status store and its five operations.
//
// Thread safety: one Repository may be used from any number of threads.
// Reads (get, history, search, stats) run concurrently; writes (create,
// update, remove) are serialized (concurrent writers share one log append
// and one fsync); every call sees a consistent state.
//
// Every operation returns a Result: on error nothing has changed, for this
// caller or any other. A write is visible to readers only once it is as
// durable as the fsync policy promises; a write that could not be logged is
// never visible, and after it the repository is read-only (ReadOnly).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "caserepo/entry.h"
#include "caserepo/error.h"
#include "caserepo/options.h"
#include "caserepo/query.h"
#include "caserepo/requests.h"
#include "caserepo/stream.h"

namespace caserepo {

struct CheckpointInfo {
  std::uint64_t seq = 0;      // the snapshot covers the log up to here
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;    // snapshot file size (0 when nothing was new since the last one)
  double seconds = 0;
};

struct Stats {
  std::uint64_t entries = 0;          // live status entries
  std::uint64_t cases = 0;            // live cases
  std::uint64_t distinctClients = 0;  // distinct clientId values
  std::uint64_t creates = 0, updates = 0, removes = 0;  // since construction
  std::uint64_t searches = 0;
  std::uint64_t rebuilds = 0;        // index compactions finished (see architecture.md)
  bool compacting = false;           // one under way, a step on each write
  std::uint64_t postingBytes = 0;    // bytes held by posting lists and bitmaps (only from stats(true))

  // Persistence (all zero for an in-memory repository).
  bool persistent = false;
  bool readOnly = false;             // a write or fsync failed: writes are refused
  std::uint64_t lastSeq = 0;         // of the last record in the log
  std::uint64_t syncedSeq = 0;       // records up to here are fsynced
  std::uint64_t syncs = 0;
  std::uint64_t logBytesSinceCheckpoint = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t recoveredSnapshotEntries = 0;  // at open
  std::uint64_t replayedRecords = 0;           // at open
  std::uint64_t tailBytesDropped = 0;          // torn tail cut off the last segment at open
  std::string tailRepair;                      // what open cut, where and why (torn tail or point-in-time repair)
  std::uint64_t recordsDroppedAtOpen = 0;      // RecoveryMode::kPointInTime: log records cut off
  std::uint64_t streamPosition = 0;            // of the last stream command taken (applyStream)
};

class Repository {
 public:
  // An in-memory repository: nothing survives the process.
  explicit Repository(Options options = {});
  ~Repository();

  // Opens (creating it if needed) the data directory `dir`: takes its lock,
  // loads the snapshot, replays the log — treating damage per
  // options.recovery: by default a torn tail of the last segment is cut off,
  // durably, and any other damage is refused — and logs every write from
  // then on, durable per options.fsync.
  // Errors: IOError (cannot read or write, or locked by another process),
  // Corruption (a damaged file, named with the byte offset; see
  // caserepo/maintenance.h for verify and repair).
  static Result<std::unique_ptr<Repository>> open(const std::string& dir, Options options = {});

  // Writes a snapshot of the current state and drops the log it covers.
  // Readers and writers go on while the state is copied and written: each
  // waits at most for one small chunk of the copy (under a millisecond). A failed
  // checkpoint leaves the log and the repository as they were (writable).
  // Errors: InvalidArgument (in-memory repository), IOError, ReadOnly.
  Result<CheckpointInfo> checkpoint();
  Repository(const Repository&) = delete;
  Repository& operator=(const Repository&) = delete;

  // Validates, fills defaults, stamps the dates and stores a new entry; it
  // becomes its case's current status. Returns the stored entry.
  // Errors: InvalidArgument, Conflict (the case has another client or type),
  // and for every write: IOError (the log append or fsync failed: the write
  // is not stored), ReadOnly (one failed earlier).
  Result<Entry> create(const CreateRequest& request);

  // Applies `patch` to every entry of the case and sets their updateDate.
  // Returns the case's current entry. Errors: InvalidArgument (empty or bad
  // patch), NotFound.
  Result<Entry> update(std::string_view caseId, const Patch& patch);

  // Deletes every entry of the case. Returns how many. Errors: NotFound.
  Result<std::uint64_t> remove(std::string_view caseId);

  // Applies commands of an ordered stream, in order, each durable with its
  // position (caserepo/stream.h). Commands at or below streamPosition() were
  // applied before and are passed over. Stops at the first command refused
  // (or at a failure of the log): see StreamApplied. One call at a time;
  // other writers may go on meanwhile.
  StreamApplied applyStream(std::span<const StreamCommand> commands);
  // The position of the last stream command taken (0: none), as of the
  // last applyStream, and at open from the snapshot and the log.
  std::uint64_t streamPosition() const;

  // The case's current (newest) entry. Errors: NotFound.
  Result<Entry> get(std::string_view caseId) const;

  // Every entry of the case, oldest first. Errors: NotFound.
  Result<std::vector<Entry>> history(std::string_view caseId) const;

  // get() and history() without copying: `visit` is called with a view of
  // the current entry (visit) or of each entry oldest first (visit_history)
  // while the read lock is held — the views are valid only during the call,
  // and `visit` must not call back into this repository. Allocates nothing.
  // Errors: NotFound.
  using Visitor = std::function<void(const EntryView&)>;
  Status visit(std::string_view caseId, const Visitor& visit) const;
  Status visit_history(std::string_view caseId, const Visitor& visit) const;

  // One page of the entries matching `filter`, in `page.sort` order, with the
  // exact number of matches. Errors: InvalidArgument (bad value, page, size,
  // inverted date range, damaged token or token of another filter/sort).
  Result<SearchResult> search(const Filter& filter, const PageRequest& page = {}) const;

  // Facet counts: for the entries matching `filter` (as search() would find
  // them), the number holding each value of `field`, computed on the
  // posting bitmaps without materialising a page. Errors: InvalidArgument
  // (as search()).
  Result<FacetResult> facets(const Filter& filter, FacetField field) const;

  // Counts and persistence state: O(1), cheap enough for every health
  // check. With `memory`, also postingBytes — a walk over every distinct
  // value (~250 ms at 1M entries, under the read lock): for an operator's
  // occasional look, not for polling.
  Stats stats(bool memory = false) const;

 private:
  friend class RepositoryInternal;  // white-box door for tests (src/engine/repository_internal.h)
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caserepo
