// Repository: validation, defaults, stamping, locking and logging around the
// Store. Every write is resolved (which case, which id, which timestamp)
// under the write lock, appended to the log, applied, and acknowledged once
// the fsync policy is satisfied.
#include "caserepo/repository.h"

#include <atomic>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <thread>

#include "caserepo/env.h"
#include "engine/apply.h"
#include "engine/planner.h"
#include "engine/repository_internal.h"
#include "engine/store.h"
#include "engine/validation.h"
#include "storage/data_dir.h"
#include "storage/journal.h"
#include "storage/log.h"
#include "util/rw_lock.h"

namespace caserepo {
namespace {

std::string not_found(std::string_view caseId) { return "no case '" + std::string(caseId) + "'"; }

// A random (version 4) UUID, lowercase, 36 characters.
std::string random_uuid(std::mt19937_64& rng) {
  const std::uint64_t hi = (rng() & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  const std::uint64_t lo = (rng() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s.push_back('-');
    const std::uint64_t word = i < 16 ? hi : lo;
    s.push_back(kHex[(word >> (60 - 4 * (i % 16))) & 0xF]);
  }
  return s;
}

}  // namespace

class Repository::Impl {
 public:
  explicit Impl(Options options) : options_(std::move(options)), rng_(std::random_device{}()) {
    if (!options_.clock) {
      options_.clock = [] { return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()); };
    }
    if (options_.env == nullptr) options_.env = Env::posix();
  }

  ~Impl() {
    if (checkpointer_.joinable()) checkpointer_.join();
    journal_.reset();  // syncs what is unsynced, unless the log failed
  }

  Status open(const std::string& dir) {
    Env& env = *options_.env;
    dir_ = dir;
    if (auto s = env.create_dir(dir); !s.ok()) return s;
    auto lock = env.lock_file(dir + "/" + storage::kLockName);
    if (!lock.ok()) return lock.error();
    dir_lock_ = std::move(*lock);
    auto recovered = storage::recover(env, dir, store_, /*repair=*/true);
    if (!recovered.ok()) return recovered.error();
    recovery_ = recovered->report;
    checkpoint_seq_ = recovery_.snapshot_seq;
    auto file = env.open_writable(recovered->last_segment, /*truncate=*/recovered->last_segment_fresh);
    if (!file.ok()) return file.error();
    if (recovered->last_segment_fresh) {
      if (auto s = (*file)->append(storage::encode_log_header(recovery_.last_seq + 1)); !s.ok()) return s;
      if (auto s = (*file)->sync(); !s.ok()) return s;
      if (auto s = env.sync_dir(dir); !s.ok()) return s;
    }
    for (const std::string& name : recovery_.obsolete) (void)env.remove(dir + "/" + name);
    journal_ = std::make_unique<storage::Journal>(env, dir, options_.fsync, options_.fsyncInterval, std::move(*file),
                                                  recovery_.last_seq + 1);
    return ok_status();
  }

  Result<Entry> create(CreateRequest request) {
    if (!options_.applicationName.empty()) {
      if (!request.caseType) request.caseType = options_.applicationName;
      if (!request.source) request.source = kLowCodeDefaultSource;
    }
    if (auto e = engine::check_create(request)) return *e;

    std::unique_lock lock(mutex_);
    if (auto joined = store_.joined_case(request)) {
      if (store_.conflicts(*joined, request.clientId, *request.caseType)) {
        return Error::Conflict("case '" + *joined + "' belongs to another client or case type");
      }
      request.caseId = std::move(joined);
    } else {
      do {
        request.caseId = random_uuid(rng_);
      } while (store_.case_entries(*request.caseId) != nullptr);
    }
    auto done = commit(lock, storage::CreateRecord{std::move(request), stamp()});
    if (!done.ok()) return done.error();
    ++creates_;
    return std::move(done->entry);
  }

  Result<Entry> update(std::string_view caseId, const Patch& patch) {
    if (auto e = engine::check_patch(patch)) return *e;
    std::unique_lock lock(mutex_);
    if (store_.case_entries(caseId) == nullptr) return Error::NotFound(not_found(caseId));
    auto done = commit(lock, storage::UpdateRecord{std::string(caseId), patch, stamp()});
    if (!done.ok()) return done.error();
    ++updates_;
    return std::move(done->entry);
  }

  Result<std::uint64_t> remove(std::string_view caseId) {
    std::unique_lock lock(mutex_);
    const engine::Posting* entries = store_.case_entries(caseId);
    if (entries == nullptr) return Error::NotFound(not_found(caseId));
    const std::uint64_t count = entries->size();
    auto done = commit(lock, storage::RemoveRecord{std::string(caseId)});
    if (!done.ok()) return done.error();
    ++removes_;
    return count;
  }

