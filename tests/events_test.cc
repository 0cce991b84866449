// caserepo-server on a real NATS JetStream cluster (three nats-server
// processes on loopback, started and stopped by pid): ingestion applies
// every command of the stream exactly once across kill -9 of the node at
// random points, and across kill -9 of each NATS server in turn — the
// reopened data directory equals a reference built from the stream itself,
// dates and generated caseIds included — refused and malformed commands land
// once each on the dead-letter subject, and the change feed holds one event
// per write, in log order — also when two replicas of a partition publish it.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "caserepo/caserepo.h"
#include "cluster/partitioning.h"
#include "json/wire.h"
#include "support/fixtures.h"
#include "support/nats_cluster.h"

namespace caserepo::testing {
namespace {

namespace fs = std::filesystem;
using json::Json;

constexpr const char* kStream = "CMDS";
constexpr const char* kNode = "node1";

// Commands as a channel would publish them: creates with and without
// caseId (some joining by businessKey), updates, removes — and some that
// must be dead-lettered: not JSON, unknown op, an update of a case that does
// not exist, a create that conflicts with its case's client.
std::vector<std::string> command_texts(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  std::vector<std::string> cases;
  static const char* kStatuses[] = {"NEW", "OPEN", "IN_PROGRESS", "WAITING_FOR_CLIENT", "APPROVED", "CLOSED"};
  auto pick = [&](std::size_t k) { return static_cast<std::size_t>(rng() % k); };
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t roll = pick(100);
    const std::string client = "client-" + std::to_string(pick(50));
    if (roll < 4) {
      static const char* kPoison[] = {"{not json", R"({"op":"rename","caseId":"x"})",
                                      R"({"op":"update","caseId":"no-such-case","patch":{"status":"OPEN"}})",
                                      R"({"op":"create","request":{"caseType":"LOAN"}})"};
      out.push_back(kPoison[pick(4)]);
    } else if (roll < 45 || cases.empty()) {
      const std::string id = "case-" + std::to_string(i);
      cases.push_back(id);
      out.push_back(Json{{"op", "create"},
                         {"request", {{"caseId", id}, {"caseType", "LOAN"}, {"clientId", "c-" + id}, {"clientType", "PESEL"},
                                      {"status", kStatuses[pick(6)]}}}}
                        .dump());
    } else if (roll < 60) {
      out.push_back(Json{{"op", "create"},
                         {"request", {{"businessKey", "BK-" + std::to_string(pick(40))}, {"caseType", "CARD"},
                                      {"clientId", client}, {"clientType", "NIP"}, {"status", kStatuses[pick(6)]},
                                      {"statusDescription", "from the stream"}}}}
                        .dump());
    } else if (roll < 85) {
      out.push_back(Json{{"op", "update"}, {"caseId", cases[pick(cases.size())]}, {"patch", {{"status", kStatuses[pick(6)]}}}}
                        .dump());
    } else if (roll < 92) {
      // A create joining an existing case with another client: Conflict, unless the case was removed.
      out.push_back(Json{{"op", "create"},
                         {"request", {{"caseId", cases[pick(cases.size())]}, {"caseType", "LOAN"}, {"clientId", "intruder"},
                                      {"clientType", "PESEL"}, {"status", "OPEN"}}}}
                        .dump());
    } else {
      out.push_back(Json{{"op", "remove"}, {"caseId", cases[pick(cases.size())]}}.dump());
    }
  }
  return out;
}

struct Expected {
  std::string state;                        // every entry, JSON lines
  std::uint64_t position = 0;
  std::set<std::uint64_t> dead_letters;     // stream sequences
  std::vector<std::uint64_t> write_positions;  // of the commands that wrote, in order
};

std::string state_of(const Repository& repo) {
  std::string out;
  for (const Entry& e : all_entries(repo)) out += json::to_json(e).dump() + "\n";
  return out;
}

// The reference: the stream's messages (on `subject`, if given) applied in
// order to an in-memory repository.
Expected reference(NatsClient& nats, const std::string& stream = kStream, const std::string& subject = "") {
  Expected x;
  Repository repo;
  for (const NatsClient::Stored& m : nats.read_stream(stream)) {
    if (!subject.empty() && m.subject != subject) continue;
    auto parsed = json::parse(m.data);
    auto command = parsed.ok() ? json::parse_command(*parsed) : Result<StreamCommand>(parsed.error());
    StreamCommand c = command.ok() ? *command : StreamCommand{};
    c.position = m.sequence;
    c.time = Timestamp(std::chrono::milliseconds(m.time_ms));
    const StreamApplied a = command.ok() ? repo.applyStream({&c, 1}) : StreamApplied{0, 0, command.error()};
    if (a.stopped) {
      x.dead_letters.insert(m.sequence);
      StreamCommand skip;
      skip.position = m.sequence;
      EXPECT_EQ(repo.applyStream({&skip, 1}).applied, 1u);
    } else {
      x.write_positions.push_back(m.sequence);
    }
    x.position = m.sequence;
  }
  x.state = state_of(repo);
  return x;
}

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<NatsCluster>(dir_.str() + "/nats", 3);
    cluster_->wait_ready();
    client_ = std::make_unique<NatsClient>(cluster_->urls());
    client_->add_stream(kStream, {"cmds.>"}, 3);
    std::ofstream(dir_.str() + "/users").close();  // no REST users needed: commands come from the stream
  }

  // The command line of the test's ingesting node.
  std::vector<std::string> node_args() const {
    return {CASEREPO_SERVER_BINARY, "--data", dir_.str() + "/node", "--users", dir_.str() + "/users", "--listen",
            "127.0.0.1:0", "--access-log", "off", "--nats", cluster_->urls(), "--ingest",
            std::string(kStream) + ":cmds.>", "--node-id", kNode, "--nats-replicas", "3"};
  }

  ChildProcess start_node(const std::string& log, const std::vector<std::string>& more_args = {}) {
    std::vector<std::string> args = node_args();
    args.insert(args.end(), more_args.begin(), more_args.end());
    ChildProcess p(args, dir_.str() + "/" + log);
    EXPECT_TRUE(p.wait_for_output("listening on", std::chrono::seconds(30))) << "the node did not start: see " << log;
    return p;
  }

  // A node serving partitions 0 and 1 of `stream` (a partitioned cluster's node, caserepo-server --serve).
  ChildProcess start_partition_node(const std::string& id, const std::string& stream, const std::string& log) {
    ChildProcess p({CASEREPO_SERVER_BINARY, "--data", dir_.str() + "/" + id, "--users", dir_.str() + "/users", "--listen",
                    "127.0.0.1:0", "--access-log", "off", "--nats", cluster_->urls(), "--partitions", "2", "--serve",
                    "0,1", "--stream", stream, "--node-id", id, "--nats-replicas", "3"},
                   dir_.str() + "/" + log);
    EXPECT_TRUE(p.wait_for_output("listening on", std::chrono::seconds(30))) << "the node did not start: see " << log;
    return p;
  }

  // Publishes the commands, on subjects cmds.<n % 6>; returns the last sequence.
  std::uint64_t publish(const std::vector<std::string>& texts) {
    std::uint64_t last = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) last = client_->publish("cmds." + std::to_string(i % 6), texts[i]);
    return last;
  }

  // Waits until the node's consumer acked everything up to `last` (acks follow durability).
  void wait_applied(std::uint64_t last, const std::string& durable = std::string("caserepo-") + kNode,
                    const std::string& stream = kStream) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    std::uint64_t floor = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      jsConsumerInfo* ci = nullptr;
      if (js_GetConsumerInfo(&ci, client_->js(), stream.c_str(), durable.c_str(), nullptr, nullptr) == NATS_OK) {
        floor = ci->AckFloor.Stream;
        // A consumer made at a restart after everything was applied starts
        // past the end (the node's recorded position + 1) and acks nothing.
        const bool started_past = ci->Config != nullptr && ci->Config->OptStartSeq > last;
        jsConsumerInfo_Destroy(ci);
        if (floor >= last || started_past) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "acked up to " << floor << " of " << last;
  }

  // Stops the node once it acked `last` and checks its directory: at `last`,
  // holding exactly the reference built from the stream (returned).
  Expected expect_stops_at_reference(ChildProcess& node, std::uint64_t last) {
    wait_applied(last);
    EXPECT_EQ(node.terminate(), 0);
    const Expected x = reference(*client_);
    auto repo = open_node_dir();
    if (!repo) return x;  // open_node_dir() reported why
    EXPECT_EQ(repo->streamPosition(), last);
    EXPECT_EQ(state_of(*repo), x.state);  // exactly: no command lost, none applied twice
    return x;
  }

  // The node's data directory, opened after the node stopped.
  std::unique_ptr<Repository> open_node_dir() {
    auto repo = Repository::open(dir_.str() + "/node");
    EXPECT_TRUE(repo.ok()) << repo.error().to_string();
    return repo.ok() ? std::move(*repo) : nullptr;
  }

  TempDir dir_{"caserepo-events"};
  std::unique_ptr<NatsCluster> cluster_;
  std::unique_ptr<NatsClient> client_;
};

