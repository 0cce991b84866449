// caserepo-bench: every operation on caserepo, SQLite :memory: and a plain
// scan, on the same generated data, in one run.
//
//   caserepo-bench [--sizes=100000,1000000] [google-benchmark flags]
//
// Names are <Workload>/N=<entries>/<system>; counters p50_us and p99_us come
// from a per-operation latency histogram. bench/run.sh runs the documented
// configuration and regenerates docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <cstring>
#include <fstream>
#include <map>
#include <random>

#include <unistd.h>

#include "peer.h"
#include "workload/generator.h"

namespace caserepo::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

// The five low/medium-cardinality filter fields and how to set them.
struct FieldSpec {
  const char* name;
  std::vector<std::string> Filter::*member;
  std::string Entry::*value;
};
const FieldSpec kFields[] = {{"status", &Filter::status, &Entry::status},
                             {"caseType", &Filter::caseType, &Entry::caseType},
                             {"clientId", &Filter::clientId, &Entry::clientId},
                             {"clientType", &Filter::clientType, &Entry::clientType},
                             {"source", &Filter::source, &Entry::clientType}};
const char* kSelectivities[] = {"high", "median", "rare"};

struct Dataset {
  std::uint64_t n = 0;
  std::vector<std::string> cases;
  std::vector<std::unique_ptr<Peer>> peers;
  std::map<std::string, double> rss_per_entry;
  // values[field][selectivity]: most common, median-ranked, least common.
  std::map<std::string, std::array<std::string, 3>> values;
  workload::SimulatedClock clock{workload::kDefaultStart};
  Timestamp end{};

  Peer& peer(const std::string& name) {
    for (auto& p : peers) {
      if (p->name() == name) return *p;
    }
    throw std::runtime_error("no peer " + name);
  }
};

// Runs this binary (a fresh process) with `args` and returns the number
// it prints: the child modes --memory and --time-open below.
double run_fresh_process(const std::string& args, const std::string& env = "") {
  const std::string command = env + "/proc/" + std::to_string(::getpid()) + "/exe " + args;
  FILE* child = ::popen(command.c_str(), "r");
  if (child == nullptr) throw std::runtime_error("popen " + command);
  double value = -1;
  const int scanned = std::fscanf(child, "%lf", &value);
  if (::pclose(child) != 0 || scanned != 1) throw std::runtime_error("failed: " + command);
  return value;
}

// Writes dirty pages back and drops the clean ones; false when not permitted.
bool drop_page_cache() {
  ::sync();
  std::FILE* f = std::fopen("/proc/sys/vm/drop_caches", "w");
  if (f == nullptr) return false;
  const bool written = std::fputs("3", f) >= 0;
  return std::fclose(f) == 0 && written;
}

// This binary with --memory N SYSTEM [high-cardinality]: bytes per entry.
double rss_in_fresh_process(std::uint64_t n, const std::string& system, bool high_cardinality = false) {
  return run_fresh_process("--memory " + std::to_string(n) + " " + system + (high_cardinality ? " high-cardinality" : ""));
}

// The child's side: RSS growth per entry while `system` loads the N-entry
// data set, nothing else having been freed before it. For SQLite and the
// scan the entries come from a caserepo load first (kept alive, so their
// memory is not reused).
[[noreturn]] void measure_memory(std::uint64_t n, const std::string& system, workload::Profile profile) {
  workload::SimulatedClock clock{workload::kDefaultStart};
  const auto year = std::chrono::hours(24 * 365);
  Options options;
  options.clock = clock.function();
  auto repo = std::make_unique<Repository>(options);
  double per_entry = 0;
  if (system == "caserepo") {
    const std::uint64_t before = rss_bytes();
    const std::vector<std::string> cases = workload::fill(*repo, clock, n, 42, year, profile);
    std::uint64_t cases_bytes = cases.capacity() * sizeof(std::string);
    for (const auto& c : cases) cases_bytes += c.capacity() + 1;
    per_entry = static_cast<double>(rss_bytes() - before - cases_bytes) / static_cast<double>(n);
  } else {
    workload::fill(*repo, clock, n, 42, year, profile);
    const std::vector<Entry> entries = export_entries(*repo);
    const std::uint64_t before = rss_bytes();
    auto peer = system == "sqlite" ? make_sqlite_peer(entries, true) : make_scan_peer(entries);
    per_entry = static_cast<double>(rss_bytes() - before) / static_cast<double>(n);
  }
  std::printf("%.3f\n", per_entry);
  std::fflush(stdout);
  std::_Exit(0);
}

std::unique_ptr<Dataset> g_data;

Dataset& dataset(std::uint64_t n) {
  if (g_data && g_data->n == n) return *g_data;
  g_data.reset();
  auto d = std::make_unique<Dataset>();
  d->n = n;
  // RSS in a fresh process per system: in this one, memory freed by an
  // earlier data set is reused and the growth understates the footprint.
  // Measured before this process loads the data set, so that at 10M the
  // two never need memory at the same time.
  for (const char* system : {"caserepo", "sqlite", "scan"}) d->rss_per_entry[system] = rss_in_fresh_process(n, system);
  const auto t0 = Clock::now();
  Options options;
  options.clock = d->clock.function();
  auto repo = std::make_unique<Repository>(options);
  d->cases = workload::fill(*repo, d->clock, n);
  d->end = d->clock.now();

  // Export in creation order for the other peers.
  const std::vector<Entry> entries = export_entries(*repo);
  d->peers.push_back(make_caserepo_peer(std::move(repo)));
  for (bool analyze : {true, false}) d->peers.push_back(make_sqlite_peer(entries, analyze));
  d->peers.push_back(make_scan_peer(entries));

  for (const FieldSpec& f : kFields) {
    std::map<std::string, std::uint64_t> counts;
    for (const Entry& e : entries) {
      if (std::string(f.name) == "source") {
        if (e.source) ++counts[*e.source];
      } else {
        ++counts[e.*(f.value)];
      }
    }
    std::vector<std::pair<std::uint64_t, std::string>> ranked;
    for (auto& [v, c] : counts) ranked.emplace_back(c, v);
    std::sort(ranked.rbegin(), ranked.rend());
    d->values[f.name] = {ranked.front().second, ranked[ranked.size() / 2].second, ranked.back().second};
  }
  // The case with the most entries and the most common business key: the
  // other two value fields of the filter (SearchSubsets).
  for (const char* field : {"caseId", "businessKey"}) {
    std::map<std::string, std::uint64_t> counts;
    for (const Entry& e : entries) {
      if (std::strcmp(field, "caseId") == 0) ++counts[e.caseId];
      else if (e.businessKey) ++counts[*e.businessKey];
    }
    auto top = std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    if (top != counts.end()) d->values[field] = {top->first, top->first, top->first};
  }
  std::fprintf(stderr, "dataset N=%llu ready in %.1f s\n", static_cast<unsigned long long>(n),
               std::chrono::duration<double>(Clock::now() - t0).count());
  g_data = std::move(d);
  return *g_data;
}