  Result<Entry> get(std::string_view caseId) const {
    std::shared_lock lock(mutex_);
    const engine::Posting* entries = store_.case_entries(caseId);
    if (entries == nullptr) return Error::NotFound(not_found(caseId));
    return store_.materialize(entries->last_slot());
  }

  Result<std::vector<Entry>> history(std::string_view caseId) const {
    std::shared_lock lock(mutex_);
    const engine::Posting* entries = store_.case_entries(caseId);
    if (entries == nullptr) return Error::NotFound(not_found(caseId));
    std::vector<Entry> out;
    out.reserve(entries->size());
    entries->for_each_slot([&](std::uint32_t slot) { out.push_back(store_.materialize(slot)); });
    return out;
  }

  Result<SearchResult> search(const Filter& filter, const PageRequest& page) const {
    if (auto e = engine::check_filter(filter)) return *e;
    if (auto e = engine::check_page(page)) return *e;
    searches_.fetch_add(1, std::memory_order_relaxed);
    std::shared_lock lock(mutex_);
    return engine::run_search(store_, filter, page);
  }

  Result<CheckpointInfo> checkpoint() {
    if (!journal_) return Error::InvalidArgument("an in-memory repository has nothing to checkpoint");
    std::lock_guard one_at_a_time(checkpoint_mu_);
    const auto t0 = std::chrono::steady_clock::now();
    storage::SnapshotData data;
    {
      std::shared_lock lock(mutex_);  // readers go on; writers wait while the state is copied
      if (auto f = journal_->failure()) return Error::ReadOnly("the log failed earlier: " + f->message());
      data.covered_seq = journal_->last_seq();
      if (data.covered_seq == checkpoint_seq_.load()) {
        return CheckpointInfo{data.covered_seq, store_.entry_count(), 0, 0};
      }
      data.entries = store_.export_entries();
      data.counters = store_.counters();
      if (auto s = journal_->rotate(); !s.ok()) return s.error();
    }
    if (auto s = storage::write_checkpoint(*options_.env, dir_, data); !s.ok()) return s.error();
    checkpoint_seq_ = data.covered_seq;
    checkpoints_.fetch_add(1);
    CheckpointInfo info{data.covered_seq, data.entries.size(), 0,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
    return info;
  }

  Stats stats() const {
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
    s.postingBytes = store_.posting_bytes();
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
      s.tailBytesDropped = recovery_.tail_bytes_dropped;
      s.tailRepair = recovery_.tail_reason;
    }
    return s;
  }

  engine::Store& store() { return store_; }

 private:
  struct Committed {
    Entry entry;
  };

  // Logs `m`, applies it, releases the lock, waits for durability.
  // REQUIRES: `lock` holds mutex_ exclusively; m passed check_mutation.
  Result<Committed> commit(std::unique_lock<util::RwLock>& lock, const storage::Mutation& m) {
    std::uint64_t seq = 0;
    if (journal_) {
      auto appended = journal_->append(storage::type_of(m), storage::encode_payload(m));
      if (!appended.ok()) return appended.error();
      seq = *appended;
    }
    const std::uint32_t slot = engine::apply_mutation(store_, m);
    Committed done;
    if (slot != engine::kNoValue) done.entry = store_.materialize(slot);
    lock.unlock();
    if (journal_) {
      if (auto s = journal_->wait_durable(seq); !s.ok()) return s.error();
      maybe_checkpoint();
    }
    return done;
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

  // REQUIRES: mutex_ held exclusively.
  std::int64_t stamp() const { return store_.next_stamp(options_.clock().time_since_epoch().count()); }

  Options options_;
  mutable util::RwLock mutex_;
  engine::Store store_;
  std::mt19937_64 rng_;
  std::atomic<std::uint64_t> creates_{0}, updates_{0}, removes_{0};  // counted after the lock is released
  mutable std::atomic<std::uint64_t> searches_{0};

  // Persistence; all empty for an in-memory repository.
  std::string dir_;
  std::unique_ptr<FileLock> dir_lock_;
  std::unique_ptr<storage::Journal> journal_;
  storage::RecoveryReport recovery_;
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
Result<Entry> Repository::get(std::string_view caseId) const { return impl_->get(caseId); }
Result<std::vector<Entry>> Repository::history(std::string_view caseId) const { return impl_->history(caseId); }
Result<SearchResult> Repository::search(const Filter& filter, const PageRequest& page) const {
  return impl_->search(filter, page);
}
Result<CheckpointInfo> Repository::checkpoint() { return impl_->checkpoint(); }
Stats Repository::stats() const { return impl_->stats(); }

engine::Store& RepositoryInternal::store(Repository& repo) { return repo.impl_->store(); }

}  // namespace caserepo
