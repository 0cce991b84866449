// Repository: the facade over the engine (in-memory state) and storage
// (files). Reads take the shared lock and read the Store. Writes are
// validated, then line up in the WriterQueue; the leader of each batch
// resolves it (BatchResolver), appends it to the Journal with one write,
// waits until it is durable per the fsync policy, and only then applies it
// to the Store under the exclusive lock — so a reader never sees a write
// that is not durable, and a write whose log append or fsync fails changes
// nothing for anybody.
#include "caserepo/repository.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_set>

#include "caserepo/env.h"
#include "db/batch_resolver.h"
#include "db/case_id_generator.h"
#include "db/recovery.h"
#include "db/reported_change.h"
#include "db/repository_internal.h"
#include "db/writer_queue.h"
#include "engine/apply.h"
#include "engine/planner.h"
#include "engine/store.h"
#include "engine/validation.h"
#include "storage/data_dir.h"
#include "storage/journal.h"
#include "storage/log.h"
#include "storage/records.h"
#include "util/rw_lock.h"

namespace caserepo {
namespace {

// Entries a checkpoint copies under one hold of the shared lock (~0.4 ms):
// a batch waits at most that long to be applied, and readers queued behind
// it as long. (1,024 let a writer issuing one write per ms fall 240 ms
// behind during a 1M-entry copy; 256 keeps its p99 at ~10 ms.)
constexpr std::size_t kCheckpointChunk = 256;

std::string describe_repair(const RepairReport& r) {
  std::string s = r.damagedFile + " at offset " + std::to_string(r.damagedOffset) + ": " + r.damage + "; " +
                  std::to_string(r.recordsDropped) + " record(s) dropped";
  if (r.recordsDropped > 0) s += " (seq " + std::to_string(r.firstDroppedSeq) + ".." + std::to_string(r.lastDroppedSeq) + ")";
  for (const std::string& f : r.evidenceFiles) s += "; kept in " + f;
  return s;
}

}  // namespace

class Repository::Impl {
 public:
  explicit Impl(Options options)
      : options_(std::move(options)),
        queue_([this](std::span<db::QueuedWrite* const> writes) { return commit_batch(writes); }) {
    if (!options_.clock) {
      options_.clock = [] { return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()); };
    }
    if (options_.env == nullptr) options_.env = Env::posix();
  }

  ~Impl() {
    {
      std::lock_guard guard(checkpointer_mu_);
      if (checkpointer_.joinable()) checkpointer_.join();
    }
    journal_.reset();  // syncs what is unsynced, unless the log failed
  }

  Status open(const std::string& dir) {
    Env& env = *options_.env;
    dir_ = dir;
    if (auto s = env.create_dir(dir); !s.ok()) return s;
    auto lock = env.lock_file(dir + "/" + storage::kLockName);
    if (!lock.ok()) return lock.error();
    dir_lock_ = std::move(*lock);
    std::optional<db::ChangeReplay> changes;
    if (options_.onChange && options_.replayChangesAfter != std::numeric_limits<std::uint64_t>::max()) {
      changes.emplace(db::ChangeReplay{options_.replayChangesAfter, options_.onChange});
    }
    auto recovered = db::recover(env, dir, store_, options_.recovery, /*read_only=*/false, options_.progress,
                                 changes ? &*changes : nullptr);
    if (!recovered.ok()) return recovered.error();
    recovery_ = std::move(recovered->report);
    checkpoint_seq_ = recovery_.snapshot_seq;
    stream_position_ = recovery_.stream_position;
    const std::string path = dir + "/" + recovered->segment_name;
    auto file = env.open_writable(path, /*truncate=*/recovered->fresh);
    if (!file.ok()) return file.error();
    std::uint64_t bytes = recovered->segment_bytes;
    if (recovered->fresh) {
      const std::string header = storage::encode_log_header(recovery_.last_seq + 1);
      if (auto s = (*file)->append(header); !s.ok()) return s;
      if (auto s = (*file)->sync(); !s.ok()) return s;
      if (auto s = env.sync_dir(dir); !s.ok()) return s;
      bytes = header.size();
    }
    journal_ = std::make_unique<storage::Journal>(env, dir, options_.fsync, options_.fsyncInterval, std::move(*file),
                                                  path, bytes, recovery_.last_seq + 1);
    return ok_status();
  }

  // The low-code defaults, then the checks: what every create goes through.
  std::optional<Error> prepare_create(CreateRequest& request) const {
    if (!options_.applicationName.empty()) {
      if (!request.caseType) request.caseType = options_.applicationName;
      if (!request.source) request.source = kLowCodeDefaultSource;
    }
    return engine::check_create(request);
  }