// Latency histogram of one benchmark: per-operation nanoseconds.
class Latencies {
 public:
  template <class F>
  void time(F&& f) {
    const auto t = Clock::now();
    f();
    ns_.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t).count());
  }
  void report(benchmark::State& state) {
    if (ns_.empty()) return;
    std::sort(ns_.begin(), ns_.end());
    state.counters["p50_us"] = ns_[ns_.size() / 2] / 1000;
    state.counters["p99_us"] = ns_[std::min(ns_.size() - 1, ns_.size() * 99 / 100)] / 1000;
  }

 private:
  std::vector<double> ns_;
};

std::string label(std::uint64_t n, const std::string& workload, const std::string& system) {
  return workload + "/N=" + std::to_string(n) + "/" + system;
}

const std::vector<std::string> kReadPeers = {"caserepo", "sqlite", "sqlite-noanalyze", "scan"};

// Times `peer`'s search of `page` under `filter`, once per iteration.
void time_search(benchmark::State& state, Peer& peer, const Filter& filter, const PageRequest& page) {
  Latencies lat;
  std::uint64_t total = 0;
  for (auto _ : state) {
    lat.time([&] {
      PeerPage p = peer.search(filter, page);
      total = p.total;
      benchmark::DoNotOptimize(p);
    });
  }
  state.counters["matches"] = static_cast<double>(total);
  lat.report(state);
}

void register_search(std::uint64_t n, const std::string& workload, std::function<Filter(Dataset&)> make_filter,
                     std::function<PageRequest(Dataset&)> make_page, const std::vector<std::string>& peers = kReadPeers) {
  for (const std::string& system : peers) {
    benchmark::RegisterBenchmark(label(n, workload, system).c_str(), [=](benchmark::State& state) {
      Dataset& d = dataset(n);
      Peer& peer = d.peer(system);
      time_search(state, peer, make_filter(d), make_page(d));
    })->Unit(benchmark::kMicrosecond);
  }
}

// Facet counts under a filter: caserepo against SQLite's GROUP BY.
void register_facets(std::uint64_t n) {
  struct Case {
    const char* name;
    FacetField field;
    std::function<Filter(Dataset&)> filter;
  };
  auto common = [](Dataset& d, std::initializer_list<const char*> fields) {
    Filter f;
    for (const FieldSpec& spec : kFields) {
      for (const char* want : fields) {
        if (std::string(spec.name) == want) (f.*spec.member) = {d.values[spec.name][0]};
      }
    }
    return f;
  };
  const Case cases[] = {
      {"Facets/status/all", FacetField::kStatus, [](Dataset&) { return Filter{}; }},
      {"Facets/caseType/status+clientType=high", FacetField::kCaseType, [=](Dataset& d) { return common(d, {"status", "clientType"}); }},
      {"Facets/status/caseType+source=high", FacetField::kStatus, [=](Dataset& d) { return common(d, {"caseType", "source"}); }},
      {"Facets/source/clientId=high", FacetField::kSource, [=](Dataset& d) { return common(d, {"clientId"}); }},
  };
  for (const Case& c : cases) {
    for (const std::string& system : {std::string("caserepo"), std::string("sqlite")}) {
      benchmark::RegisterBenchmark(label(n, c.name, system).c_str(), [=](benchmark::State& state) {
        Dataset& d = dataset(n);
        Peer& peer = d.peer(system);
        const Filter filter = c.filter(d);
        Latencies lat;
        std::size_t values = 0;
        for (auto _ : state) {
          lat.time([&] {
            auto counts = peer.facets(filter, c.field);
            values = counts.size();
            benchmark::DoNotOptimize(counts);
          });
        }
        state.counters["values"] = static_cast<double>(values);
        lat.report(state);
      })->Unit(benchmark::kMicrosecond);
    }
  }
}

