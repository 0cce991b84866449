#include "events/node_events.h"

namespace caserepo::events {

Result<std::unique_ptr<NodeEvents>> NodeEvents::connect(EventsConfig config) {
  std::unique_ptr<NodeEvents> events(new NodeEvents(std::move(config)));
  const EventsConfig& c = events->config_;
  auto link = NatsLink::connect(c.nats_urls, "caserepo-server " + c.node_id);
  if (!link.ok()) return link.error();
  events->link_ = std::move(*link);
  if (c.change_feed) {
    events->feed_ = std::make_unique<ChangeFeed>(*events->link_, c.node_id, c.ingest_stream);
    if (auto s = events->feed_->start(c.replicas); !s.ok()) return s.error();
  }
  if (!c.ingest_stream.empty()) {
    if (auto s = events->link_->ensure_stream(kDeadLetterStream, {std::string(kDeadLetterSubjectPrefix) + ">"},
                                              c.replicas, /*duplicate_window_ms=*/10 * 60 * 1000);
        !s.ok()) {
      return s.error();
    }
  }
  return events;
}

NodeEvents::~NodeEvents() {
  stop_ingest();
  stop_changes();
}

void NodeEvents::attach(Options& options, const std::string& data_dir) {
  if (!feed_) return;
  ChangeFeed* feed = feed_.get();
  options.onChange = [feed](const Change& c) { feed->on_change(c); };
  options.replayChangesAfter = feed->track_published(data_dir + "/" + kPublishedFile);
  options.beforeLogDropped = [feed](std::uint64_t seq) { return feed->wait_published(seq, kFeedWaitBeforeLogDropped); };
}

Status NodeEvents::start_ingest(Repository& repo) {
  if (config_.ingest_stream.empty()) return ok_status();
  IngestConfig ic;
  ic.stream = config_.ingest_stream;
  ic.filter = config_.ingest_filter;
  ic.durable = "caserepo-" + config_.node_id;
  ic.dead_letter = kDeadLetterSubjectPrefix + subject_token(config_.ingest_stream);
  ingestor_ = std::make_unique<Ingestor>(repo, *link_, std::move(ic));
  return ingestor_->start();
}

void NodeEvents::stop_ingest() {
  if (ingestor_) ingestor_->stop();
}

void NodeEvents::release_waits() {
  if (feed_) feed_->release_waiters();
}

void NodeEvents::stop_changes() {
  if (feed_) feed_->stop(std::chrono::milliseconds(2000));
}

std::string NodeEvents::metrics() const {
  std::string out;
  if (ingestor_) out += ingestor_->metrics();
  if (feed_) out += feed_->metrics();
  return out;
}

}  // namespace caserepo::events
