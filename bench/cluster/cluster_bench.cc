// caserepo-cluster-bench: the partitioned cluster measured end to end
// (docs/benchmarks.md "Scale-out"; docs/scale-out.md).
//
//   caserepo-cluster-bench [--commands N] [--partitions P] [--nodes K] [--ops M]
//
// Three clustered nats-server (stream R=3) on loopback, all processes on this
// machine's cores, each started here and stopped by pid:
// 1. Ingestion: N commands (70% creates, 25% updates, 5% removes; clientIds
//    spread over P partitions) are published first; then K nodes start and
//    the time until every partition consumer has nothing pending or unacked
//    is the catch-up time — with each partition on one node, and on two (a
//    hot replica: every command applied twice). Then one single server
//    ingesting the whole stream, timed the same way (the one-node figure of
//    the same run).
// 2. Latency, sequential keep-alive HTTP: get (M caseIds, then the same M
//    again: the router remembers where it found each), search (4 filters in
//    turn) and create, through the router (two-copy layout) and on the
//    single server holding the same data; p50 and p99 of M requests each.
// 3. Failover: gets of one case per partition in a loop while node 1 is
//    killed (SIGKILL): the longest time a partition went without an answer.
//    Then node 1 restarts: time to listening and to caught up.
// Prints one JSON object.
#include <nats/nats.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster/partitioning.h"
#include "support/child_process.h"
#include "support/nats_cluster.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using caserepo::testing::ChildProcess;
using caserepo::testing::NatsClient;
using caserepo::testing::NatsCluster;
using Clock = std::chrono::steady_clock;

const std::string kStream = "CASEREPO_CMDS";
const std::string kAuth = "Basic YmVuY2g6YmVuY2gtcGFzc3dvcmQ=";  // bench:bench-password

struct Args {
  std::size_t commands = 200000;
  unsigned partitions = 6;
  unsigned nodes = 3;
  std::size_t ops = 1000;
};

// A keep-alive HTTP/1.1 connection to one server.
class Http {
 public:
  explicit Http(std::uint16_t port) : stream_(ioc_) {
    stream_.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }
  // The status (0 when the connection failed; it reconnects next time).
  int request(http::verb verb, const std::string& target, const std::string& body = {}) {
    try {
      http::request<http::string_body> req{verb, target, 11};
      req.set(http::field::host, "127.0.0.1");
      req.set(http::field::authorization, kAuth);
      if (!body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = body;
      }
      req.prepare_payload();
      http::write(stream_, req);
      beast::flat_buffer buffer;
      http::response<http::string_body> res;
      http::read(stream_, buffer, res);
      last_body_ = std::move(res.body());
      return res.result_int();
    } catch (const std::exception&) {
      return 0;
    }
  }
  const std::string& body() const { return last_body_; }

 private:
  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  std::string last_body_;
};

std::uint16_t port_of(const std::string& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.rfind("listening on ", 0) == 0) last = line;
  }
  return static_cast<std::uint16_t>(std::stoi(last.substr(last.rfind(':') + 1)));
}

struct Command {
  std::string subject, text;
};

// Updates and removes target earlier creates not removed (none refused).
std::vector<Command> commands(std::size_t n, unsigned partitions) {
  static const char* kStatuses[] = {"NEW", "OPEN", "IN_PROGRESS", "WAITING_FOR_CLIENT", "APPROVED", "CLOSED"};
  std::mt19937 rng(42);
  std::vector<std::pair<std::size_t, std::string>> live;  // (case index, clientId)
  std::vector<Command> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t roll = rng() % 100;
    const std::string status = kStatuses[rng() % 6];
    if (roll < 70 || live.empty()) {
      const std::string client = "client-" + std::to_string(rng() % 100000);
      live.emplace_back(i, client);
      out.push_back({caserepo::cluster::command_subject(kStream, caserepo::cluster::partition_of(client, partitions)),
                     R"({"op":"create","request":{"caseId":"case-)" + std::to_string(i) +
                         R"(","caseType":")" + (rng() % 3 == 0 ? "CARD" : "LOAN") + R"(","clientId":")" + client +
                         R"(","clientType":"PESEL","status":")" + status + R"(","statusDescription":"ingested"}})"});
      continue;
    }
    const std::size_t k = rng() % live.size();
    const std::string target = "case-" + std::to_string(live[k].first);
    const std::string subject =
        caserepo::cluster::command_subject(kStream, caserepo::cluster::partition_of(live[k].second, partitions));
    if (roll < 95) {
      out.push_back({subject, R"({"op":"update","caseId":")" + target + R"(","patch":{"status":")" + status + R"("}})"});
    } else {
      out.push_back({subject, R"({"op":"remove","caseId":")" + target + R"("})"});
      live[k] = live.back();
      live.pop_back();
    }
  }
  return out;
}

