#include "cluster/partition_node.h"

#include <charconv>
#include <cstdio>
#include <filesystem>

#include "cluster/partitioning.h"
#include "events/metric_text.h"
#include "events/node_events.h"

namespace caserepo::cluster {
namespace {

using server::Endpoint;
using server::http::status;

constexpr auto kBehindWait = std::chrono::seconds(1);  // read-your-writes: how long a read waits for the router's position
constexpr int kRespondersPerPartition = 2;               // threads answering a partition's reads

const server::Route& route_of(Endpoint e) {
  for (const auto& r : server::routes()) {
    if (r.endpoint == e) return r;
  }
  std::abort();  // every endpoint named below is in the table
}

std::uint64_t parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

std::string encode_reply(unsigned code, std::string_view body) {
  char head[8];
  std::snprintf(head, sizeof head, "%03u ", code % 1000);
  std::string out(head);
  out += body;
  return out;
}

Result<std::unique_ptr<PartitionNode>> PartitionNode::open(const server::ServerConfig& config,
                                                           server::Metrics& metrics) {
  std::unique_ptr<PartitionNode> node(new PartitionNode(config, metrics));
  auto link = events::NatsLink::connect(config.nats_urls, "caserepo-server " + config.node_id, 10000,
                                          /*send_asap=*/true);
  if (!link.ok()) return link.error();
  node->link_ = std::move(*link);
  if (auto s = node->link_->ensure_stream(config.stream, {command_subjects(config.stream)}, config.nats_replicas,
                                          /*duplicate_window_ms=*/2 * 60 * 1000);
      !s.ok()) {
    return s.error();
  }
  if (auto s = node->link_->ensure_stream(events::kDeadLetterStream,
                                          {std::string(events::kDeadLetterSubjectPrefix) + ">"}, config.nats_replicas,
                                          /*duplicate_window_ms=*/10 * 60 * 1000);
      !s.ok()) {
    return s.error();
  }
  if (config.change_feed) {
    // Both replicas of a partition publish each write under the id of its
    // command (<stream>:<position>): JetStream keeps the first.
    node->feed_ = std::make_unique<events::ChangeFeed>(*node->link_, config.node_id, config.stream);
    if (auto s = node->feed_->start(config.nats_replicas); !s.ok()) return s.error();
  }
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  for (const unsigned index : config.serve) {
    auto p = std::make_unique<Partition>();
    p->index = index;
    p->node = node.get();
    Options options;
    options.fsync = config.fsync;
    // The outcome of every write the partition takes, for the router waiting on it.
    options.onChange = [part = p.get(), feed = node->feed_.get()](const Change& c) {
      if (feed) feed->on_change(c, part->index);
      if (c.streamPosition == 0) return;
      part->outcomes.record(c.streamPosition, 200,
                            c.kind == Change::Kind::kRemove ? "{\"removed\":" + std::to_string(c.removed) + "}"
                                                            : json::dump(*c.entry));
    };
    const std::string dir = config.data_dir + "/p" + std::to_string(index);
    if (events::ChangeFeed* feed = node->feed_.get()) {
      // The partition's own file of what JetStream acknowledged: a restart
      // sends again the events a killed node had queued (both replicas of a
      // partition killed at once lost them before). The writes replayed so
      // also record their outcomes above: the same answers, for positions
      // up to the partition's own (start_at below).
      std::filesystem::create_directories(dir, ec);
      options.replayChangesAfter = feed->track_published(dir + "/" + events::kPublishedFile, index);
      options.beforeLogDropped = [feed, index](std::uint64_t seq) {
        return feed->wait_published(seq, events::kFeedWaitBeforeLogDropped, index);
      };
    }
    auto repo = Repository::open(dir, options);
    if (!repo.ok()) return repo.error();
    p->repo = std::move(*repo);
    p->outcomes.start_at(p->repo->streamPosition());
    p->api = std::make_unique<server::Api>(*p->repo, metrics);
    node->partitions_.push_back(std::move(p));
  }
  metrics.set_extra([n = node.get()] { return n->partition_metrics(); });
  return node;
}

PartitionNode::~PartitionNode() { stop(); }

Status PartitionNode::start() {
  for (auto& p : partitions_) {
    events::IngestConfig ic;
    ic.stream = config_.stream;
    ic.filter = command_subject(config_.stream, p->index);
    ic.durable = "caserepo-" + config_.node_id + "-p" + std::to_string(p->index);
    ic.dead_letter = events::kDeadLetterSubjectPrefix + config_.stream;
    ic.on_refused = [part = p.get()](std::uint64_t position, const Error& e) {
      part->outcomes.record(position, static_cast<unsigned>(server::status_of(e.code())), json::to_json(e).dump());
    };
    p->ingestor = std::make_unique<events::Ingestor>(*p->repo, *link_, std::move(ic));
    if (auto s = p->ingestor->start(); !s.ok()) return s;
    for (int i = 0; i < kRespondersPerPartition; ++i) {
      natsSubscription* sub = nullptr;
      const std::string subject = request_subject(config_.stream, p->index, "*");
      const natsStatus s = natsConnection_QueueSubscribe(&sub, link_->connection(), subject.c_str(),
                                                         queue_group(config_.stream, p->index).c_str(), on_request,
                                                         p.get());
      if (s != NATS_OK) return events::nats_error("subscribing to " + subject, s);
      p->responders.push_back(sub);
    }
  }
  std::fprintf(stderr, "caserepo-server: node %s serves %zu partition(s) of %s\n", config_.node_id.c_str(),
               partitions_.size(), config_.stream.c_str());
  return ok_status();
}

void PartitionNode::release_waits() {
  if (feed_) feed_->release_waiters();
}

void PartitionNode::stop() {
  for (auto& p : partitions_) {
    for (natsSubscription* sub : p->responders) {  // a drained one runs no callback any more
      if (natsSubscription_Drain(sub) == NATS_OK) natsSubscription_WaitForDrainCompletion(sub, 5000);
      natsSubscription_Destroy(sub);
    }
    p->responders.clear();
  }
  for (auto& p : partitions_) {
    if (p->ingestor) p->ingestor->stop();
  }
  for (auto& p : partitions_) {
    p->ingestor.reset();
    p->api.reset();
    p->repo.reset();  // a clean close
  }
  if (feed_) feed_->stop(std::chrono::milliseconds(2000));  // sends what the writes above queued
}

void PartitionNode::checkpoint() {
  for (auto& p : partitions_) {
    if (!p->repo) continue;
    if (auto r = p->repo->checkpoint(); !r.ok()) {
      std::fprintf(stderr, "caserepo-server: checkpoint of partition %u failed: %s\n", p->index,
                   r.error().to_string().c_str());
    }
  }
}

void PartitionNode::on_request(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* p = static_cast<Partition*>(closure);
  p->node->answer(*p, msg);
  natsMsg_Destroy(msg);
}

void PartitionNode::answer(Partition& p, natsMsg* msg) const {
  const char* reply_to = natsMsg_GetReply(msg);
  if (reply_to == nullptr || p.repo == nullptr) return;
  natsConnection* conn = link_->connection();
  auto send = [conn, to = std::string(reply_to)](unsigned code, std::string_view body) {
    const std::string r = encode_reply(code, body);
    natsConnection_Publish(conn, to.c_str(), r.data(), static_cast<int>(r.size()));
  };
  const std::string_view subject = natsMsg_GetSubject(msg);
  const std::string_view op = subject.substr(subject.rfind('.') + 1);
  const std::string_view data(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  Repository& repo = *p.repo;

  if (op == "ping") {
    send(200, "{\"partition\":" + std::to_string(p.index) + ",\"position\":" + std::to_string(repo.streamPosition()) +
                  "}");
    return;
  }
  if (op == "wait") {  // the outcome of the command at this position, when the partition has it
    p.outcomes.when_done(parse_u64(data), [send](unsigned code, const std::string& body) { send(code, body); });
    return;
  }
  // A read: "<position>\n<payload>". It waits until this node has taken the
  // router's last write to the partition (read-your-writes on any replica).
  const auto newline = data.find('\n');
  if (newline == std::string_view::npos) return send(400, R"({"error":"InvalidArgument","message":"no position line"})");
  const std::uint64_t after = parse_u64(data.substr(0, newline));
  const std::string_view payload = data.substr(newline + 1);
  if (!p.outcomes.wait_for(after, [&repo] { return repo.streamPosition(); }, kBehindWait)) {
    return send(503, json::to_json(Error::IOError("partition " + std::to_string(p.index) +
                                                   " on this node has not reached position " + std::to_string(after)))
                         .dump());
  }
  if (op == "searchtokens") {  // the router's search: each entry with the token after it (no second round)
    auto j = json::parse(payload);
    if (!j.ok()) return send(400, json::to_json(j.error()).dump());
    auto s = json::parse_search(*j);
    if (!s.ok()) return send(400, json::to_json(s.error()).dump());
    s->page.entryTokens = true;
    auto r = repo.search(s->filter, s->page);
    if (!r.ok()) return send(static_cast<unsigned>(server::status_of(r.error().code())), json::to_json(r.error()).dump());
    return send(200, json::dump(*r));
  }
  Endpoint endpoint;
  if (op == "get") endpoint = Endpoint::kGet;
  else if (op == "history") endpoint = Endpoint::kHistory;
  else if (op == "search") endpoint = Endpoint::kSearchPost;
  else if (op == "facets") endpoint = Endpoint::kFacets;
  else return send(400, R"({"error":"InvalidArgument","message":"unknown operation"})");
  server::Request req{endpoint == Endpoint::kGet || endpoint == Endpoint::kHistory ? server::http::verb::get
                                                                                 : server::http::verb::post,
                      "/", 11};
  std::string_view query;
  if (endpoint == Endpoint::kGet || endpoint == Endpoint::kHistory) {
    query = payload;
  } else {
    req.set(server::http::field::content_type, server::kJsonType);
    req.body() = std::string(payload);
  }
  const server::Response res = p.api->handle(req, route_of(endpoint), nullptr, query);
  send(res.result_int(), res.body());
}

server::Response PartitionNode::handle(const server::Request& req, const server::Route& route, const server::Principal*,
                                       std::string_view) const {
  auto text = [&](status code, std::string type, std::string body) {
    server::Response res{code, req.version()};
    res.set(server::http::field::content_type, type);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  };
  switch (route.endpoint) {
    case Endpoint::kHealth: return text(status::ok, server::kJsonType, R"({"status":"ok"})");
    case Endpoint::kReady: {
      for (const auto& p : partitions_) {
        if (p->repo->stats().readOnly) {
          return server::error_response(status::service_unavailable, "ReadOnly",
                                        "partition " + std::to_string(p->index) + " is read-only after a persistence failure",
                                        req.version(), req.keep_alive());
        }
      }
      return text(status::ok, server::kJsonType, R"({"status":"ready"})");
    }
    case Endpoint::kMetrics:
      return text(status::ok, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(summed_stats()));
    default:
      return server::error_response(status::misdirected_request, "MisdirectedRequest",
                                    "this node serves partitions of a cluster to its router; send API requests to the router",
                                    req.version(), req.keep_alive());
  }
}

Stats PartitionNode::summed_stats() const {
  Stats sum;
  for (const auto& p : partitions_) {
    if (!p->repo) continue;
    const Stats s = p->repo->stats();
    sum.entries += s.entries;
    sum.cases += s.cases;
    sum.creates += s.creates;
    sum.updates += s.updates;
    sum.removes += s.removes;
    sum.searches += s.searches;
    sum.persistent = sum.persistent || s.persistent;
    sum.readOnly = sum.readOnly || s.readOnly;
    sum.lastSeq += s.lastSeq;
    sum.syncedSeq += s.syncedSeq;
    sum.syncs += s.syncs;
    sum.logBytesSinceCheckpoint += s.logBytesSinceCheckpoint;
    sum.checkpoints += s.checkpoints;
  }
  return sum;
}

std::string PartitionNode::partition_metrics() const {
  std::string out =
      "# HELP caserepo_partition_entries Entries held, per partition served.\n# TYPE caserepo_partition_entries gauge\n";
  for (const auto& p : partitions_) {
    if (p->repo) out += "caserepo_partition_entries{partition=\"" + std::to_string(p->index) + "\"} " +
                        std::to_string(p->repo->stats().entries) + "\n";
  }
  out += "# HELP caserepo_partition_stream_position Stream sequence of the last command taken, per partition.\n"
         "# TYPE caserepo_partition_stream_position gauge\n";
  for (const auto& p : partitions_) {
    if (p->repo) out += "caserepo_partition_stream_position{partition=\"" + std::to_string(p->index) + "\"} " +
                        std::to_string(p->repo->streamPosition()) + "\n";
  }
  if (feed_) out += feed_->metrics();
  return out;
}

}  // namespace caserepo::cluster
