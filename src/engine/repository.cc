// Repository: validation, defaults, stamping and locking around the Store.
#include "caserepo/repository.h"

#include "engine/repository_internal.h"

#include <atomic>
#include <mutex>
#include <random>
#include <shared_mutex>

#include "engine/planner.h"
#include "engine/store.h"
#include "engine/validation.h"
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
    const std::uint32_t slot = store_.insert(request, stamp());
    ++creates_;
    return store_.materialize(slot);
  }

  Result<Entry> update(std::string_view caseId, const Patch& patch) {
    if (auto e = engine::check_patch(patch)) return *e;
    std::unique_lock lock(mutex_);
    const engine::Posting* entries = store_.case_entries(caseId);
    if (entries == nullptr) return Error::NotFound(not_found(caseId));
    store_.update(caseId, patch, stamp());
    ++updates_;
    return store_.materialize(store_.case_entries(caseId)->last_slot());
  }

  Result<std::uint64_t> remove(std::string_view caseId) {
    std::unique_lock lock(mutex_);
    if (store_.case_entries(caseId) == nullptr) return Error::NotFound(not_found(caseId));
    ++removes_;
    return store_.remove(caseId);
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

  engine::Store& store() { return store_; }

  Stats stats() const {
    std::shared_lock lock(mutex_);
    Stats s;
    s.entries = store_.entry_count();
    s.cases = store_.case_count();
    s.distinctClients = store_.dictionary(engine::Field::kClientId).size();
    s.creates = creates_;
    s.updates = updates_;
    s.removes = removes_;
    s.searches = searches_.load(std::memory_order_relaxed);
    s.rebuilds = store_.rebuild_count();
    s.postingBytes = store_.posting_bytes();
    return s;
  }

 private:
  // REQUIRES: mutex_ held exclusively.
  std::int64_t stamp() const { return store_.next_stamp(options_.clock().time_since_epoch().count()); }

  Options options_;
  mutable util::RwLock mutex_;
  engine::Store store_;
  std::mt19937_64 rng_;
  std::uint64_t creates_ = 0, updates_ = 0, removes_ = 0;
  mutable std::atomic<std::uint64_t> searches_{0};
};

Repository::Repository(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Repository::~Repository() = default;

Result<Entry> Repository::create(const CreateRequest& request) { return impl_->create(request); }
Result<Entry> Repository::update(std::string_view caseId, const Patch& patch) { return impl_->update(caseId, patch); }
Result<std::uint64_t> Repository::remove(std::string_view caseId) { return impl_->remove(caseId); }
Result<Entry> Repository::get(std::string_view caseId) const { return impl_->get(caseId); }
Result<std::vector<Entry>> Repository::history(std::string_view caseId) const { return impl_->history(caseId); }
Result<SearchResult> Repository::search(const Filter& filter, const PageRequest& page) const {
  return impl_->search(filter, page);
}
Stats Repository::stats() const { return impl_->stats(); }

engine::Store& RepositoryInternal::store(Repository& repo) { return repo.impl_->store(); }

}  // namespace caserepo
