#include "db/repository_internal.h"
#include "peer.h"

namespace caserepo::bench {
namespace {

// Reads every field of a view, as a caller using it would.
std::size_t field_bytes(const EntryView& v) {
  return v.caseId.size() + v.caseType.size() + v.clientId.size() + v.clientType.size() + v.status.size() +
         (v.businessKey ? v.businessKey->size() : 0) + (v.source ? v.source->size() : 0) +
         (v.statusDescription ? v.statusDescription->size() : 0);
}

class CaserepoPeer final : public Peer {
 public:
  explicit CaserepoPeer(std::unique_ptr<Repository> repo) : repo_(std::move(repo)) {}
  std::string name() const override { return "caserepo"; }

  std::optional<Entry> get(const std::string& caseId) override {
    auto e = repo_->get(caseId);
    return e.ok() ? std::optional<Entry>(std::move(*e)) : std::nullopt;
  }
  std::size_t history(const std::string& caseId) override {
    auto h = repo_->history(caseId);
    return h.ok() ? h->size() : 0;
  }
  PeerPage search(const Filter& filter, const PageRequest& page) override {
    auto r = repo_->search(filter, page);
    if (!r.ok()) throw std::runtime_error(r.error().to_string());
    return PeerPage{r->totalElements, std::move(r->content), r->nextPageToken.value_or("")};
  }
  void create(const CreateRequest& request, Timestamp) override {
    if (!repo_->create(request).ok()) throw std::runtime_error("create failed");
  }
  void update(const std::string& caseId, const Patch& patch, Timestamp) override {
    if (!repo_->update(caseId, patch).ok()) throw std::runtime_error("update failed");
  }
  std::uint64_t remove(const std::string& caseId) override {
    auto r = repo_->remove(caseId);
    return r.ok() ? *r : 0;
  }
  std::size_t get_in_place(const std::string& caseId) override {
    std::size_t bytes = 0;
    (void)repo_->visit(caseId, [&](const EntryView& v) { bytes = field_bytes(v); });
    return bytes;
  }
  std::size_t history_in_place(const std::string& caseId) override {
    std::size_t bytes = 0;
    (void)repo_->visit_history(caseId, [&](const EntryView& v) { bytes += field_bytes(v); });
    return bytes;
  }
  std::vector<std::pair<std::string, std::uint64_t>> facets(const Filter& filter, FacetField field) override {
    auto r = repo_->facets(filter, field);
    if (!r.ok()) throw std::runtime_error(r.error().to_string());
    return std::move(r->counts);
  }
  std::uint64_t counted_bytes() const override { return RepositoryInternal::store(*repo_).memory_bytes(); }

 private:
  std::unique_ptr<Repository> repo_;
};

}  // namespace

std::vector<Entry> export_entries(const Repository& repo) {
  std::vector<Entry> entries;
  entries.reserve(repo.stats().entries);
  PageRequest page{SortOrder::kCreationDateAsc, 0, kMaxPageSize, ""};
  while (true) {
    auto r = repo.search({}, page);
    if (!r.ok()) throw std::runtime_error(r.error().to_string());
    for (auto& e : r->content) entries.push_back(std::move(e));
    if (!r->nextPageToken) return entries;
    page.token = *r->nextPageToken;
  }
}

std::unique_ptr<Peer> make_caserepo_peer(std::unique_ptr<Repository> filled) {
  return std::make_unique<CaserepoPeer>(std::move(filled));
}

}  // namespace caserepo::bench