TEST_F(EventsTest, EveryCommandIsAppliedExactlyOnceAcrossKillNineAtRandomPoints) {
  // Enough commands that ingesting them all outlasts most of the kills'
  // 30-330 ms delays: with 3,000 (~35 ms of ingestion) the node was often
  // done before the first kill and the check below failed 1 run in 3.
  const auto texts = command_texts(12000, 7);
  const std::uint64_t last = publish(texts);
  std::mt19937 rng(11);
  ChildProcess node = start_node("node-0.log");
  for (int round = 1; round <= 6; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 300));
    node.kill();  // SIGKILL: mid-batch, mid-dead-letter, mid-ack — wherever it is
    node = start_node("node-" + std::to_string(round) + ".log");
  }
  wait_applied(last);
  EXPECT_EQ(node.terminate(), 0);
  // The kills hit the node mid-stream: restarts resumed from several positions.
  std::set<std::uint64_t> resumed;
  for (int round = 1; round <= 6; ++round) {
    std::ifstream in(dir_.str() + "/node-" + std::to_string(round) + ".log");
    for (std::string line; std::getline(in, line);) {
      const auto at = line.find(" from sequence ");
      if (at != std::string::npos) resumed.insert(std::stoull(line.substr(at + 15)));
    }
  }
  std::size_t mid_stream = 0;
  for (std::uint64_t r : resumed) mid_stream += r > 1 && r <= last;
  EXPECT_GE(mid_stream, 2u) << "the kills did not interrupt ingestion; resumed from " << resumed.size() << " positions";

  const Expected x = reference(*client_);
  ASSERT_GT(x.dead_letters.size(), 50u);
  auto repo = open_node_dir();
  ASSERT_TRUE(repo);
  EXPECT_EQ(repo->streamPosition(), last);
  EXPECT_EQ(repo->streamPosition(), x.position);
  EXPECT_EQ(state_of(*repo), x.state);  // exactly: no command lost, none applied twice

  // Each refused command is on the dead-letter subject once, with its error.
  std::multiset<std::uint64_t> dead;
  for (const auto& m : client_->read_stream("CASEREPO_DEADLETTER")) {
    EXPECT_EQ(m.subject, std::string("caserepo.deadletter.") + kStream);
    const Json j = Json::parse(m.data);
    dead.insert(j["sequence"].get<std::uint64_t>());
    EXPECT_EQ(std::to_string(j["sequence"].get<std::uint64_t>()), m.header("Caserepo-Stream-Sequence"));
    EXPECT_TRUE(j["error"].contains("error"));
  }
  EXPECT_EQ(std::set<std::uint64_t>(dead.begin(), dead.end()), x.dead_letters);
  EXPECT_EQ(dead.size(), x.dead_letters.size());  // JetStream dropped the repeats of a killed node
}