// Every subset of the differential test's nine filter dimensions (the seven
// value fields at their most common value, the 30-day creation window and
// the last 7 days of updates), currentOnly off and on, in each of the four
// sorts: 4,096 searches, each page 0 with its exact total timed kRepeats
// times. One iteration is the whole sweep; the counters name the slowest
// (subset = mask bits caseId 1, businessKey 2, caseType 4, clientId 8,
// clientType 16, status 32, source 64, creationDate 128, updateDate 256,
// currentOnly 512, + 1024 × the sort: SortOrder's order).
void register_filter_subsets(std::uint64_t n) {
  benchmark::RegisterBenchmark(label(n, "SearchSubsets/high", "caserepo").c_str(), [=](benchmark::State& state) {
    Dataset& d = dataset(n);
    Peer& peer = d.peer("caserepo");
    auto value = [&](const char* field) { return std::vector<std::string>{d.values[field][0]}; };
    std::vector<Filter> filters;
    for (std::uint32_t subset = 0; subset < 1024; ++subset) {
      Filter f;
      if (subset & 1) f.caseId = value("caseId");
      if (subset & 2) f.businessKey = value("businessKey");
      if (subset & 4) f.caseType = value("caseType");
      if (subset & 8) f.clientId = value("clientId");
      if (subset & 16) f.clientType = value("clientType");
      if (subset & 32) f.status = value("status");
      if (subset & 64) f.source = value("source");
      if (subset & 128) {
        f.creationDate.from = workload::kDefaultStart + std::chrono::days(150);
        f.creationDate.to = workload::kDefaultStart + std::chrono::days(180);
      }
      if (subset & 256) f.updateDate.from = d.end - std::chrono::days(7);
      f.currentOnly = (subset & 512) != 0;
      filters.push_back(std::move(f));
    }
    constexpr std::size_t kRepeats = 101;
    std::vector<double> p50s, p99s, ns(kRepeats);
    for (auto _ : state) {
      p50s.clear();
      p99s.clear();
      for (int sort = 0; sort < 4; ++sort) {
        PageRequest page;
        page.sort = static_cast<SortOrder>(sort);
        for (const Filter& f : filters) {
          for (double& t : ns) {
            const auto t0 = Clock::now();
            benchmark::DoNotOptimize(peer.search(f, page));
            t = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
          }
          std::sort(ns.begin(), ns.end());
          p50s.push_back(ns[kRepeats / 2]);
          p99s.push_back(ns[kRepeats * 99 / 100]);
        }
      }
    }
    const auto worst50 = std::max_element(p50s.begin(), p50s.end());
    const auto worst99 = std::max_element(p99s.begin(), p99s.end());
    state.counters["searches"] = static_cast<double>(p50s.size());
    state.counters["worst_p50_us"] = *worst50;
    state.counters["worst_p50_subset"] = static_cast<double>(worst50 - p50s.begin());
    state.counters["worst_p99_us"] = *worst99;
    state.counters["worst_p99_subset"] = static_cast<double>(worst99 - p99s.begin());
    state.counters["over_100us_p50"] = static_cast<double>(std::count_if(p50s.begin(), p50s.end(), [](double v) { return v > 100; }));
    state.counters["over_300us_p99"] = static_cast<double>(std::count_if(p99s.begin(), p99s.end(), [](double v) { return v > 300; }));
    std::nth_element(p50s.begin(), p50s.begin() + p50s.size() / 2, p50s.end());
    state.counters["median_p50_us"] = p50s[p50s.size() / 2];
  })->Iterations(1)->Unit(benchmark::kMillisecond);
}

}  // namespace

void register_ycsb(std::uint64_t n);  // ycsb.cc

