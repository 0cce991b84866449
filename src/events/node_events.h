// NodeEvents: what a caserepo-server node does on NATS JetStream — the
// change feed of its writes and, with --ingest, the ingestion of a command
// stream — over one connection (docs/events.md).
//
// Order at start: connect() (and the feed), then Repository::open with
// options from attach(), then start_ingest(repo). At shutdown:
// stop_ingest() before the repository closes, stop_changes() after.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "caserepo/repository.h"
#include "events/change_feed.h"
#include "events/ingestor.h"
#include "events/nats_link.h"

namespace caserepo::events {

struct EventsConfig {
  std::string nats_urls;
  std::string node_id = "caserepo";
  int replicas = 1;
  bool change_feed = true;
  std::string ingest_stream, ingest_filter;  // empty stream: no ingestion
};

inline constexpr const char* kPublishedFile = "change-feed";  // in the data directory
// A checkpoint waits this long for the feed before it drops log (NATS away:
// it is put off and the log kept).
inline constexpr auto kFeedWaitBeforeLogDropped = std::chrono::seconds(30);
inline constexpr const char* kDeadLetterStream = "CASEREPO_DEADLETTER";
inline constexpr const char* kDeadLetterSubjectPrefix = "caserepo.deadletter.";

class NodeEvents {
 public:
  // Errors: IOError (no NATS within the timeout, a stream cannot be made).
  static Result<std::unique_ptr<NodeEvents>> connect(EventsConfig config);
  ~NodeEvents();

  // With a change feed: Options::onChange, and what brings back events a
  // killed process did not publish — replayChangesAfter, read from the
  // feed's file in `data_dir` (kPublishedFile), and beforeLogDropped.
  void attach(Options& options, const std::string& data_dir);
  Status start_ingest(Repository& repo);
  void stop_ingest();
  // The server is stopping: a checkpoint waiting for the change feed gives
  // up (keeps its log) instead of holding the stop (ChangeFeed::release_waiters).
  void release_waits();
  void stop_changes();
  std::string metrics() const;

 private:
  explicit NodeEvents(EventsConfig config) : config_(std::move(config)) {}
  EventsConfig config_;
  std::unique_ptr<NatsLink> link_;
  std::unique_ptr<ChangeFeed> feed_;
  std::unique_ptr<Ingestor> ingestor_;
};

}  // namespace caserepo::events
