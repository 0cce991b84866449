#include "support/differential_harness.h"

#include <sstream>
#include <stdexcept>

#include "db/repository_internal.h"

namespace caserepo::testing {
namespace {

const std::string kDataDir = "/harness";

template <class T>
std::string compare(const char* what, const Result<T>& engine, const Result<T>& model) {
  if (engine.ok() != model.ok()) {
    return std::string(what) + ": engine " + (engine.ok() ? "succeeded" : engine.error().to_string()) + ", model " +
           (model.ok() ? "succeeded" : model.error().to_string());
  }
  if (!engine.ok()) {
    return engine.error().code() == model.error().code()
               ? ""
               : std::string(what) + ": engine " + engine.error().to_string() + ", model " + model.error().to_string();
  }
  if (!(*engine == *model)) return std::string(what) + ": results differ";
  return "";
}

std::string opt(const std::optional<std::string>& s) { return s ? *s : "null"; }

}  // namespace

std::string describe(const Entry& e) {
  std::ostringstream out;
  out << e.caseId << " bk=" << opt(e.businessKey) << " type=" << e.caseType << " client=" << e.clientId << "/"
      << e.clientType << " status=" << e.status << " desc=" << opt(e.statusDescription) << " source=" << opt(e.source)
      << " created=" << e.creationDate.time_since_epoch().count() << " updated=" << e.updateDate.time_since_epoch().count();
  return out.str();
}

DifferentialHarness::DifferentialHarness(std::string applicationName, engine::Tuning tuning)
    : now_ms_(std::make_shared<std::int64_t>(1735689600000LL)), model_(applicationName) {
  tuning_ = tuning;
  options_.applicationName = std::move(applicationName);
  options_.clock = [now = now_ms_] { return Timestamp(std::chrono::milliseconds(*now)); };
  options_.env = &env_;
  options_.fsync = FsyncPolicy::kNone;
  options_.checkpointLogBytes = 0;  // checkpoints only when the operations ask
  auto repo = Repository::open(kDataDir, options_);
  if (!repo.ok()) throw std::runtime_error(repo.error().to_string());
  repo_ = std::move(*repo);
  RepositoryInternal::store(*repo_).tuning() = tuning_;
}

std::string DifferentialHarness::reopen(bool checkpoint_first) {
  if (checkpoint_first) {
    if (auto c = repo_->checkpoint(); !c.ok()) return "checkpoint: " + c.error().to_string();
  }
  repo_.reset();
  auto repo = Repository::open(kDataDir, options_);
  if (!repo.ok()) return "reopen: " + repo.error().to_string();
  repo_ = std::move(*repo);
  RepositoryInternal::store(*repo_).tuning() = tuning_;
  if (auto d = compare_everything(); !d.empty()) return "after reopen: " + d;
  return "";
}

void DifferentialHarness::advance_clock(std::int64_t ms) { *now_ms_ += ms; }

std::string DifferentialHarness::create(const CreateRequest& request) {
  auto engine = repo_->create(request);
  const std::string id = engine.ok() ? engine->caseId : "model-" + std::to_string(++generated_);
  auto model = model_.create(request, Timestamp(std::chrono::milliseconds(*now_ms_)), id);
  return compare("create", engine, model);
}

std::string DifferentialHarness::update(const std::string& caseId, const Patch& patch) {
  return compare("update", repo_->update(caseId, patch),
                 model_.update(caseId, patch, Timestamp(std::chrono::milliseconds(*now_ms_))));
}

std::string DifferentialHarness::remove(const std::string& caseId) {
  return compare("remove", repo_->remove(caseId), model_.remove(caseId));
}

std::string DifferentialHarness::get(const std::string& caseId) {
  // The copying read and the in-place one agree.
  std::optional<Entry> viewed;
  auto visited = repo_->visit(caseId, [&](const EntryView& v) { viewed = v.to_entry(); });
  auto got = repo_->get(caseId);
  if (visited.ok() != got.ok() || (got.ok() && viewed != *got)) return "get: visit() disagrees with get()";
  return compare("get", std::move(got), model_.get(caseId));
}

std::string DifferentialHarness::history(const std::string& caseId) {
  std::vector<Entry> viewed;
  auto visited = repo_->visit_history(caseId, [&](const EntryView& v) { viewed.push_back(v.to_entry()); });
  auto got = repo_->history(caseId);
  if (visited.ok() != got.ok() || (got.ok() && viewed != *got)) return "history: visit_history() disagrees with history()";
  return compare("history", std::move(got), model_.history(caseId));
}

std::string DifferentialHarness::facets(const Filter& filter, FacetField field) {
  auto engine = repo_->facets(filter, field);
  // The model refuses a bad filter in search; facets must refuse it the same way.
  if (auto valid = model_.search(filter, SortOrder::kCreationDateAsc, 0, 1); !valid.ok()) {
    if (engine.ok() || engine.error().code() != valid.error().code()) return "facets: accepted a filter search refuses";
    return "";
  }
  if (!engine.ok()) return "facets: engine failed: " + engine.error().to_string();
  const FacetResult model = model_.facets(filter, field);
  auto show = [](const FacetResult& r) {
    std::string s = "total " + std::to_string(r.totalElements) + ", missing " + std::to_string(r.missing) + ":";
    for (const auto& [v, n] : r.counts) s += " " + v + "=" + std::to_string(n);
    return s;
  };
  if (engine->counts != model.counts || engine->missing != model.missing || engine->totalElements != model.totalElements) {
    return "facets by field " + std::to_string(static_cast<int>(field)) + ": engine " + show(*engine) + "; model " + show(model);
  }
  return "";
}

std::string DifferentialHarness::compare_page(const char* what, const Walk& walk, const Result<SearchResult>& engine,
                                              const Result<ReferenceModel::Page>& model) {
  std::string where = std::string(what) + " (sort " + std::to_string(static_cast<int>(walk.page.sort)) + ", size " +
                      std::to_string(walk.page.size) + ", page " + std::to_string(walk.page.page) + ", walk page " +
                      std::to_string(walk.pages) + ")";
  if (engine.ok() != model.ok()) {
    return where + ": engine " + (engine.ok() ? "succeeded" : engine.error().to_string()) + ", model " +
           (model.ok() ? "succeeded" : model.error().to_string());
  }
  if (!engine.ok()) {
    return engine.error().code() == model.error().code() ? "" : where + ": different errors";
  }
  const SearchResult& e = *engine;
  const ReferenceModel::Page& m = *model;
  if (e.totalElements != m.total) {
    return where + ": total " + std::to_string(e.totalElements) + " != model " + std::to_string(m.total);
  }
  if (e.content.size() != m.content.size()) {
    return where + ": " + std::to_string(e.content.size()) + " entries != model " + std::to_string(m.content.size());
  }
  for (std::size_t i = 0; i < e.content.size(); ++i) {
    if (!(e.content[i] == m.content[i])) {
      return where + ": entry " + std::to_string(i) + " is " + describe(e.content[i]) + ", model " +
             describe(m.content[i]);
    }
  }
  if (e.page != m.offset / walk.page.size) {
    return where + ": page " + std::to_string(e.page) + " != model " + std::to_string(m.offset / walk.page.size);
  }
  if (e.totalPages != (m.total + walk.page.size - 1) / walk.page.size) return where + ": totalPages";
  if (e.size != walk.page.size) return where + ": size";
  if (e.nextPageToken.has_value() != m.more) {
    return where + ": nextPageToken " + (e.nextPageToken ? "present" : "absent") + ", model has " +
           (m.more ? "more" : "no more");
  }
  return "";
}

std::string DifferentialHarness::start(Walk& walk) {
  walk.page.token.clear();
  walk.pages = 0;
  auto engine = repo_->search(walk.filter, walk.page);
  auto model = model_.search(walk.filter, walk.page.sort, walk.page.page, walk.page.size);
  std::string diff = compare_page("search", walk, engine, model);
  walk.done = !engine.ok() || !engine->nextPageToken;
  if (!walk.done) {
    walk.page.token = *engine->nextPageToken;
    walk.page.page = 0;
    walk.model_key = model->last;
  }
  return diff;
}

std::string DifferentialHarness::next(Walk& walk) {
  ++walk.pages;
  auto engine = repo_->search(walk.filter, walk.page);
  Result<ReferenceModel::Page> model = model_.search_after(walk.filter, walk.page.sort, *walk.model_key, walk.page.size);
  std::string diff = compare_page("token page", walk, engine, model);
  walk.done = !engine.ok() || !engine->nextPageToken;
  if (!walk.done) {
    walk.page.token = *engine->nextPageToken;
    walk.model_key = model->last;
  }
  return diff;
}

std::string DifferentialHarness::search(const Filter& filter, const PageRequest& page, int pages) {
  Walk walk{filter, page, std::nullopt, false, 0};
  if (auto d = start(walk); !d.empty()) return d;
  for (int i = 0; i < pages && !walk.done; ++i) {
    if (auto d = next(walk); !d.empty()) return d;
  }
  return "";
}

std::string DifferentialHarness::compare_everything() {
  for (const std::string& id : model_.case_ids()) {
    if (auto d = history(id); !d.empty()) return d + " of " + id;
    if (auto d = get(id); !d.empty()) return d + " of " + id;  // the newest entry, by its own path
  }
  for (SortOrder sort : {SortOrder::kCreationDateDesc, SortOrder::kCreationDateAsc, SortOrder::kUpdateDateDesc,
                         SortOrder::kUpdateDateAsc}) {
    PageRequest page;
    page.sort = sort;
    page.size = kMaxPageSize;
    if (auto d = search(Filter{}, page, 1 << 20); !d.empty()) return d;
  }
  const Stats s = repo_->stats();
  if (s.entries != model_.size()) return "stats: entries";
  if (s.cases != model_.case_ids().size()) return "stats: cases";
  return "";
}

void DifferentialHarness::compact(bool update_order_only) {
  auto& store = RepositoryInternal::store(*repo_);
  if (update_order_only) {
    store.renumber_update_order();
  } else {
    store.rebuild();
  }
}

void DifferentialHarness::compact_in_steps() { RepositoryInternal::store(*repo_).begin_compaction(); }

}  // namespace caserepo::testing