// One of the three NATS servers is killed (SIGKILL) while the node ingests,
// and started again: the R=3 stream keeps a quorum, the node's connection
// moves to another server, and the result is still exactly the reference.
TEST_F(EventsTest, IngestionGoesOnExactlyWhenANatsServerIsKilled) {
  const auto texts = command_texts(2400, 33);
  const std::size_t per_round = texts.size() / 4;
  std::uint64_t last = publish({texts.begin(), texts.begin() + per_round});
  ChildProcess node = start_node("node.log");
  for (int k = 0; k < 3; ++k) {  // each server in turn: one of them holds the node's connection
    cluster_->kill(k);
    // More commands while it is down (the test's own connection may have to move too).
    for (std::size_t i = (k + 1) * per_round; i < (k + 2) * per_round; ++i) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      for (;;) {
        try {
          last = client_->publish("cmds." + std::to_string(i % 6), texts[i]);
          break;
        } catch (const std::exception& e) {
          ASSERT_LT(std::chrono::steady_clock::now(), deadline) << e.what();
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    }
    cluster_->start(k);
    cluster_->wait_ready();
    // The next kill must leave a quorum: wait for the restarted server to
    // catch up (the test's own publishes failed for 30 s now and then).
    client_->wait_replicas_current(kStream);
  }
  const Expected x = expect_stops_at_reference(node, last);
  std::multiset<std::uint64_t> dead;
  for (const auto& m : client_->read_stream("CASEREPO_DEADLETTER")) dead.insert(Json::parse(m.data)["sequence"].get<std::uint64_t>());
  EXPECT_EQ(std::set<std::uint64_t>(dead.begin(), dead.end()), x.dead_letters);
  EXPECT_EQ(dead.size(), x.dead_letters.size());
}

// A node started while its NATS cluster has no quorum (two of three servers
// down) cannot make its streams: JetStream's answer is a timeout (what this
// test saw) or an error of a cluster without a leader. It tries again (seen in a benchmark: a node exited at start
// when three made one R=3 stream at once) and starts once the servers are
// back, then ingests exactly the reference.
TEST_F(EventsTest, ANodeStartedWithoutANatsQuorumStartsOnceTheServersAreBack) {
  const auto texts = command_texts(300, 21);
  const std::uint64_t last = publish(texts);
  cluster_->kill(1);
  cluster_->kill(2);
  ChildProcess node(node_args(), dir_.str() + "/node.log");  // start_node() would wait for it to listen
  // The change stream is the node's first: its creation fails until a quorum is back.
  ASSERT_TRUE(node.wait_for_output("CASEREPO_CHANGES", std::chrono::seconds(30))) << "see node.log";
  EXPECT_FALSE(node.wait_for_output("listening on", std::chrono::seconds(2)));
  cluster_->start(1);
  cluster_->start(2);
  ASSERT_TRUE(node.wait_for_output("listening on", std::chrono::seconds(60))) << "the node did not start: see node.log";
  cluster_->wait_ready();
  client_->wait_replicas_current(kStream);
  expect_stops_at_reference(node, last);
}

// The node's consumer reports nothing pending while its next commands sit in
// the stream (CI saw this after a node restart that followed a NATS server's:
// a partition stuck at one position for minutes). Made here by taking the
// last commands from the node's own consumer while the node is paused, and
// acking them: the consumer never delivers them again. The idle check asks
// the stream, finds commands past the node's position, and re-creates the
// consumer from it: the node ends exactly at the reference.
TEST_F(EventsTest, ACommandTheConsumerNoLongerDeliversIsAppliedAfterTheStallCheck) {
  const auto texts = command_texts(200, 5);
  const std::size_t taken = 10;
  publish({texts.begin(), texts.end() - taken});
  ChildProcess node = start_node("node.log");
  const std::uint64_t applied = client_->last_sequence(kStream);
  wait_applied(applied);

  ASSERT_EQ(::kill(node.pid(), SIGSTOP), 0);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the node's waiting fetch (200 ms) has expired
  natsSubscription* thief = nullptr;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = kStream;
  const std::string durable = std::string("caserepo-") + kNode;
  so.Consumer = durable.c_str();
  ASSERT_EQ(js_PullSubscribe(&thief, client_->js(), "cmds.>", durable.c_str(), nullptr, &so, nullptr), NATS_OK);
  std::uint64_t last = 0;
  for (std::size_t i = texts.size() - taken; i < texts.size(); ++i) {
    last = client_->publish("cmds." + std::to_string(i % 6), texts[i]);
  }
  natsMsgList list{};
  const natsStatus fetched = natsSubscription_Fetch(&list, thief, static_cast<int>(taken), 10'000, nullptr);
  const int got = list.Count;
  for (int i = 0; i < list.Count; ++i) natsMsg_AckSync(list.Msgs[i], nullptr, nullptr);
  natsMsgList_Destroy(&list);
  natsSubscription_Destroy(thief);
  ASSERT_EQ(::kill(node.pid(), SIGCONT), 0);
  ASSERT_EQ(fetched, NATS_OK);
  ASSERT_EQ(got, static_cast<int>(taken));

  EXPECT_TRUE(node.wait_for_output("past position", std::chrono::seconds(20)))
      << "the node did not re-create its consumer: see node.log";
  // The line above comes before the consumer is made anew: until then the
  // old one (acked through `last` by the thief) would satisfy wait_applied().
  EXPECT_TRUE(node.wait_for_output("from sequence " + std::to_string(applied + 1), std::chrono::seconds(20)))
      << "the node did not re-create its consumer: see node.log";
  expect_stops_at_reference(node, last);
}

// Messages the node reads after the pull request they answer was given up:
// the node is paused while its idle request is (almost always) open on the
// server, and the server delivers the commands published meanwhile into the
// paused node's socket; resumed past the request's deadline, the node reads
// them as late messages, then asks again for the rest. (Not instrumented:
// the test does not check that the request was still open at the pause.) (libnats 3.4.1's fetch overran its
// array on such messages: nats.c #749.) Every command is applied once, in
// order: the node ends exactly at the reference.
TEST_F(EventsTest, CommandsDeliveredWhileTheNodeIsPausedAreAppliedOnceInOrder) {
  const auto texts = command_texts(1500, 9);
  const std::size_t first = 100;
  const std::uint64_t before = publish({texts.begin(), texts.begin() + first});
  ChildProcess node = start_node("node.log");
  wait_applied(before);

  ASSERT_EQ(::kill(node.pid(), SIGSTOP), 0);
  std::uint64_t last = 0;
  for (std::size_t i = first; i < texts.size(); ++i) last = client_->publish("cmds." + std::to_string(i % 6), texts[i]);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // past every deadline of the node's open request
  ASSERT_EQ(::kill(node.pid(), SIGCONT), 0);
  expect_stops_at_reference(node, last);
}

TEST_F(EventsTest, TheChangeFeedHoldsOneEventPerWriteInLogOrder) {
  const auto texts = command_texts(800, 21);
  const std::uint64_t last = publish(texts);
  ChildProcess node = start_node("node.log");
  wait_applied(last);
  EXPECT_EQ(node.terminate(), 0);  // a clean stop drains the feed
  const Expected x = reference(*client_);
  auto repo = open_node_dir();
  ASSERT_TRUE(repo);
  EXPECT_EQ(state_of(*repo), x.state);

  const auto events = client_->read_stream("CASEREPO_CHANGES");
  ASSERT_EQ(events.size(), x.write_positions.size());
  std::uint64_t previous_seq = 0;
  std::map<std::string, std::string> last_status;  // per case, from the events
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Json e = Json::parse(events[i].data);
    EXPECT_EQ(e["node"], kNode);
    EXPECT_EQ(e["streamPosition"].get<std::uint64_t>(), x.write_positions[i]) << i;
    const auto seq = e["seq"].get<std::uint64_t>();
    EXPECT_GT(seq, previous_seq);
    previous_seq = seq;
    // Named by its command, so a node replaying the stream publishes it under the same id.
    EXPECT_EQ(events[i].header("Nats-Msg-Id"), std::string(kStream) + ":" + std::to_string(x.write_positions[i]));
    EXPECT_EQ(events[i].subject, "caserepo.changes." + e["caseType"].get<std::string>());
    const std::string caseId = e["caseId"];
    if (e["op"] == "remove") {
      EXPECT_TRUE(e["entry"].is_null());
      EXPECT_GT(e["removed"].get<std::uint64_t>(), 0u);
      last_status.erase(caseId);
    } else {
      EXPECT_EQ(e["entry"]["caseId"], caseId);
      last_status[caseId] = e["entry"]["status"];
    }
  }
  // Replaying the feed gives every case's current status.
  std::map<std::string, std::string> current;
  Filter filter;
  filter.currentOnly = true;
  PageRequest page;
  page.size = kMaxPageSize;
  for (;;) {
    auto r = repo->search(filter, page);
    ASSERT_TRUE(r.ok());
    for (const Entry& e : r->content) current[e.caseId] = e.status;
    if (!r->nextPageToken) break;
    page.token = *r->nextPageToken;
  }
  EXPECT_EQ(last_status, current);
}

// A partitioned cluster's nodes publish the change feed too: both replicas
// of a partition apply every command and publish its event under the
// command's id, and JetStream keeps one — exactly one event per writing
// command, in stream order within each partition.
TEST_F(EventsTest, PartitionReplicasPublishOneEventPerWritingCommand) {
  constexpr const char* kClusterStream = "PCMDS";
  constexpr unsigned kPartitions = 2;
  client_->add_stream(kClusterStream, {cluster::command_subjects(kClusterStream)}, 3);
  const auto texts = command_texts(600, 33);
  std::array<std::uint64_t, kPartitions> last{};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const unsigned p = static_cast<unsigned>(i % kPartitions);
    last[p] = client_->publish(cluster::command_subject(kClusterStream, p), texts[i]);
  }
  std::vector<ChildProcess> nodes;
  for (const std::string id : {"replica-a", "replica-b"}) nodes.push_back(start_partition_node(id, kClusterStream, id + ".log"));
  for (const std::string id : {"replica-a", "replica-b"}) {
    for (unsigned p = 0; p < kPartitions; ++p) {
      wait_applied(last[p], "caserepo-" + id + "-p" + std::to_string(p), kClusterStream);
    }
  }
  for (ChildProcess& node : nodes) EXPECT_EQ(node.terminate(), 0);  // a clean stop drains the feed

  std::array<Expected, kPartitions> x;
  std::size_t writes = 0;
  for (unsigned p = 0; p < kPartitions; ++p) {
    x[p] = reference(*client_, kClusterStream, cluster::command_subject(kClusterStream, p));
    writes += x[p].write_positions.size();
    for (const std::string id : {"replica-a", "replica-b"}) {
      auto repo = Repository::open(dir_.str() + "/" + id + "/p" + std::to_string(p));
      ASSERT_TRUE(repo.ok()) << repo.error().to_string();
      EXPECT_EQ(state_of(**repo), x[p].state) << id << " partition " << p;
    }
  }
  const auto events = client_->read_stream("CASEREPO_CHANGES");
  ASSERT_EQ(events.size(), writes);  // both replicas published: one of each kept
  std::array<std::vector<std::uint64_t>, kPartitions> positions;
  for (const NatsClient::Stored& m : events) {
    const Json e = Json::parse(m.data);
    const auto p = e["partition"].get<unsigned>();
    ASSERT_LT(p, kPartitions);
    const auto position = e["streamPosition"].get<std::uint64_t>();
    positions[p].push_back(position);
    EXPECT_EQ(m.header("Nats-Msg-Id"), std::string(kClusterStream) + ":" + std::to_string(position));
  }
  for (unsigned p = 0; p < kPartitions; ++p) EXPECT_EQ(positions[p], x[p].write_positions) << "partition " << p;
}