namespace {

void register_all(std::uint64_t n) {
  const std::uint64_t write_ops = std::clamp<std::uint64_t>(n / 10, 100, 20000);
  register_facets(n);

  // Point reads.
  for (const char* keys : {"hot", "uniform"}) {
    for (const std::string& system : kReadPeers) {
      for (const std::string op : {"Get", "History", "GetInPlace", "HistoryInPlace"}) {
        const bool get = op.starts_with("Get");
        const bool in_place = op.ends_with("InPlace");
        if (in_place && system != "caserepo" && system != "sqlite") continue;
        const bool hot = std::strcmp(keys, "hot") == 0;
        benchmark::RegisterBenchmark(label(n, std::string(op) + "/" + keys, system).c_str(), [=](benchmark::State& state) {
          Dataset& d = dataset(n);
          Peer& peer = d.peer(system);
          std::mt19937_64 rng(1);
          workload::Zipf zipf(d.cases.size(), 1.0);
          Latencies lat;
          std::string id;
          for (auto _ : state) {
            // Copied before the clock starts: a server's key is hot from the
            // request it just parsed; this array's is two cache misses away.
            id = d.cases[hot ? zipf(rng) : rng() % d.cases.size()];
            lat.time([&] {
              if (get && in_place) benchmark::DoNotOptimize(peer.get_in_place(id));
              else if (get) benchmark::DoNotOptimize(peer.get(id));
              else if (in_place) benchmark::DoNotOptimize(peer.history_in_place(id));
              else benchmark::DoNotOptimize(peer.history(id));
            });
          }
          lat.report(state);
        })->Unit(benchmark::kMicrosecond);
      }
    }
  }

  // Every combination of up to four of the five fields, at three selectivities.
  for (int mask = 1; mask < 32; ++mask) {
    if (__builtin_popcount(mask) > 4) continue;
    std::string fields;
    for (int i = 0; i < 5; ++i) {
      if (mask & (1 << i)) fields += (fields.empty() ? "" : "+") + std::string(kFields[i].name);
    }
    for (int sel = 0; sel < 3; ++sel) {
      register_search(
          n, "Search/" + fields + "/" + kSelectivities[sel],
          [mask, sel](Dataset& d) {
            Filter f;
            for (int i = 0; i < 5; ++i) {
              if (mask & (1 << i)) (f.*(kFields[i].member)) = {d.values[kFields[i].name][sel]};
            }
            return f;
          },
          [](Dataset&) { return PageRequest{}; });
    }
  }

  const std::uint64_t deep = std::min<std::uint64_t>(5000, n / 20 / 2);
  register_search(n, "FirstPage/all", [](Dataset&) { return Filter{}; }, [](Dataset&) { return PageRequest{}; });
  register_search(n, "DeepPage/all/page=" + std::to_string(deep), [](Dataset&) { return Filter{}; },
                  [deep](Dataset&) { return PageRequest{SortOrder::kCreationDateDesc, deep, 20, ""}; });
  register_search(n, "DeepPage/status=high/page=" + std::to_string(deep / 4),
                  [](Dataset& d) { Filter f; f.status = {d.values["status"][0]}; return f; },
                  [deep](Dataset&) { return PageRequest{SortOrder::kCreationDateDesc, deep / 4, 20, ""}; });
  register_search(n, "CurrentOnly/status=high", [](Dataset& d) { Filter f; f.status = {d.values["status"][0]}; f.currentOnly = true; return f; },
                  [](Dataset&) { return PageRequest{}; });
  register_search(n, "CurrentOnly/clientId=high", [](Dataset& d) { Filter f; f.clientId = {d.values["clientId"][0]}; f.currentOnly = true; return f; },
                  [](Dataset&) { return PageRequest{}; });
  register_search(n, "DateRange/creation-30d+status=high",
                  [](Dataset& d) {
                    Filter f;
                    f.status = {d.values["status"][0]};
                    f.creationDate.from = workload::kDefaultStart + std::chrono::days(150);
                    f.creationDate.to = workload::kDefaultStart + std::chrono::days(180);
                    return f;
                  },
                  [](Dataset&) { return PageRequest{}; });
  register_search(n, "DateRange/update-7d",
                  [](Dataset& d) { Filter f; f.updateDate.from = d.end - std::chrono::days(7); return f; },
                  [](Dataset&) { return PageRequest{}; });
  register_search(n, "UpdateDateSort/status=high", [](Dataset& d) { Filter f; f.status = {d.values["status"][0]}; return f; },
                  [](Dataset&) { return PageRequest{SortOrder::kUpdateDateDesc, 0, 20, ""}; });
  register_search(n, "UpdateDateSort/status=high+caseType=high",
                  [](Dataset& d) { Filter f; f.status = {d.values["status"][0]}; f.caseType = {d.values["caseType"][0]}; return f; },
                  [](Dataset&) { return PageRequest{SortOrder::kUpdateDateAsc, 0, 20, ""}; });

  // A continuation-token walk: one page per iteration, restarting at the end.
  for (const std::string& system : kReadPeers) {
    benchmark::RegisterBenchmark(label(n, "TokenWalk/status=high", system).c_str(), [=](benchmark::State& state) {
      Dataset& d = dataset(n);
      Peer& peer = d.peer(system);
      Filter f;
      f.status = {d.values["status"][0]};
      PageRequest page;
      Latencies lat;
      for (auto _ : state) {
        lat.time([&] {
          PeerPage p = peer.search(f, page);
          page.token = p.next;
        });
      }
      lat.report(state);
    })->Unit(benchmark::kMicrosecond);
  }

  // A deep page by continuation token, the same page each time (as the
  // offset DeepPage rows): the token of page deep/4 of status=high, taken
  // from the page before it, once.
  for (const std::string& system : kReadPeers) {
    benchmark::RegisterBenchmark(label(n, "DeepPage/status=high/token=" + std::to_string(deep / 4), system).c_str(),
                                 [=](benchmark::State& state) {
      Dataset& d = dataset(n);
      Peer& peer = d.peer(system);
      Filter f;
      f.status = {d.values["status"][0]};
      PageRequest page{SortOrder::kCreationDateDesc, deep / 4 - 1, 20, ""};
      page.token = peer.search(f, page).next;
      page.page = 0;
      if (page.token.empty()) {
        state.SkipWithError("no page after the one before the deep page");
        return;
      }
      time_search(state, peer, f, page);
    })->Unit(benchmark::kMicrosecond);
  }

  register_filter_subsets(n);

  // Memory per entry: RSS growth while loading (in a fresh process), and
  // each system's own count.
  for (std::string system : {"caserepo", "sqlite", "scan"}) {
    benchmark::RegisterBenchmark(label(n, "Memory", system).c_str(), [=](benchmark::State& state) {
      Dataset& d = dataset(n);
      for (auto _ : state) benchmark::DoNotOptimize(d.peer(system).counted_bytes());
      state.counters["bytes_per_entry_rss"] = d.rss_per_entry[system];
      state.counters["bytes_per_entry_counted"] = static_cast<double>(d.peer(system).counted_bytes()) / n;
    })->Iterations(1)->Unit(benchmark::kMicrosecond);
  }

  // The same on the high-cardinality profile (RSS only: the data set is
  // not the one the other benchmarks share).
  for (std::string system : {"caserepo", "sqlite"}) {
    benchmark::RegisterBenchmark(label(n, "Memory/high-cardinality", system).c_str(), [=](benchmark::State& state) {
      double rss = 0;
      for (auto _ : state) rss = rss_in_fresh_process(n, system, true);
      state.counters["bytes_per_entry_rss"] = rss;
    })->Iterations(1)->Unit(benchmark::kMillisecond);
  }

  // Writes last: they change the data set. Fixed iteration counts.
  for (std::string system : {"caserepo", "sqlite", "scan"}) {
    const std::uint64_t ops = system == "scan" ? std::max<std::uint64_t>(write_ops / 100, 10) : write_ops;
    benchmark::RegisterBenchmark(label(n, "Create", system).c_str(), [=](benchmark::State& state) {
      Dataset& d = dataset(n);
      Peer& peer = d.peer(system);
      workload::Generator gen(n, 1000 + std::hash<std::string>{}(system));
      Latencies lat;
      for (auto _ : state) {
        state.PauseTiming();
        CreateRequest r = gen.next();
        r.caseId.reset();  // new cases: every peer can make them
        Entry made;
        made.caseId = "x";  // follow-ups would name it; they are dropped above
        gen.created(made);
        d.clock.advance(std::chrono::milliseconds(1));
        state.ResumeTiming();
        lat.time([&] { peer.create(r, d.clock.now()); });
      }
      lat.report(state);
    })->Iterations(static_cast<benchmark::IterationCount>(ops))->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(label(n, "Update", system).c_str(), [=](benchmark::State& state) {
      Dataset& d = dataset(n);
      Peer& peer = d.peer(system);
      std::mt19937_64 rng(2);
      Latencies lat;
      Patch p;
      p.status = "IN_PROGRESS";
      std::string id;
      for (auto _ : state) {
        id = d.cases[rng() % d.cases.size()];  // before the clock, as for Get
        lat.time([&] { peer.update(id, p, d.clock.now()); });
      }
      lat.report(state);
    })->Iterations(static_cast<benchmark::IterationCount>(ops))->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(label(n, "Remove", system).c_str(), [=](benchmark::State& state) {
      Dataset& d = dataset(n);
      Peer& peer = d.peer(system);
      Latencies lat;
      std::size_t next = 0;
      std::string id;
      for (auto _ : state) {
        id = d.cases[next++ * 7 % d.cases.size()];  // before the clock, as for Get
        lat.time([&] { benchmark::DoNotOptimize(peer.remove(id)); });
      }
      lat.report(state);
    })->Iterations(static_cast<benchmark::IterationCount>(ops))->Unit(benchmark::kMicrosecond);
  }
}

// --- persistence ---------------------------------------------------------

std::string scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("caserepo-bench-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::unique_ptr<Repository> open_or_die(const std::string& dir, Options o) {
  auto r = Repository::open(dir, o);
  if (!r.ok()) throw std::runtime_error(r.error().to_string());
  return std::move(*r);
}

// Seconds `caserepo-bench --time-open DIR` (a fresh process) takes to open
// DIR: the median of three runs. With `huge_pages` the child's heap uses
// transparent huge pages (glibc.malloc.hugetlb=1), as the caserepo tools set
// up for themselves (src/tools/huge_pages.h); without, 4 KiB pages.
// With `cold_cache` the page cache is dropped before each run (the files
// are read from the disk, as after a reboot); 0 when this process may not
// drop it (not root).
double time_open_in_fresh_process(const std::string& dir, bool huge_pages, bool cold_cache = false) {
  const std::string env = huge_pages ? "GLIBC_TUNABLES=glibc.malloc.hugetlb=1 " : "GLIBC_TUNABLES= ";
  std::vector<double> runs;
  for (int i = 0; i < 3; ++i) {
    if (cold_cache && !drop_page_cache()) return 0;
    runs.push_back(run_fresh_process("--time-open '" + dir + "'", env));
  }
  std::sort(runs.begin(), runs.end());
  return runs[1];
}

// The child's side: open, print the seconds it took, exit without the
// teardown (a restart does not pay for it).
[[noreturn]] void time_open(const char* dir) {
  Options o;
  o.fsync = FsyncPolicy::kNone;
  o.checkpointLogBytes = 0;
  const auto t0 = Clock::now();
  auto repo = open_or_die(dir, o);
  std::printf("%.6f\n", std::chrono::duration<double>(Clock::now() - t0).count());
  std::fflush(stdout);
  std::_Exit(0);
}

const char* policy_name(FsyncPolicy p) {
  return p == FsyncPolicy::kAlways ? "always" : p == FsyncPolicy::kInterval ? "interval" : "none";
}

// Compaction pause (in memory): N entries, then writes until a compaction
// has finished (holes or tombstones outnumber the live entries, store.cc
// maybe_rebuild). A write holds the exclusive lock while it compacts, so
// the longest write that compacted is the pause every reader and writer
// sees (pause_ms); the longest write of the whole run is reported beside it
// (longest_write_ms: the growth of the store's arrays pauses too).
//   Compaction/N=…        updates of random cases: tombstones in the update
//                         order only, compacted a step per write
//                         (Tuning::compaction_step);
//   Compaction/churn/N=…  a retention churn, each step removing the oldest
//                         remaining case and creating a new one (so the
//                         number of cases stays): holes in the slots and
//                         tombstones in the update order, both compacted
//                         a step per write.
void register_compaction(std::uint64_t n, bool churn) {
  benchmark::RegisterBenchmark(label(n, churn ? "Compaction/churn" : "Compaction", "caserepo").c_str(),
                               [=](benchmark::State& state) {
    g_data.reset();  // the shared data set is done with (writes ran last): at 10M both would not fit
    workload::SimulatedClock clock{workload::kDefaultStart};
    Options o;
    o.clock = clock.function();
    Repository repo(o);
    const std::vector<std::string> cases = workload::fill(repo, clock, n, 17);
    std::mt19937_64 rng(5);
    std::vector<double> ns;
    double pause_ns = 0, longest_ns = 0;
    std::uint64_t compacting_writes = 0;
    std::deque<std::string> retained(cases.begin(), cases.end());  // churn: oldest first
    for (auto _ : state) {
      const std::uint64_t before = repo.stats().rebuilds;
      bool was_compacting = repo.stats().compacting;
      for (std::uint64_t i = 0;; ++i) {
        double t = 0;
        if (churn) {
          // Small N: compaction waits for at least Tuning::min_waste_for_rebuild holes, more
          // than the data set has, so the churn goes on through its own cases.
          if (auto r = repo.remove(retained.front()); !r.ok()) throw std::runtime_error(r.error().to_string());
          retained.pop_front();
          CreateRequest c;
          c.caseType = "ACCOUNT_OPENING";
          c.clientId = "churn-" + std::to_string(i);
          c.clientType = "PESEL";
          c.status = "NEW";
          const auto t0 = Clock::now();  // the create is the write that compacts
          auto e = repo.create(c);
          t = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
          if (!e.ok()) throw std::runtime_error(e.error().to_string());
          retained.push_back(e->caseId);
        } else {
          Patch p;
          p.status = i % 2 ? "OPEN" : "IN_PROGRESS";
          const auto t0 = Clock::now();
          auto e = repo.update(cases[rng() % cases.size()], p);
          t = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
          if (!e.ok()) throw std::runtime_error(e.error().to_string());
        }
        clock.advance(std::chrono::milliseconds(1));
        ns.push_back(t);
        longest_ns = std::max(longest_ns, t);
        const Stats after = repo.stats();
        const bool finished = after.rebuilds != before;
        if (was_compacting || after.compacting || finished) {  // this write took a step, or the whole compaction
          pause_ns = std::max(pause_ns, t);
          ++compacting_writes;
        }
        if (finished) break;
        was_compacting = after.compacting;
      }
    }
    std::sort(ns.begin(), ns.end());
    state.counters["pause_ms"] = pause_ns / 1e6;
    state.counters["compacting_writes"] = static_cast<double>(compacting_writes);
    state.counters["longest_write_ms"] = longest_ns / 1e6;
    state.counters["updates_before"] = static_cast<double>(ns.size());
    state.counters["update_p50_us"] = ns.empty() ? 0 : ns[ns.size() / 2] / 1000;
    state.counters["update_p99_us"] = ns.empty() ? 0 : ns[ns.size() * 99 / 100] / 1000;
  })->Iterations(1)->Unit(benchmark::kMillisecond);
}

// Growth (in memory): N creates into an empty store, each timed. The
// store's arrays and dictionaries grow as it fills; a write that copied or
// rehashed one of them whole would be the longest here (longest_write_ms;
// stop 31: 1.7 s at 8.4M entries before the arrays grew by mremap).
// SQLite :memory: with its indexes takes the same creates (the same
// caseIds, given by the bench) as the peer.
//   Growth/N=…/caserepo|sqlite  longest create, p99.99, p99, p50, and the
//                              creates that took over 10 ms
void register_growth(std::uint64_t n) {
  for (const std::string system : {"caserepo", "sqlite"}) {
    benchmark::RegisterBenchmark(label(n, "Growth", system).c_str(), [=](benchmark::State& state) {
      g_data.reset();  // as in Compaction
      workload::SimulatedClock clock{workload::kDefaultStart};
      std::unique_ptr<Peer> peer;
      if (system == "caserepo") {
        Options o;
        o.clock = clock.function();
        peer = make_caserepo_peer(std::make_unique<Repository>(o));
      } else {
        peer = make_sqlite_peer({}, /*analyze=*/false);
      }
      workload::Generator gen(n, 17);
      std::vector<double> ns;
      ns.reserve(n);
      for (auto _ : state) {
        for (std::uint64_t i = 0; i < n; ++i) {
          CreateRequest r = gen.next();
          const bool new_case = !r.caseId;
          if (new_case) {  // a canonical UUID, as the engine would make
            char id[48];
            std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012llx", static_cast<unsigned long long>(i));
            r.caseId = id;
          }
          const auto t0 = Clock::now();
          peer->create(r, clock.now());
          ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
          if (new_case) {
            Entry made;
            made.caseId = *r.caseId;
            gen.created(made);
          }
          clock.advance(std::chrono::milliseconds(1));
        }
      }
      std::sort(ns.begin(), ns.end());
      state.counters["longest_write_ms"] = ns.back() / 1e6;
      state.counters["p9999_us"] = ns[ns.size() * 9999 / 10000] / 1000;
      state.counters["p99_us"] = ns[ns.size() * 99 / 100] / 1000;
      state.counters["p50_us"] = ns[ns.size() / 2] / 1000;
      state.counters["writes_over_10ms"] =
          static_cast<double>(ns.end() - std::upper_bound(ns.begin(), ns.end(), 10e6));
    })->Iterations(1)->Unit(benchmark::kMillisecond);
  }
}

// Creates of generated requests with caseIds left to the engine, each
// timed alone: the loop of every Persist/Create row, so that the in-memory
// baseline and the fsync policies run exactly the same workload.
void time_creates(benchmark::State& state, Repository& repo, std::uint64_t n) {
  workload::Generator gen(n, 7);
  Latencies lat;
  for (auto _ : state) {
    CreateRequest r = gen.next();
    r.caseId.reset();
    Entry made;
    made.caseId = "x";
    gen.created(made);
    lat.time([&] { benchmark::DoNotOptimize(repo.create(r)); });
  }
  lat.report(state);
}

void register_persistence(std::uint64_t n) {
  // Create latency under each policy, against the in-memory create.
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kInterval, FsyncPolicy::kNone}) {
    const std::uint64_t ops = policy == FsyncPolicy::kAlways ? 2000 : 50000;
    benchmark::RegisterBenchmark(label(n, std::string("Persist/Create/fsync=") + policy_name(policy), "caserepo").c_str(),
                                 [=](benchmark::State& state) {
      const std::string dir = scratch_dir("create");
      Options o;
      o.fsync = policy;
      auto repo = open_or_die(dir, o);
      time_creates(state, *repo, n);
      repo.reset();
      std::filesystem::remove_all(dir);
    })->Iterations(static_cast<benchmark::IterationCount>(ops))->Unit(benchmark::kMicrosecond);
  }

  // The same loop on a repository without a directory: the in-memory
  // baseline the fsync rows are compared with (same store size, engine-made
  // caseIds), beside the fill-from-empty `Create` row.
  benchmark::RegisterBenchmark(label(n, "Persist/Create/in-memory", "caserepo").c_str(), [=](benchmark::State& state) {
    Repository repo{Options{}};
    time_creates(state, repo, n);
  })->Iterations(50000)->Unit(benchmark::kMicrosecond);

  // Group commit: W writer threads under fsync=always; writes per second.
  for (int writers : {1, 8, 32}) {
    benchmark::RegisterBenchmark(label(n, "Persist/GroupCommit/writers=" + std::to_string(writers), "caserepo").c_str(),
                                 [=](benchmark::State& state) {
      const std::string dir = scratch_dir("group");
      Options o;
      o.fsync = FsyncPolicy::kAlways;
      auto repo = open_or_die(dir, o);
      std::atomic<std::uint64_t> next{0};
      const auto per_thread = static_cast<std::uint64_t>(state.max_iterations);
      std::uint64_t total = 0;
      for (auto _ : state) {
        std::vector<std::thread> threads;
        for (int w = 0; w < writers; ++w) {
          threads.emplace_back([&, w] {
            for (std::uint64_t i = 0; i < 300; ++i) {
              CreateRequest r;
              r.caseType = "LOAN";
              r.clientId = "c" + std::to_string(w);
              r.clientType = "PESEL";
              r.status = "NEW";
              r.caseId = "g" + std::to_string(next++);
              if (!repo->create(r).ok()) std::abort();
            }
          });
        }
        for (auto& t : threads) t.join();
        total += 300ull * writers;
      }
      (void)per_thread;
      state.counters["writes_per_s"] = benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
      state.counters["writes_per_fsync"] = static_cast<double>(total) / std::max<std::uint64_t>(repo->stats().syncs, 1);
      repo.reset();
      std::filesystem::remove_all(dir);
    })->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
  }

  // Traffic during a checkpoint: a reader (get and search alternately, one
  // every 250 µs) and a writer (creates, fsync=interval, one per ms) run on a
  // fixed schedule while checkpoint() copies and writes N entries. Latency is
  // measured from each operation's scheduled start (no coordinated omission:
  // a stall of T counts once per operation it delays), over the checkpoint's
  // window, pooled over three checkpoints (one run's p99 rests on ~45 reads).
  // The same traffic's latency in the second before each checkpoint is the
  // machine's own baseline: what the checkpoint adds is the difference.
  benchmark::RegisterBenchmark(label(n, "Persist/CheckpointStall", "caserepo").c_str(), [=](benchmark::State& state) {
    const std::string dir = scratch_dir("stall");
    Options o;
    o.fsync = FsyncPolicy::kInterval;
    o.checkpointLogBytes = 0;
    auto repo = open_or_die(dir, o);
    workload::Generator gen(n, 13);
    std::vector<std::string> ids;
    for (std::uint64_t i = 0; i < n; ++i) {
      auto e = repo->create(gen.next());
      if (!e.ok()) throw std::runtime_error(e.error().to_string());
      gen.created(*e);
      if (i % 16 == 0) ids.push_back(e->caseId);
    }
    std::vector<double> reads_ns, writes_ns, idle_reads_ns, idle_writes_ns;
    std::vector<double> checkpoint_s;
    for (auto _ : state) {
      std::atomic<int> phase{0};  // 0 before the checkpoint (baseline), 1 checkpoint running, 2 done
      // Runs op() on a fixed schedule until phase 2; records latencies from
      // the scheduled start into idle (phase 0) or out (phase 1). An
      // operation counts in the phase it was scheduled in.
      auto paced = [&phase](std::chrono::microseconds period, std::vector<double>& idle, std::vector<double>& out,
                            auto op) {
        auto next = Clock::now();
        for (std::uint64_t i = 0;; ++i, next += period) {
          std::this_thread::sleep_until(next);
          const int scheduled_in = phase.load();
          if (scheduled_in == 2) break;
          op(i);
          (scheduled_in == 1 ? out : idle).push_back(std::chrono::duration<double, std::nano>(Clock::now() - next).count());
        }
      };
      std::vector<double> r_ns, w_ns, r_idle_ns, w_idle_ns;
      std::thread reader([&] {
        std::mt19937_64 rng(1);
        Filter f;
        f.status = {"OPEN"};
        paced(std::chrono::microseconds(250), r_idle_ns, r_ns, [&](std::uint64_t i) {
          if (i % 2) {
            benchmark::DoNotOptimize(repo->get(ids[rng() % ids.size()]));
          } else {
            benchmark::DoNotOptimize(repo->search(f));
          }
        });
      });
      std::thread writer([&] {
        workload::Generator wgen(n, 17);
        paced(std::chrono::microseconds(1000), w_idle_ns, w_ns, [&](std::uint64_t) {
          auto e = repo->create(wgen.next());
          if (!e.ok()) std::abort();
          wgen.created(*e);
        });
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(1000));
      phase = 1;
      const auto t0 = Clock::now();
      if (!repo->checkpoint().ok()) throw std::runtime_error("checkpoint");
      checkpoint_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      phase = 2;
      reader.join();
      writer.join();
      reads_ns.insert(reads_ns.end(), r_ns.begin(), r_ns.end());
      writes_ns.insert(writes_ns.end(), w_ns.begin(), w_ns.end());
      // The first 200 ms of each baseline are the threads starting up.
      const std::size_t r_skip = std::min<std::size_t>(r_idle_ns.size(), 800), w_skip = std::min<std::size_t>(w_idle_ns.size(), 200);
      idle_reads_ns.insert(idle_reads_ns.end(), r_idle_ns.begin() + static_cast<std::ptrdiff_t>(r_skip), r_idle_ns.end());
      idle_writes_ns.insert(idle_writes_ns.end(), w_idle_ns.begin() + static_cast<std::ptrdiff_t>(w_skip), w_idle_ns.end());
    }
    auto pct = [](std::vector<double>& v, double q) {
      if (v.empty()) return 0.0;
      std::sort(v.begin(), v.end());
      return v[std::min(v.size() - 1, static_cast<std::size_t>(static_cast<double>(v.size()) * q))] / 1e6;
    };
    std::sort(checkpoint_s.begin(), checkpoint_s.end());
    state.counters["checkpoint_s"] = checkpoint_s[checkpoint_s.size() / 2];  // the median
    state.counters["read_p50_ms"] = pct(reads_ns, 0.5);
    state.counters["read_p99_ms"] = pct(reads_ns, 0.99);
    state.counters["read_max_ms"] = pct(reads_ns, 1.0);
    state.counters["write_p50_ms"] = pct(writes_ns, 0.5);
    state.counters["write_p99_ms"] = pct(writes_ns, 0.99);
    state.counters["write_max_ms"] = pct(writes_ns, 1.0);
    state.counters["read_p99_ms_no_checkpoint"] = pct(idle_reads_ns, 0.99);
    state.counters["read_max_ms_no_checkpoint"] = pct(idle_reads_ns, 1.0);
    state.counters["write_p99_ms_no_checkpoint"] = pct(idle_writes_ns, 0.99);
    repo.reset();
    std::filesystem::remove_all(dir);
  })->Iterations(3)->Unit(benchmark::kMillisecond);

  // Checkpoint and reopen of N entries: log replay and snapshot load rates,
  // each timed in a fresh process (this binary with --time-open DIR: a new
  // heap, as a restart has; median of 3) and, for comparison, in this one.
  benchmark::RegisterBenchmark(label(n, "Persist/CheckpointAndReopen", "caserepo").c_str(), [=](benchmark::State& state) {
    g_data.reset();  // as in Compaction
    const std::string dir = scratch_dir("reopen");
    Options o;
    o.fsync = FsyncPolicy::kNone;
    o.checkpointLogBytes = 0;
    {
      auto repo = open_or_die(dir, o);
      workload::Generator gen(n, 11);
      for (std::uint64_t i = 0; i < n; ++i) {
        auto e = repo->create(gen.next());
        if (!e.ok()) throw std::runtime_error(e.error().to_string());
        gen.created(*e);
      }
    }
    double replay_s = 0, checkpoint_s = 0, load_s = 0, fresh_replay_s = 0, fresh_load_s = 0;
    double small_pages_replay_s = 0, small_pages_load_s = 0, cold_replay_s = 0, cold_load_s = 0;
    for (auto _ : state) {
      fresh_replay_s = time_open_in_fresh_process(dir, true);  // no snapshot yet: replays n log records
      small_pages_replay_s = time_open_in_fresh_process(dir, false);
      cold_replay_s = time_open_in_fresh_process(dir, true, /*cold_cache=*/true);
      auto t0 = Clock::now();
      auto repo = open_or_die(dir, o);
      replay_s = std::chrono::duration<double>(Clock::now() - t0).count();
      t0 = Clock::now();
      if (!repo->checkpoint().ok()) throw std::runtime_error("checkpoint");
      checkpoint_s = std::chrono::duration<double>(Clock::now() - t0).count();
      repo.reset();
      fresh_load_s = time_open_in_fresh_process(dir, true);  // snapshot only
      small_pages_load_s = time_open_in_fresh_process(dir, false);
      cold_load_s = time_open_in_fresh_process(dir, true, /*cold_cache=*/true);
      t0 = Clock::now();
      auto loaded = open_or_die(dir, o);
      load_s = std::chrono::duration<double>(Clock::now() - t0).count();
    }
    const auto entries = static_cast<double>(n);
    state.counters["replay_entries_per_s"] = entries / fresh_replay_s;
    state.counters["snapshot_load_entries_per_s"] = entries / fresh_load_s;
    state.counters["replay_entries_per_s_4k_pages"] = entries / small_pages_replay_s;
    state.counters["snapshot_load_entries_per_s_4k_pages"] = entries / small_pages_load_s;
    if (cold_replay_s > 0) state.counters["replay_entries_per_s_cold_cache"] = entries / cold_replay_s;
    if (cold_load_s > 0) state.counters["snapshot_load_entries_per_s_cold_cache"] = entries / cold_load_s;
    state.counters["reopen_s_per_million"] = fresh_load_s * 1e6 / entries;
    state.counters["replay_entries_per_s_in_process"] = entries / replay_s;
    state.counters["snapshot_load_entries_per_s_in_process"] = entries / load_s;
    state.counters["checkpoint_s"] = checkpoint_s;
    std::filesystem::remove_all(dir);
  })->Iterations(1)->Unit(benchmark::kMillisecond);
}

}  // namespace
}  // namespace caserepo::bench

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--time-open") == 0) caserepo::bench::time_open(argv[2]);
  if ((argc == 4 || argc == 5) && std::strcmp(argv[1], "--memory") == 0) {
    const bool high = argc == 5 && std::strcmp(argv[4], "high-cardinality") == 0;
    caserepo::bench::measure_memory(std::strtoull(argv[2], nullptr, 10), argv[3],
                                    high ? caserepo::workload::Profile::kHighCardinality : caserepo::workload::Profile::kStandard);
  }
  std::vector<std::uint64_t> sizes = {100000, 1000000};
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--sizes=", 8) == 0) {
      sizes.clear();
      for (const char* p = argv[i] + 8; *p;) {
        char* end = nullptr;
        sizes.push_back(std::strtoull(p, &end, 10));
        p = *end == ',' ? end + 1 : end;
      }
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;
  benchmark::AddCustomContext("sizes", [&] {
    std::string s;
    for (auto n : sizes) s += (s.empty() ? "" : ",") + std::to_string(n);
    return s;
  }());
  benchmark::AddCustomContext("caserepo_build", CASEREPO_BUILD_TYPE);
  for (std::uint64_t n : sizes) caserepo::bench::register_all(n);
  for (std::uint64_t n : sizes) {
    for (bool churn : {false, true}) caserepo::bench::register_compaction(n, churn);
  }
  for (std::uint64_t n : sizes) caserepo::bench::register_growth(n);
  for (std::uint64_t n : sizes) caserepo::bench::register_persistence(n);
  for (std::uint64_t n : sizes) caserepo::bench::register_ycsb(n);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