void publish_all(NatsClient& client, const std::vector<Command>& all) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  for (const Command& c : all) {
    while (js_PublishAsync(client.js(), c.subject.c_str(), c.text.data(), static_cast<int>(c.text.size()), &po) !=
           NATS_OK) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  jsPubOptions complete;
  jsPubOptions_Init(&complete);
  complete.MaxWait = 300000;
  js_PublishAsyncComplete(client.js(), &complete);
}

// Whether every named consumer has nothing pending and nothing unacked.
bool drained(NatsClient& client, const std::vector<std::string>& durables) {
  for (const auto& d : durables) {
    jsConsumerInfo* ci = nullptr;
    if (js_GetConsumerInfo(&ci, client.js(), kStream.c_str(), d.c_str(), nullptr, nullptr) != NATS_OK) return false;
    const bool done = ci->NumPending == 0 && ci->NumAckPending == 0 && ci->Delivered.Stream > 0;
    jsConsumerInfo_Destroy(ci);
    if (!done) return false;
  }
  return true;
}

std::string serve_list(unsigned node, unsigned nodes, unsigned partitions, int copies) {
  std::string out;
  for (unsigned p = 0; p < partitions; ++p) {
    if (p % nodes == node || (copies == 2 && (p + 1) % nodes == node)) out += (out.empty() ? "" : ",") + std::to_string(p);
  }
  return out;
}