// The change stream made before the node makes it, taking `max_events`
// and refusing the rest (the node then holds them, sending them again).
void add_refusing_change_stream(NatsClient& client, std::int64_t max_events) {
  const std::string subject = std::string("caserepo.changes.") + ">";
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = "CASEREPO_CHANGES";
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = 3;
  config.Duplicates = std::int64_t{10} * 60 * 1000 * 1000000;
  config.MaxMsgs = max_events;
  config.Discard = js_DiscardNew;
  client.add_stream(config);
}

std::uint64_t stored_changes(NatsClient& client) {
  jsStreamInfo* info = nullptr;
  if (js_GetStreamInfo(&info, client.js(), "CASEREPO_CHANGES", nullptr, nullptr) != NATS_OK) return 0;
  const std::uint64_t n = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  return n;
}

// Lets the change stream of add_refusing_change_stream take every event.
void lift_change_stream_limit(NatsClient& client) {
  jsStreamInfo* info = nullptr;
  ASSERT_EQ(js_GetStreamInfo(&info, client.js(), "CASEREPO_CHANGES", nullptr, nullptr), NATS_OK);
  info->Config->MaxMsgs = -1;
  jsStreamInfo* updated = nullptr;
  EXPECT_EQ(js_UpdateStream(&updated, client.js(), info->Config, nullptr, nullptr), NATS_OK);
  jsStreamInfo_Destroy(updated);
  jsStreamInfo_Destroy(info);
}

