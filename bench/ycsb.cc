// YCSB-style mixed workloads (issue #9): the core workloads people compare
// stores by, on case data, for caserepo and SQLite, 1 and 2 threads.
//
//   A  50% get / 50% update        B  95% get / 5% update     C  100% get
//   E  95% search of a short page (a random client's cases, 10 newest) / 5% create
//   W  100% create (the write-heavy stream)
//
// In memory: caserepo against SQLite :memory:. Persistent: caserepo with
// fsync=interval and always against SQLite in WAL mode with
// synchronous=NORMAL and FULL, on this machine's disk. SQLite's connection
// is shared by the threads behind a mutex (how one connection is shared);
// caserepo is called from both threads as it is. Names:
// YCSB/<workload>/threads=<t>/N=<n>/<system>; counters ops_per_s (all
// threads), p50_us and p99_us.
#include <benchmark/benchmark.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>

#include <unistd.h>

#include "peer.h"
#include "workload/generator.h"

namespace caserepo::bench {
namespace {

using Clock = std::chrono::steady_clock;

// A peer whose calls are serialized (SQLite's single connection).
class Serialized final : public Peer {
 public:
  explicit Serialized(std::unique_ptr<Peer> p) : p_(std::move(p)) {}
  std::string name() const override { return p_->name(); }
  std::optional<Entry> get(const std::string& id) override { std::lock_guard l(mu_); return p_->get(id); }
  std::size_t history(const std::string& id) override { std::lock_guard l(mu_); return p_->history(id); }
  PeerPage search(const Filter& f, const PageRequest& page) override { std::lock_guard l(mu_); return p_->search(f, page); }
  void create(const CreateRequest& r, Timestamp now) override { std::lock_guard l(mu_); p_->create(r, now); }
  void update(const std::string& id, const Patch& p, Timestamp now) override { std::lock_guard l(mu_); p_->update(id, p, now); }
  std::uint64_t remove(const std::string& id) override { std::lock_guard l(mu_); return p_->remove(id); }
  std::uint64_t counted_bytes() const override { return p_->counted_bytes(); }

 private:
  std::unique_ptr<Peer> p_;
  std::mutex mu_;
};

struct YcsbData {
  std::vector<std::string> cases;
  std::vector<std::string> clients;
  std::map<std::string, std::unique_ptr<Peer>> peers;
  workload::SimulatedClock clock{workload::kDefaultStart};
  std::vector<std::string> scratch;  // removed once the peers are closed