// A process the benchmark waits on exited: say where its log is, fail the run.
int died(const ChildProcess& p) {
  std::fprintf(stderr, "a caserepo-server exited during the run (%s)\n", p.log_file().c_str());
  return 1;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

struct Latency {
  double p50 = 0, p99 = 0;
  int errors = 0;
};

template <class F>
Latency timed(std::size_t ops, F&& one) {
  std::vector<double> us;
  Latency l;
  for (std::size_t i = 0; i < ops; ++i) {
    const auto t = Clock::now();
    const int status = one(i);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    if (status != 200 && status != 404) ++l.errors;
  }
  l.p50 = percentile(us, 0.5);
  l.p99 = percentile(us, 0.99);
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--commands") a.commands = std::stoull(v);
    else if (k == "--partitions") a.partitions = static_cast<unsigned>(std::stoul(v));
    else if (k == "--nodes") a.nodes = static_cast<unsigned>(std::stoul(v));
    else if (k == "--ops") a.ops = std::stoull(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 1;
    }
  }
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("caserepo-cluster-bench-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string users = dir + "/users";
  if (std::system(("printf 'bench-password\\n' | " + std::string(CASEREPO_SERVER_BINARY) + " users add --users " + users +
                   " --name bench --role writer >/dev/null")
                      .c_str()) != 0) {
    std::fprintf(stderr, "cannot add the bench user\n");
    return 1;
  }

  NatsCluster cluster(dir + "/nats", 3);
  cluster.wait_ready();
  NatsClient client(cluster.urls());
  client.add_stream(kStream, {caserepo::cluster::command_subjects(kStream)}, 3);
  // Made here, not by three nodes starting at once (a busy meta leader timed one of them out).
  client.add_stream("CASEREPO_DEADLETTER", {"caserepo.deadletter.>"}, 3);
  const std::vector<Command> all = commands(a.commands, a.partitions);
  std::fprintf(stderr, "publishing %zu commands...\n", all.size());
  publish_all(client, all);
  const std::uint64_t last = client.last_sequence(kStream);

  // Each layout its own node ids, hence consumers: the first layout's drained ones do not count for the second.
  // copies 0: one copy without the change feed (the single server's setting below).
  auto node_id = [](unsigned k, int copies) { return "c" + std::to_string(copies) + "-node-" + std::to_string(k + 1); };
  auto node_args = [&](unsigned k, int copies, const std::string& data) {
    std::vector<std::string> args{CASEREPO_SERVER_BINARY, "--data", data, "--users", users, "--listen", "127.0.0.1:0",
                                  "--access-log", "off", "--nats", cluster.urls(), "--nats-replicas", "3",
                                  "--partitions", std::to_string(a.partitions), "--serve",
                                  serve_list(k, a.nodes, a.partitions, std::max(copies, 1)), "--node-id",
                                  node_id(k, copies), "--stream", kStream};
    if (copies == 0) args.push_back("--no-change-feed");
    return args;
  };
  auto durables = [&](int copies) {
    std::vector<std::string> d;
    for (unsigned k = 0; k < a.nodes; ++k) {
      const std::string list = serve_list(k, a.nodes, a.partitions, std::max(copies, 1));
      for (std::size_t from = 0; from < list.size();) {
        const auto comma = std::min(list.find(',', from), list.size());
        d.push_back("caserepo-" + node_id(k, copies) + "-p" + list.substr(from, comma - from));
        from = comma + 1;
      }
    }
    return d;
  };

  // 1. Ingestion: one copy without and with the change feed, then two
  // copies of each partition (kept running).
  std::map<int, double> cluster_rate;
  std::vector<ChildProcess> nodes;
  for (int copies : {0, 1, 2}) {
    nodes.clear();
    const std::string base = dir + "/layout" + std::to_string(copies);
    const auto t0 = Clock::now();
    for (unsigned k = 0; k < a.nodes; ++k) {
      nodes.emplace_back(node_args(k, copies, base + "/node-" + std::to_string(k + 1)),
                         base + "-node-" + std::to_string(k + 1) + ".log");
    }
    const auto names = durables(copies);
    while (!drained(client, names)) {
      for (const auto& n : nodes) {
        if (!n.alive()) return died(n);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    cluster_rate[copies] = static_cast<double>(last) / s;
    std::fprintf(stderr, "%s: %llu commands in %.2f s = %.0f commands/s\n",
                 copies == 0 ? "1 copy, no change feed" : copies == 1 ? "1 copy" : "2 copies",
                 static_cast<unsigned long long>(last), s, cluster_rate[copies]);
    if (copies < 2) {
      for (auto& n : nodes) n.terminate();
    }
  }
  for (unsigned k = 0; k < a.nodes; ++k) {
    if (!nodes[k].wait_for_output("listening on", std::chrono::seconds(60))) return 1;
  }

  // The single server on the whole stream: the one-node rate, and the peer of the latency runs.
  const auto s0 = Clock::now();
  ChildProcess single({CASEREPO_SERVER_BINARY, "--data", dir + "/single", "--users", users, "--listen", "127.0.0.1:0",
                       "--access-log", "off", "--nats", cluster.urls(), "--ingest", kStream, "--node-id", "single",
                       "--no-change-feed"},
                      dir + "/single.log");
  while (!drained(client, {"caserepo-single"})) {
    if (!single.alive()) return died(single);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double single_rate =
      static_cast<double>(last) / std::chrono::duration<double>(Clock::now() - s0).count();
  std::fprintf(stderr, "single node: %.0f commands/s\n", single_rate);
  if (!single.wait_for_output("listening on", std::chrono::seconds(60))) return 1;
  ChildProcess router({CASEREPO_SERVER_BINARY, "--router", "--users", users, "--listen", "127.0.0.1:0", "--access-log",
                       "off", "--nats", cluster.urls(), "--nats-replicas", "3", "--partitions",
                       std::to_string(a.partitions), "--node-id", "router", "--stream", kStream},
                      dir + "/router.log");
  if (!router.wait_for_output("listening on", std::chrono::seconds(60))) return 1;

  // 2. Latency: the router vs the single server, same data.
  const std::vector<std::string> searches = {
      R"({"status":["OPEN"],"size":20})", R"({"caseType":["CARD"],"currentOnly":true,"sort":"updateDate,desc","size":20})",
      R"({"clientId":["client-4242","client-77"],"size":20})", R"({"size":20})"};
  std::mt19937 rng(7);
  std::map<std::string, std::map<std::string, Latency>> lat;
  for (const auto& [server_name, log] : {std::pair<std::string, std::string>{"router", dir + "/router.log"},
                                         {"single", dir + "/single.log"}}) {
    const std::string name = server_name;  // clang 14 cannot capture a structured binding
    Http h(port_of(log));
    // Each caseId read once (the router asks every partition: it has not
    // seen the case), then the same caseIds again (it asks the partition it
    // saw each in: cluster/partition_hints.h).
    std::vector<std::string> ids(a.ops);
    for (auto& id : ids) id = "/api/case-repository/v1?caseId=case-" + std::to_string(rng() % a.commands);
    lat[name]["get"] = timed(a.ops, [&](std::size_t i) { return h.request(http::verb::get, ids[i]); });
    lat[name]["get_seen"] = timed(a.ops, [&](std::size_t i) { return h.request(http::verb::get, ids[i]); });
    lat[name]["search"] = timed(a.ops, [&](std::size_t i) {
      return h.request(http::verb::post, "/api/case-repository/v1/search", searches[i % searches.size()]);
    });
    lat[name]["create"] = timed(a.ops / 4, [&](std::size_t i) {
      return h.request(http::verb::post, "/api/case-repository/v1",
                       R"({"caseType":"LOAN","clientId":"latency-)" + name + std::to_string(i) +
                           R"(","clientType":"PESEL","status":"NEW"})");
    });
    std::fprintf(stderr, "%s: get p50 %.0f us (again: %.0f us), search p50 %.0f us, create p50 %.0f us\n",
                 name.c_str(), lat[name]["get"].p50, lat[name]["get_seen"].p50, lat[name]["search"].p50,
                 lat[name]["create"].p50);
  }

  // 3. Failover: one case per partition read in turn; node 1 killed.
  std::vector<std::string> probes(a.partitions);
  for (std::size_t i = 0, found = 0; i < all.size() && found < a.partitions; ++i) {
    if (all[i].text.rfind(R"({"op":"create")", 0) != 0) continue;
    const unsigned p = static_cast<unsigned>(std::stoul(all[i].subject.substr(all[i].subject.rfind('.') + 1)));
    if (probes[p].empty()) {
      probes[p] = "case-" + std::to_string(i);
      ++found;
    }
  }
  std::atomic<bool> stop{false};
  double longest_gap_ms = 0;
  int failed_reads = 0;
  std::thread reader([&] {
    Http h(port_of(dir + "/router.log"));
    std::vector<Clock::time_point> last_ok(a.partitions, Clock::now());
    while (!stop) {
      for (unsigned p = 0; p < a.partitions; ++p) {
        const int status = h.request(http::verb::get, "/api/case-repository/v1?caseId=" + probes[p]);
        const auto now = Clock::now();
        if (status == 200 || status == 404) {
          longest_gap_ms = std::max(longest_gap_ms, std::chrono::duration<double, std::milli>(now - last_ok[p]).count());
          last_ok[p] = now;
        } else {
          ++failed_reads;
        }
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  nodes[0].kill();
  std::this_thread::sleep_for(std::chrono::seconds(4));
  stop = true;
  reader.join();
  const auto r0 = Clock::now();
  nodes[0] = ChildProcess(node_args(0, 2, dir + "/layout2/node-1"), dir + "/layout2-node-1-restart.log");
  if (!nodes[0].wait_for_output("listening on", std::chrono::seconds(120))) return 1;
  const double restart_s = std::chrono::duration<double>(Clock::now() - r0).count();

  std::printf(
      "{\"commands\":%llu,\"partitions\":%u,\"nodes\":%u,\"ops\":%zu,\"single_rate\":%.0f,\"cluster_rate_one_copy\":%.0f,"
      "\"cluster_rate_two_copies\":%.0f,\"cluster_rate_one_copy_no_feed\":%.0f,",
      static_cast<unsigned long long>(last), a.partitions, a.nodes, a.ops, single_rate, cluster_rate[1],
      cluster_rate[2], cluster_rate[0]);
  for (const auto& [name, by_op] : lat) {
    for (const auto& [op, l] : by_op) {
      std::printf("\"%s_%s_us_p50\":%.0f,\"%s_%s_us_p99\":%.0f,\"%s_%s_errors\":%d,", name.c_str(), op.c_str(), l.p50,
                  name.c_str(), op.c_str(), l.p99, name.c_str(), op.c_str(), l.errors);
    }
  }
  std::printf("\"failover_longest_gap_ms\":%.0f,\"failover_failed_reads\":%d,\"restart_to_listening_s\":%.2f}\n",
              longest_gap_ms, failed_reads, restart_s);
  router.terminate();
  single.terminate();
  for (auto& n : nodes) n.terminate();
  std::filesystem::remove_all(dir);
  return 0;
}