// Waits (up to 60 s) until the change stream holds `n` events.
void wait_stored_changes(NatsClient& client, std::uint64_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (stored_changes(client) < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Events a killed node had not published are published after its restart:
// the change stream takes only the first five events (a message limit
// refusing the rest, as JetStream refuses while it has no leader), the node
// keeps resending the others and is killed; with the limit lifted, the
// restarted node publishes them from its log — exactly one event per write,
// in log order (the five already stored are dropped as repeats).
TEST_F(EventsTest, EventsAKilledNodeHadNotPublishedArePublishedAfterItsRestart) {
  constexpr std::int64_t kStored = 5;
  add_refusing_change_stream(*client_, kStored);
  auto stored = [&] { return stored_changes(*client_); };
  const std::uint64_t last = publish(command_texts(300, 44));
  {
    ChildProcess node = start_node("node-killed.log");
    wait_applied(last);
    ASSERT_EQ(stored(), static_cast<std::uint64_t>(kStored));
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // a few refused resends
    node.kill();
  }
  lift_change_stream_limit(*client_);
  const Expected x = reference(*client_);
  ASSERT_GT(x.write_positions.size(), 200u);
  ChildProcess node = start_node("node-restarted.log");
  wait_stored_changes(*client_, x.write_positions.size());
  EXPECT_EQ(node.terminate(), 0);
  const auto events = client_->read_stream("CASEREPO_CHANGES");
  std::vector<std::uint64_t> positions;
  for (const NatsClient::Stored& m : events) {
    const auto position = Json::parse(m.data)["streamPosition"].get<std::uint64_t>();
    positions.push_back(position);
    EXPECT_EQ(m.header("Nats-Msg-Id"), std::string(kStream) + ":" + std::to_string(position));
  }
  EXPECT_EQ(positions, x.write_positions);
  // The clean stop left the file naming the last event's write: every one acknowledged.
  ASSERT_FALSE(events.empty());
  const auto last_event_seq = Json::parse(events.back().data)["seq"].get<std::uint64_t>();
  EXPECT_EQ(file_text(dir_.str() + "/node/change-feed"),
            "caserepo change feed\npublished-through " + std::to_string(last_event_seq) + "\n");
}

// The same for a partitioned cluster's node, whose partitions are
// repositories of their own, each with its own log seqs and its own file of
// what JetStream acknowledged: its events not published when it was killed
// (here the partitions' only node: both replicas of a partition killed at
// once) are published after its restart, exactly one per writing command,
// in stream order per partition.
TEST_F(EventsTest, EventsAKilledPartitionNodeHadNotPublishedArePublishedAfterItsRestart) {
  constexpr const char* kClusterStream = "PCMDS";
  constexpr unsigned kPartitions = 2;
  constexpr std::int64_t kStored = 5;
  client_->add_stream(kClusterStream, {cluster::command_subjects(kClusterStream)}, 3);
  add_refusing_change_stream(*client_, kStored);
  const auto texts = command_texts(300, 46);
  std::array<std::uint64_t, kPartitions> last{};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const unsigned p = static_cast<unsigned>(i % kPartitions);
    last[p] = client_->publish(cluster::command_subject(kClusterStream, p), texts[i]);
  }
  {
    ChildProcess node = start_partition_node("pnode", kClusterStream, "pnode-killed.log");
    for (unsigned p = 0; p < kPartitions; ++p) wait_applied(last[p], "caserepo-pnode-p" + std::to_string(p), kClusterStream);
    ASSERT_EQ(stored_changes(*client_), static_cast<std::uint64_t>(kStored));
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // a few refused resends
    node.kill();
  }
  lift_change_stream_limit(*client_);
  std::array<Expected, kPartitions> x;
  std::size_t writes = 0;
  for (unsigned p = 0; p < kPartitions; ++p) {
    x[p] = reference(*client_, kClusterStream, cluster::command_subject(kClusterStream, p));
    writes += x[p].write_positions.size();
  }
  ASSERT_GT(writes, 200u);
  ChildProcess node = start_partition_node("pnode", kClusterStream, "pnode-restarted.log");
  wait_stored_changes(*client_, writes);
  EXPECT_EQ(node.terminate(), 0);

  std::array<std::vector<std::uint64_t>, kPartitions> positions, seqs;
  for (const NatsClient::Stored& m : client_->read_stream("CASEREPO_CHANGES")) {
    const Json e = Json::parse(m.data);
    const auto p = e["partition"].get<unsigned>();
    ASSERT_LT(p, kPartitions);
    positions[p].push_back(e["streamPosition"].get<std::uint64_t>());
    seqs[p].push_back(e["seq"].get<std::uint64_t>());
  }
  for (unsigned p = 0; p < kPartitions; ++p) {
    EXPECT_EQ(positions[p], x[p].write_positions) << "partition " << p;
    // Each partition's file names its own last event's write: every one acknowledged.
    ASSERT_FALSE(seqs[p].empty());
    EXPECT_EQ(file_text(dir_.str() + "/pnode/p" + std::to_string(p) + "/change-feed"),
              "caserepo change feed\npublished-through " + std::to_string(seqs[p].back()) + "\n")
        << "partition " << p;
  }
}

// A periodic checkpoint waits up to 30 s for the change feed before it
// drops log (JetStream here refuses every event after the fifth, so it
// never has them all). A SIGTERM meanwhile stops the node at once: the
// checkpoint gives up and keeps the log, and nothing is lost — the
// directory reopens to the stream's state, and the feed's file still names
// a seq before the last write, so the restart reports the rest again.
TEST_F(EventsTest, AStopIsNotHeldByACheckpointWaitingForTheChangeFeed) {
  add_refusing_change_stream(*client_, 5);
  const std::uint64_t last = publish(command_texts(200, 45));
  ChildProcess node = start_node("node-stopped.log", {"--checkpoint-every", "1"});
  wait_applied(last);
  ASSERT_EQ(stored_changes(*client_), 5u);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // a checkpoint is waiting by now
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(node.terminate(std::chrono::seconds(25)), 0);
  const auto stop_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(stop_s, 10.0) << "the stop waited for the checkpoint";
  std::ifstream log_file(dir_.str() + "/node-stopped.log");
  std::stringstream log_text;
  log_text << log_file.rdbuf();
  EXPECT_NE(log_text.str().find("periodic checkpoint failed"), std::string::npos) << log_text.str();

  const Expected x = reference(*client_);
  auto repo = open_node_dir();
  ASSERT_NE(repo, nullptr);
  EXPECT_EQ(state_of(*repo), x.state);
  EXPECT_EQ(repo->streamPosition(), x.position);
  const std::uint64_t last_write_seq = repo->stats().lastSeq;
  repo.reset();
  std::ifstream published(dir_.str() + "/node/change-feed");
  std::string magic, key;
  std::uint64_t through = 0;
  std::getline(published, magic);
  published >> key >> through;
  EXPECT_EQ(key, "published-through");
  EXPECT_LT(through, last_write_seq);
}

}  // namespace
}  // namespace caserepo::testing