  ~YcsbData() {
    peers.clear();
    for (const std::string& p : scratch) {
      std::filesystem::remove_all(p);
      std::filesystem::remove(p + "-wal");
      std::filesystem::remove(p + "-shm");
    }
  }
};

std::string scratch(std::uint64_t n, const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("caserepo-ycsb-" + std::to_string(::getpid()) + "-" + std::to_string(n) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

// One data set per (size, persistence): every system holds the same entries.
YcsbData& ycsb_data(std::uint64_t n, bool persistent) {
  static std::map<std::pair<std::uint64_t, bool>, std::unique_ptr<YcsbData>> all;
  auto& slot = all[{n, persistent}];
  if (slot) return *slot;
  // Cells of one data set run together: drop the previous set (its files
  // and gigabytes) before loading the next.
  for (auto& [key, other] : all) other.reset();
  slot = std::make_unique<YcsbData>();
  YcsbData& d = *slot;
  Options mem;
  mem.clock = d.clock.function();
  auto source = std::make_unique<Repository>(mem);
  d.cases = workload::fill(*source, d.clock, n, 77);
  const std::vector<Entry> entries = export_entries(*source);
  for (const Entry& e : entries) {
    if (d.clients.size() < 100000 && (d.clients.empty() || d.clients.back() != e.clientId)) d.clients.push_back(e.clientId);
  }
  auto load = [&](Options o, const std::string& dir) {
    auto repo = Repository::open(dir, o);
    if (!repo.ok()) throw std::runtime_error(repo.error().to_string());
    for (const Entry& e : entries) {
      CreateRequest r;
      r.caseId = e.caseId;
      r.businessKey = e.businessKey;
      r.caseType = e.caseType;
      r.clientId = e.clientId;
      r.clientType = e.clientType;
      r.status = e.status;
      r.statusDescription = e.statusDescription;
      r.source = e.source;
      if (!(*repo)->create(r).ok()) throw std::runtime_error("load");
    }
    return std::move(*repo);
  };
  if (!persistent) {
    d.peers["caserepo"] = make_caserepo_peer(std::move(source));
    d.peers["sqlite"] = std::make_unique<Serialized>(make_sqlite_peer(entries, true));
    return d;
  }
  for (auto policy : {FsyncPolicy::kInterval, FsyncPolicy::kAlways}) {
    Options o;
    o.fsync = FsyncPolicy::kNone;  // loading
    const std::string name = policy == FsyncPolicy::kInterval ? "caserepo-interval" : "caserepo-always";
    const std::string dir = scratch(n, name);
    d.scratch.push_back(dir);
    { auto loaded = load(o, dir); (void)loaded->checkpoint(); }
    o.fsync = policy;
    auto repo = Repository::open(dir, o);
    if (!repo.ok()) throw std::runtime_error(repo.error().to_string());
    d.peers[name] = make_caserepo_peer(std::move(*repo));
  }
  for (const char* sync : {"NORMAL", "FULL"}) {
    const std::string file = scratch(n, std::string(sync) + ".db");
    d.scratch.push_back(file);
    d.peers[std::string("sqlite-wal-") + sync] = std::make_unique<Serialized>(make_sqlite_file_peer(entries, SqliteFile{file, sync}));
  }
  return d;
}

struct Mix {
  const char* name;
  int read_pct;   // get (A, B, C) or search (E)
  bool search;    // E
  bool creates;   // the writes are creates (E, W), else updates
};

void register_ycsb_for(std::uint64_t n, bool persistent) {
  const Mix mixes[] = {{"A", 50, false, false}, {"B", 95, false, false}, {"C", 100, false, false},
                       {"E", 95, true, true},   {"W", 0, false, true}};
  const std::vector<std::string> systems = persistent
      ? std::vector<std::string>{"caserepo-interval", "sqlite-wal-NORMAL", "caserepo-always", "sqlite-wal-FULL"}
      : std::vector<std::string>{"caserepo", "sqlite"};
  for (const Mix& mix : mixes) {
    if (persistent && mix.read_pct == 100) continue;  // C writes nothing: the in-memory run says it all
    for (int threads : {1, 2}) {
      for (const std::string& system : systems) {
        const std::string name = std::string("YCSB/") + mix.name + (persistent ? "-persistent" : "") + "/threads=" +
                                 std::to_string(threads) + "/N=" + std::to_string(n) + "/" + system;
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
          YcsbData& d = ycsb_data(n, persistent);
          Peer& peer = *d.peers.at(system);
          std::mt19937_64 rng(state.thread_index() * 7919 + 1);
          std::vector<double> ns;
          ns.reserve(static_cast<std::size_t>(state.max_iterations));
          for (auto _ : state) {
            const bool read = static_cast<int>(rng() % 100) < mix.read_pct;
            const auto t0 = Clock::now();
            if (read && mix.search) {
              Filter f;
              f.clientId = {d.clients[rng() % d.clients.size()]};
              PageRequest page;
              page.size = 10;
              benchmark::DoNotOptimize(peer.search(f, page));
            } else if (read) {
              benchmark::DoNotOptimize(peer.get(d.cases[rng() % d.cases.size()]));
            } else if (mix.creates) {
              CreateRequest r;  // a new case of an existing client
              static std::atomic<std::uint64_t> made{0};  // new cases across every run and thread
              r.caseId = "y" + std::to_string(made++);
              r.caseType = "LOAN";
              r.clientId = d.clients[rng() % d.clients.size()];
              r.clientType = "PESEL";
              r.status = "NEW";
              r.source = "PORTAL";
              peer.create(r, d.clock.now());
            } else {
              Patch p;
              p.status = (rng() & 1) ? "IN_PROGRESS" : "WAITING_FOR_CLIENT";
              peer.update(d.cases[rng() % d.cases.size()], p, d.clock.now());
            }
            ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
          }
          std::sort(ns.begin(), ns.end());
          if (!ns.empty()) {
            state.counters["p50_us"] = benchmark::Counter(ns[ns.size() / 2] / 1000, benchmark::Counter::kAvgThreads);
            state.counters["p99_us"] =
                benchmark::Counter(ns[std::min(ns.size() - 1, ns.size() * 99 / 100)] / 1000, benchmark::Counter::kAvgThreads);
          }
          state.counters["ops_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
          // Each cell runs for a second, whatever its speed: a fixed count
          // of 50,000 ran SQLite's E (3 ms a search at 100k) for minutes a cell.
        })->Threads(threads)->UseRealTime()->MinTime(1.0)->Unit(benchmark::kMicrosecond);
      }
    }
  }
}

}  // namespace

void register_ycsb(std::uint64_t n) {
  register_ycsb_for(n, /*persistent=*/false);
  register_ycsb_for(std::min<std::uint64_t>(n, 200000), /*persistent=*/true);
}

}  // namespace caserepo::bench