  Result<Entry> create(CreateRequest request) {
    if (auto e = prepare_create(request)) return *e;
    db::QueuedWrite w(std::move(request));
    if (!write(w)) return std::move(*w.error);
    return std::move(w.result.entry);
  }

  Result<Entry> update(std::string_view caseId, const Patch& patch) {
    if (auto e = engine::check_patch(patch)) return *e;
    db::QueuedWrite w(db::UpdateRequest{std::string(caseId), patch});
    if (!write(w)) return std::move(*w.error);
    return std::move(w.result.entry);
  }

  Result<std::uint64_t> remove(std::string_view caseId) {
    db::QueuedWrite w(db::RemoveRequest{std::string(caseId)});
    if (!write(w)) return std::move(*w.error);
    return w.result.removed;
  }

  StreamApplied apply_stream(std::span<const StreamCommand> commands) {
    std::lock_guard one_at_a_time(stream_mu_);
    StreamApplied out;
    std::uint64_t last = stream_position_.load();
    while (out.duplicates < commands.size() && commands[out.duplicates].position <= last) ++out.duplicates;
    out.applied = out.duplicates;
    db::StreamRun run;
    std::deque<db::QueuedWrite> writes;  // stable addresses
    for (std::size_t i = out.duplicates; i < commands.size(); ++i) {
      const StreamCommand& c = commands[i];
      std::optional<Error> invalid;
      if (c.position <= last) invalid = Error::InvalidArgument("stream position " + std::to_string(c.position) +
                                                               " is not above the previous one, " + std::to_string(last));
      db::WriteRequest request = db::RemoveRequest{};
      switch (c.kind) {
        case StreamCommand::Kind::kCreate: {
          CreateRequest create = c.create;
          if (auto e = prepare_create(create); !invalid) invalid = std::move(e);
          request = std::move(create);
          break;
        }
        case StreamCommand::Kind::kUpdate:
          if (!invalid) invalid = engine::check_patch(c.patch);
          request = db::UpdateRequest{c.caseId, c.patch};
          break;
        case StreamCommand::Kind::kRemove: request = db::RemoveRequest{c.caseId}; break;
        case StreamCommand::Kind::kSkip: break;
      }
      if (invalid) {  // refused before anything of it was lined up
        out.stopped = std::move(invalid);
        break;
      }
      last = c.position;
      writes.emplace_back(std::move(request), db::StreamOrigin{c.position, c.time.time_since_epoch().count()}, &run,
                          c.kind == StreamCommand::Kind::kSkip);
    }
    std::vector<db::QueuedWrite*> lined_up;
    lined_up.reserve(writes.size());
    for (db::QueuedWrite& w : writes) lined_up.push_back(&w);
    queue_.write_all(lined_up);
    for (db::QueuedWrite& w : writes) {
      if (w.error) {  // the first refused (the ones after it were not applied)
        out.stopped = std::move(w.error);
        break;
      }
      ++out.applied;
    }
    if (journal_ && out.applied > out.duplicates) maybe_checkpoint();
    return out;
  }

  std::uint64_t stream_position() const { return stream_position_.load(); }

  Result<Entry> get(std::string_view caseId) const {
    std::shared_lock lock(mutex_);
    const std::optional<std::uint32_t> newest = store_.newest_slot(caseId);
    if (!newest) return Error::NotFound(not_found(caseId));
    return store_.materialize(*newest);
  }

  Result<std::vector<Entry>> history(std::string_view caseId) const {
    std::shared_lock lock(mutex_);
    const engine::Posting* entries = store_.case_entries(caseId);
    if (entries == nullptr) return Error::NotFound(not_found(caseId));
    std::vector<Entry> out;
    out.reserve(entries->size());
    store_.prefetch_records(*entries);
    entries->for_each_slot([&](std::uint32_t slot) { out.push_back(store_.materialize(slot)); });
    return out;
  }

  Status visit(std::string_view caseId, const Visitor& f, bool all) const {
    std::shared_lock lock(mutex_);
    if (!all) {
      const std::optional<std::uint32_t> newest = store_.newest_slot(caseId);
      if (!newest) return Error::NotFound(not_found(caseId));
      engine::Store::ViewScratch scratch;
      f(store_.view(*newest, scratch));
      return ok_status();
    }
    const engine::Posting* entries = store_.case_entries(caseId);
    if (entries == nullptr) return Error::NotFound(not_found(caseId));
    store_.prefetch_records(*entries);
    engine::Store::ViewScratch scratch;
    entries->for_each_slot([&](std::uint32_t slot) { f(store_.view(slot, scratch)); });
    return ok_status();
  }

