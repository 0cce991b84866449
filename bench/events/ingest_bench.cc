// caserepo-ingest-bench: one caserepo-server node ingesting a JetStream
// stream, measured end to end (docs/benchmarks.md, "Scale-out").
//
//   caserepo-ingest-bench [--commands N] [--replicas 1|3] [--fsync interval|always] [--latency-ops K]
//                         [--change-feed on|off]
//
// 1. Catch-up rate: N commands (70% creates, 25% updates, 5% removes) are
//    published first; then the node starts and the time from its "listening"
//    line to the consumer's ack floor reaching the last sequence is the
//    ingestion time (acks follow durability). Median of 3 runs, each on a
//    fresh data directory.
// 2. Publish to searchable: with the node caught up, K creates are
//    published one at a time (~1,000/s); each one's latency runs from just
//    before the publish to the arrival of its change event (the feed
//    publishes a write once it is durable and visible, so this bounds the
//    publish-to-searchable time from above). p50 and p99. Not measured
//    with --change-feed off (the node then publishes no events: the rate
//    of ingestion alone).
//
// Each catch-up also counts the CPU time (user + system, from /proc) the node
// and the nats-server processes spent in it, per command: on 2 shared cores
// their sum is what bounds the rate.
//
// It starts nats-server (one, or three clustered) and the node itself, on
// free loopback ports, in a temporary directory; it prints one JSON object.
#include <nats/nats.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "events/change_feed.h"
#include "support/child_process.h"
#include "support/nats_cluster.h"

namespace {

using caserepo::testing::ChildProcess;
using caserepo::testing::NatsClient;
using caserepo::testing::NatsCluster;
using Clock = std::chrono::steady_clock;

struct Args {
  std::size_t commands = 200000;
  int replicas = 1;
  std::string fsync = "interval";
  std::size_t latency_ops = 2000;
  bool change_feed = true;  // --change-feed off: the node publishes no change events
};

// Updates and removes target earlier creates that were not removed (no
// command is refused: the dead-letter path is one JetStream round trip per
// refused command, measured separately).
std::string command(std::size_t i, std::mt19937& rng, std::vector<std::size_t>& creates) {
  static const char* kStatuses[] = {"NEW", "OPEN", "IN_PROGRESS", "WAITING_FOR_CLIENT", "APPROVED", "CLOSED"};
  const std::size_t roll = rng() % 100;
  const std::string status = kStatuses[rng() % 6];
  if (roll < 70 || creates.empty()) {
    creates.push_back(i);
    return R"({"op":"create","request":{"caseId":"case-)" + std::to_string(i) + R"(","caseType":"LOAN","clientId":"client-)" +
           std::to_string(rng() % 100000) + R"(","clientType":"PESEL","status":")" + status +
           R"(","statusDescription":"ingested"}})";
  }
  const std::size_t k = rng() % creates.size();
  const std::string target = "case-" + std::to_string(creates[k]);
  if (roll < 95) return R"({"op":"update","caseId":")" + target + R"(","patch":{"status":")" + status + R"("}})";
  creates[k] = creates.back();
  creates.pop_back();
  return R"({"op":"remove","caseId":")" + target + R"("})";
}

void publish_all(NatsClient& client, std::size_t n, std::size_t first_index) {
  std::mt19937 rng(42);
  std::vector<std::size_t> creates;
  jsPubOptions po;
  jsPubOptions_Init(&po);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string text = command(first_index + i, rng, creates);
    const std::string subject = "cmds." + std::to_string(i % 6);
    while (js_PublishAsync(client.js(), subject.c_str(), text.data(), static_cast<int>(text.size()), &po) != NATS_OK) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  jsPubOptions complete;
  jsPubOptions_Init(&complete);
  complete.MaxWait = 120000;
  js_PublishAsyncComplete(client.js(), &complete);
}

std::uint64_t ack_floor(NatsClient& client) {
  jsConsumerInfo* ci = nullptr;
  std::uint64_t floor = 0;
  if (js_GetConsumerInfo(&ci, client.js(), "CMDS", "caserepo-bench", nullptr, nullptr) == NATS_OK) {
    floor = ci->AckFloor.Stream;
    jsConsumerInfo_Destroy(ci);
  }
  return floor;
}

ChildProcess start_node(const std::string& dir, const std::string& urls, const Args& a, const std::string& log) {
  std::vector<std::string> args{CASEREPO_SERVER_BINARY, "--data", dir + "/node", "--users", dir + "/users", "--listen",
                                "127.0.0.1:0", "--access-log", "off", "--fsync", a.fsync, "--nats", urls, "--ingest", "CMDS",
                                "--node-id", "bench", "--nats-replicas", std::to_string(a.replicas)};
  if (!a.change_feed) args.push_back("--no-change-feed");
  return ChildProcess(args, log);
}

// CPU seconds (user + system) process `pid` has used, from /proc/PID/stat.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt: fields 3-13
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double nats_cpu_seconds(const NatsCluster& cluster) {
  double sum = 0;
  for (int k = 0; k < cluster.size(); ++k) sum += cpu_seconds(cluster.pid(k));
  return sum;
}

double median3(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[1];
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--commands") a.commands = std::stoull(v);
    else if (k == "--replicas") a.replicas = std::stoi(v);
    else if (k == "--fsync") a.fsync = v;
    else if (k == "--latency-ops") a.latency_ops = std::stoull(v);
    else if (k == "--change-feed") a.change_feed = v != "off";
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 1;
    }
  }
  if (!a.change_feed) a.latency_ops = 0;  // measured by the change events
  const std::string dir = (std::filesystem::temp_directory_path() / ("caserepo-ingest-bench-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/users").close();

  NatsCluster cluster(dir + "/nats", a.replicas == 3 ? 3 : 1);
  cluster.wait_ready();
  NatsClient client(cluster.urls());
  client.add_stream("CMDS", {"cmds.>"}, a.replicas);
  std::fprintf(stderr, "publishing %zu commands...\n", a.commands);
  const auto p0 = Clock::now();
  publish_all(client, a.commands, 0);
  const double publish_s = std::chrono::duration<double>(Clock::now() - p0).count();
  const std::uint64_t last = client.last_sequence("CMDS");

  // 1. Catch-up, three times on fresh directories.
  std::vector<double> rates, node_us, nats_us;  // rate; CPU µs per command
  for (int run = 0; run < 3; ++run) {
    std::filesystem::remove_all(dir + "/node");
    // Each run's change events new to JetStream, as in production: left in
    // place, a run's events would repeat the last run's message ids, and
    // JetStream would drop them as duplicates instead of storing them.
    js_DeleteStream(client.js(), caserepo::events::kChangeStream, nullptr, nullptr);
    ChildProcess node = start_node(dir, cluster.urls(), a, dir + "/node-" + std::to_string(run) + ".log");
    if (!node.wait_for_output("listening on", std::chrono::seconds(60))) {
      std::fprintf(stderr, "the node did not start (%s)\n", (dir + "/node-" + std::to_string(run) + ".log").c_str());
      return 1;
    }
    const auto t0 = Clock::now();
    const double node0 = cpu_seconds(node.pid()), nats0 = nats_cpu_seconds(cluster);
    while (ack_floor(client) < last) {
      if (!node.alive()) {
        std::fprintf(stderr, "the node exited during the catch-up (%s)\n", node.log_file().c_str());
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    rates.push_back(static_cast<double>(last) / s);
    node_us.push_back((cpu_seconds(node.pid()) - node0) * 1e6 / static_cast<double>(last));
    nats_us.push_back((nats_cpu_seconds(cluster) - nats0) * 1e6 / static_cast<double>(last));
    std::fprintf(stderr, "run %d: %llu commands in %.2f s = %.0f commands/s; CPU per command: node %.1f µs, nats-server %.1f µs\n",
                 run, static_cast<unsigned long long>(last), s, rates.back(), node_us.back(), nats_us.back());
    if (run < 2) node.terminate();
    else {
      // 2. Latency, on the caught-up node of the last run.
      std::mutex mu;
      std::map<std::uint64_t, Clock::time_point> arrived;
      natsSubscription* sub = nullptr;
      auto on_event = [](natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
        auto* state = static_cast<std::pair<std::mutex*, std::map<std::uint64_t, Clock::time_point>*>*>(closure);
        const std::string body(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
        const auto at = body.find("\"streamPosition\":");
        if (at != std::string::npos) {
          const std::uint64_t pos = std::strtoull(body.c_str() + at + 17, nullptr, 10);
          std::lock_guard lock(*state->first);
          state->second->emplace(pos, Clock::now());
        }
        natsMsg_Destroy(msg);
      };
      std::pair<std::mutex*, std::map<std::uint64_t, Clock::time_point>*> state{&mu, &arrived};
      natsConnection_Subscribe(&sub, client.connection(), "caserepo.changes.>", on_event, &state);
      natsConnection_Flush(client.connection());
      std::vector<std::pair<std::uint64_t, Clock::time_point>> sent;
      for (std::size_t i = 0; i < a.latency_ops; ++i) {
        const std::string create =
            R"({"op":"create","request":{"caseId":"latency-)" + std::to_string(i) +
            R"(","caseType":"LOAN","clientId":"latency-client","clientType":"PESEL","status":"NEW"}})";
        const auto t = Clock::now();
        const std::uint64_t seq = client.publish("cmds.latency", create);
        sent.emplace_back(seq, t);
        std::this_thread::sleep_for(std::chrono::microseconds(1000));
      }
      std::this_thread::sleep_for(std::chrono::seconds(2));
      std::vector<double> ms;
      std::size_t missing = 0;
      {
        std::lock_guard lock(mu);
        for (const auto& [seq, t] : sent) {
          auto it = arrived.find(seq);
          if (it == arrived.end()) ++missing;
          else ms.push_back(std::chrono::duration<double, std::milli>(it->second - t).count());
        }
      }
      natsSubscription_Destroy(sub);
      node.terminate();
      std::printf(
          "{\"commands\":%llu,\"replicas\":%d,\"fsync\":\"%s\",\"change_feed\":%s,\"publish_seconds\":%.2f,"
          "\"ingest_rates\":[%.0f,%.0f,%.0f],\"ingest_rate_median\":%.0f,"
          "\"node_cpu_us_per_command\":%.2f,\"nats_cpu_us_per_command\":%.2f,"
          "\"latency_ops\":%zu,\"latency_missing\":%zu,\"publish_to_event_ms_p50\":%.3f,\"publish_to_event_ms_p99\":%.3f}\n",
          static_cast<unsigned long long>(last), a.replicas, a.fsync.c_str(), a.change_feed ? "true" : "false", publish_s, rates[0], rates[1], rates[2],
          median3(rates), median3(node_us), median3(nats_us), a.latency_ops, missing, percentile(ms, 0.5), percentile(ms, 0.99));
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