  Result<SearchResult> search(const Filter& filter, const PageRequest& page) const {
    if (auto e = engine::check_filter(filter)) return *e;
    if (auto e = engine::check_page(page)) return *e;
    searches_.fetch_add(1, std::memory_order_relaxed);
    std::shared_lock lock(mutex_);
    return engine::run_search(store_, filter, page);
  }

  Result<FacetResult> facets(const Filter& filter, FacetField field) const {
    if (auto e = engine::check_filter(filter)) return *e;
    static constexpr engine::Field kFields[] = {engine::Field::kStatus, engine::Field::kCaseType,
                                                engine::Field::kClientType, engine::Field::kSource};
    const auto index = static_cast<std::size_t>(field);
    if (index >= std::size(kFields)) return Error::InvalidArgument("no such facet field");
    std::shared_lock lock(mutex_);
    return engine::run_facets(store_, filter, kFields[index]);
  }

  // Copies the state in chunks under the shared lock, while batches go on
  // committing between them. Each chunk is consistent, but chunks are of
  // different moments: so from before the first chunk on, every applied
  // write records its case, and at the end — in a turn of the writer queue,
  // with no batch in flight — those cases are copied again, as they are at
  // the covered seq. Cases no write touched are the same at every moment.
  Result<CheckpointInfo> checkpoint() {
    if (!journal_) return Error::InvalidArgument("an in-memory repository has nothing to checkpoint");
    std::lock_guard one_at_a_time(checkpoint_mu_);
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<Error> refused;
    std::optional<CheckpointInfo> nothing_new;
    queue_.exclusive([&] {
      if (auto f = journal_->failure()) {
        refused = Error::ReadOnly("the log failed earlier: " + f->message());
      } else if (journal_->last_seq() == checkpoint_seq_.load()) {
        nothing_new = CheckpointInfo{journal_->last_seq(), store_.entry_count(), 0, 0};
      } else {
        touched_.clear();
        tracking_ = true;
      }
    });
    if (refused) return *refused;
    if (nothing_new) return *nothing_new;

    storage::SnapshotData data;
    std::uint64_t total = 0;
    {
      std::shared_lock lock(mutex_);
      total = store_.entry_count();
    }
    data.entries.reserve(total + total / 4);  // no reallocation (of ~200 MB at 1M entries) inside a chunk
    for (std::optional<std::uint64_t> after = 0; after;) {
      std::shared_lock lock(mutex_);
      after = store_.export_after(*after, kCheckpointChunk, data.entries);
      lock.unlock();
      if (options_.progress && data.entries.size() % (64 * kCheckpointChunk) == 0) {
        options_.progress(Progress{"checkpoint: copying", data.entries.size(), total, false});
      }
    }
    if (options_.progress) options_.progress(Progress{"checkpoint: copying", data.entries.size(), data.entries.size(), true});
    std::unordered_set<std::string> touched;
    std::vector<engine::StoredEntry> recopied;
    Status rotated = ok_status();
    queue_.exclusive([&] {
      tracking_ = false;
      touched.swap(touched_);
      data.covered_seq = journal_->last_seq();
      data.counters = store_.counters();
      data.stream_position = stream_position_.load();
      for (const std::string& caseId : touched) store_.export_case(caseId, recopied);
      rotated = journal_->rotate();
    });
    if (!rotated.ok()) return rotated.error();
    if (!touched.empty()) {
      std::erase_if(data.entries, [&](const engine::StoredEntry& e) { return touched.count(e.caseId) > 0; });
      auto by_seq = [](const engine::StoredEntry& a, const engine::StoredEntry& b) { return a.seq < b.seq; };
      std::sort(recopied.begin(), recopied.end(), by_seq);
      const auto middle = static_cast<std::ptrdiff_t>(data.entries.size());
      data.entries.insert(data.entries.end(), std::make_move_iterator(recopied.begin()),
                          std::make_move_iterator(recopied.end()));
      std::inplace_merge(data.entries.begin(), data.entries.begin() + middle, data.entries.end(), by_seq);
    }
    if (options_.beforeLogDropped && !options_.beforeLogDropped(data.covered_seq)) {
      // The log stays (a new segment was started: recovery reads on through it).
      return Error::IOError("checkpoint put off: the log up to seq " + std::to_string(data.covered_seq) +
                            " is still needed (beforeLogDropped: the change feed has not published it)");
    }
    auto bytes = storage::write_checkpoint(*options_.env, dir_, data);
    if (!bytes.ok()) return bytes.error();
    checkpoint_seq_ = data.covered_seq;
    checkpoints_.fetch_add(1);
    return CheckpointInfo{data.covered_seq, data.entries.size(), *bytes,
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
  }

  Stats stats(bool memory) const {
    std::shared_lock lock(mutex_);
    Stats s;
    s.entries = store_.entry_count();
    s.cases = store_.case_count();
    s.distinctClients = store_.dictionary(engine::Field::kClientId).size();
    s.creates = creates_.load();
    s.updates = updates_.load();
    s.removes = removes_.load();
    s.searches = searches_.load(std::memory_order_relaxed);
    s.rebuilds = store_.rebuild_count();
    s.compacting = store_.compacting();
    if (memory) s.postingBytes = store_.posting_bytes();
    s.streamPosition = stream_position_.load();
    if (journal_) {
      s.persistent = true;
      s.readOnly = journal_->failure().has_value();
      s.lastSeq = journal_->last_seq();
      s.syncedSeq = journal_->synced_seq();
      s.syncs = journal_->syncs();
      s.logBytesSinceCheckpoint = journal_->bytes_since_rotate();
      s.checkpoints = checkpoints_.load();
      s.recoveredSnapshotEntries = recovery_.snapshot_entries;
      s.replayedRecords = recovery_.replayed_records;
      s.tailBytesDropped = recovery_.tail_bytes;
      s.tailRepair = recovery_.repair.damaged ? describe_repair(recovery_.repair) : recovery_.tail_reason;
      s.recordsDroppedAtOpen = recovery_.repair.recordsDropped;
    }
    return s;
  }

  engine::Store& store() { return store_; }

 private:
  static std::string not_found(std::string_view caseId) { return "no case '" + std::string(caseId) + "'"; }

  // Commits `w`; false when it failed (w.error says why).
  bool write(db::QueuedWrite& w) {
    queue_.write(w);
    if (w.error) return false;
    if (journal_) maybe_checkpoint();
    return true;
  }

  // The leader's work for one batch (see the file comment). Allocation
  // failure while applying a logged write would leave the Store behind the
  // log: the process stops instead (noexcept), and a restart replays it.
  std::size_t commit_batch(std::span<db::QueuedWrite* const> writes) noexcept {
    db::BatchResolver resolver(store_, options_.clock().time_since_epoch().count(), ids_, writes.size() > 1);
    struct Resolved {
      db::QueuedWrite* write;
      std::optional<engine::Mutation> mutation;  // none: a stream skip
      std::uint64_t removed;
      std::string removed_type = {};  // a remove's caseType, for onChange
    };
    std::vector<Resolved> batch;
    batch.reserve(writes.size());
    std::size_t taken = 0;
    for (db::QueuedWrite* w : writes) {
      if (w->run && w->run->stopped) {  // an earlier command of its stream was refused
        ++taken;
        w->error = Error::InvalidArgument("not applied: an earlier stream command was refused");
        continue;
      }
      if (w->skip) {
        ++taken;
        batch.push_back(Resolved{w, std::nullopt, 0});
        continue;
      }
      auto r = resolver.resolve(w->request, w->stream);
      if (r.kind == db::BatchResolver::Resolution::kDependent) break;  // it leads the next batch
      ++taken;
      if (r.kind == db::BatchResolver::Resolution::kRefused) {
        w->error = std::move(r.error);
        if (w->run) w->run->stopped = true;
      } else {
        batch.push_back(Resolved{w, std::move(r.mutation), r.removed});
      }
    }
    if (batch.empty()) return taken;
    std::uint64_t first_seq = next_change_seq_;
    if (journal_) {
      std::vector<storage::PendingRecord> records;
      records.reserve(batch.size());
      for (const Resolved& r : batch) {
        if (r.write->stream.position > 0) {
          records.push_back({storage::RecordType::kStream,
                             storage::encode_stream_payload({r.write->stream.position, r.mutation})});
        } else {
          records.push_back({storage::type_of(*r.mutation), storage::encode_payload(*r.mutation)});
        }
      }
      auto logged = journal_->write(records);
      if (!logged.ok()) {
        for (Resolved& r : batch) r.write->error = logged.error();
        return taken;
      }
      first_seq = *logged - records.size() + 1;
    }
    next_change_seq_ = first_seq + batch.size();
    {
      std::unique_lock lock(mutex_);
      for (Resolved& r : batch) {
        if (r.write->stream.position > 0) stream_position_.store(r.write->stream.position);
        if (!r.mutation) continue;
        if (tracking_) touched_.emplace(engine::case_of(*r.mutation));
        if (options_.onChange && r.mutation->index() == 2) {
          r.removed_type = db::case_type_before_remove(store_, *r.mutation);
        }
        const std::uint32_t slot = engine::apply_mutation(store_, *r.mutation);
        if (slot != engine::kNoValue) r.write->result.entry = store_.materialize(slot);
        r.write->result.removed = r.removed;
        (r.mutation->index() == 0 ? creates_ : r.mutation->index() == 1 ? updates_ : removes_).fetch_add(1);
      }
    }
    if (options_.onChange) {
      std::uint64_t seq = first_seq;
      for (const Resolved& r : batch) {
        const std::uint64_t this_seq = seq++;
        if (!r.mutation) continue;
        options_.onChange(db::reported_change(*r.mutation, this_seq, r.write->stream.position, &r.write->result.entry,
                                              r.removed_type, r.removed));
      }
    }
    return taken;
  }

  void maybe_checkpoint() {
    if (options_.checkpointLogBytes == 0 || journal_->bytes_since_rotate() < options_.checkpointLogBytes) return;
    if (checkpoint_running_.exchange(true)) return;
    std::lock_guard guard(checkpointer_mu_);
    if (checkpointer_.joinable()) checkpointer_.join();
    checkpointer_ = std::thread([this] {
      (void)checkpoint();  // a failure leaves the log as it is; the next threshold tries again
      checkpoint_running_ = false;
    });
  }

  Options options_;
  mutable util::RwLock mutex_;  // readers shared; applying a batch exclusive
  engine::Store store_;
  db::WriterQueue queue_;
  // Touched only by the leader of a batch or an exclusive task (never two at once).
  db::CaseIdGenerator ids_;
  std::uint64_t next_change_seq_ = 1;  // an in-memory repository's Change::seq (a persistent one's is the log's)
  // Set and read by exclusive tasks; read (and touched_ written) by a batch's apply.
  bool tracking_ = false;                    // a checkpoint is copying: record touched cases
  std::unordered_set<std::string> touched_;  // cases written since the copy began
  std::atomic<std::uint64_t> creates_{0}, updates_{0}, removes_{0};
  std::mutex stream_mu_;                       // one applyStream at a time
  std::atomic<std::uint64_t> stream_position_{0};  // written by batch leaders under mutex_
  mutable std::atomic<std::uint64_t> searches_{0};

  // Persistence; all empty for an in-memory repository.
  std::string dir_;
  std::unique_ptr<FileLock> dir_lock_;
  std::unique_ptr<storage::Journal> journal_;
  db::RecoveryReport recovery_;
  std::mutex checkpoint_mu_;
  std::atomic<std::uint64_t> checkpoint_seq_{0};
  std::atomic<std::uint64_t> checkpoints_{0};
  std::atomic<bool> checkpoint_running_{false};
  std::mutex checkpointer_mu_;
  std::thread checkpointer_;
};

Repository::Repository(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Repository::~Repository() = default;

Result<std::unique_ptr<Repository>> Repository::open(const std::string& dir, Options options) {
  auto repo = std::make_unique<Repository>(std::move(options));
  if (auto s = repo->impl_->open(dir); !s.ok()) return s.error();
  return repo;
}

Result<Entry> Repository::create(const CreateRequest& request) { return impl_->create(request); }
Result<Entry> Repository::update(std::string_view caseId, const Patch& patch) { return impl_->update(caseId, patch); }
Result<std::uint64_t> Repository::remove(std::string_view caseId) { return impl_->remove(caseId); }
StreamApplied Repository::applyStream(std::span<const StreamCommand> commands) { return impl_->apply_stream(commands); }
std::uint64_t Repository::streamPosition() const { return impl_->stream_position(); }
Result<Entry> Repository::get(std::string_view caseId) const { return impl_->get(caseId); }
Result<std::vector<Entry>> Repository::history(std::string_view caseId) const { return impl_->history(caseId); }
Status Repository::visit(std::string_view caseId, const Visitor& f) const { return impl_->visit(caseId, f, false); }
Status Repository::visit_history(std::string_view caseId, const Visitor& f) const { return impl_->visit(caseId, f, true); }
Result<SearchResult> Repository::search(const Filter& filter, const PageRequest& page) const {
  return impl_->search(filter, page);
}
Result<FacetResult> Repository::facets(const Filter& filter, FacetField field) const {
  return impl_->facets(filter, field);
}
Result<CheckpointInfo> Repository::checkpoint() { return impl_->checkpoint(); }
Stats Repository::stats(bool memory) const { return impl_->stats(memory); }

engine::Store& RepositoryInternal::store(Repository& repo) { return repo.impl_->store(); }

}  // namespace caserepo
