// ChangeFeed: publishes every committed write — from the REST API or from
// the ingested stream — to the JetStream stream CASEREPO_CHANGES, subject
// caserepo.changes.<caseType> (docs/events.md has the event schema).
//
// The repository reports each write once it is durable and visible
// (Options::onChange, in log order); the feed turns it into an event and
// queues it, and a publisher thread sends the queue in order with
// asynchronous JetStream publishes, each with a message id that names the
// write, so that JetStream drops a repeat: <command stream>:<position> for a
// write made by a stream command (the same on every node that applies the
// command: a partition's replicas, a node replaying the stream after a
// restore), <node>-<log seq> for a REST write. A publish JetStream does not
// acknowledge is sent again after a pause, for as long as the process lives
// (so it can land after newer events of its case: `seq` and
// `streamPosition` order them). The queue is bounded: when NATS is away
// long enough to fill it, writes wait (an event is never dropped).
//
// A killed process loses what is queued; with track_published() the feed
// keeps, in a file beside the repository, the log seq up to which JetStream
// acknowledged every event, and the repository's open reports the writes
// after it again (Options::replayChangesAfter), its checkpoints waiting for
// the feed before they drop log it still needs (Options::beforeLogDropped).
// A partition node's feed publishes for several repositories, one per
// partition, each with its own log seqs: it tracks each on its own, keyed by
// the partition its events carry.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "caserepo/change.h"
#include "events/nats_link.h"

namespace caserepo::events {

inline constexpr const char* kChangeStream = "CASEREPO_CHANGES";
inline constexpr const char* kChangeSubjectPrefix = "caserepo.changes.";

// A value as one subject token: [A-Za-z0-9_-] kept, every other byte %XX
// (NATS tokens cannot hold '.', '*', '>' or white space); "" is "%".
std::string subject_token(std::string_view value);

// The event's JSON (docs/events.md); `partition` only from a partition node.
std::string change_event_json(const Change& c, const std::string& node, std::optional<unsigned> partition = {});

// The event's message id (JetStream de-duplication), as above.
std::string change_event_id(const Change& c, const std::string& node, const std::string& command_stream);

class ChangeFeed {
 public:
  // `command_stream`: the stream whose positions name ingested writes.
  ChangeFeed(NatsLink& link, std::string node, std::string command_stream, std::size_t max_queued = 1 << 16);
  ~ChangeFeed();  // stop(1 s)
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Makes the stream if it is missing (`replicas`), starts the publisher.
  Status start(int replicas);
  // For a repository whose changes come with `partition` (none: a single
  // server's), before it reports one: keeps in `path` the log seq up to
  // which every event of that repository was acknowledged (rewritten now and
  // then, not synced: a stale value only means events sent again, which
  // JetStream drops within its window). Returns the seq read from it, 0 when
  // it is missing or unreadable: for Options::replayChangesAfter.
  std::uint64_t track_published(std::string path, std::optional<unsigned> partition = {});
  // For Options::beforeLogDropped: whether every event of that repository up
  // to `seq` was acknowledged within `timeout` (true at once when not tracked).
  bool wait_published(std::uint64_t seq, std::chrono::milliseconds timeout, std::optional<unsigned> partition = {});
  // Makes wait_published give up now and answer false from now on: a
  // stopping server's checkpoint keeps its log instead of holding the stop
  // for the wait's timeout. Events are still published.
  void release_waiters();
  // From the commit path (Options::onChange): queues the event.
  void on_change(const Change& c, std::optional<unsigned> partition = {});
  // Sends what is queued, waiting at most `grace` for JetStream's acks.
  void stop(std::chrono::milliseconds grace);

  std::string metrics() const;

 private:
  struct Event {
    std::string subject, id, body;
    int resends = 0;
  };
  void publish_loop();
  static void on_publish_ack(jsCtx* js, natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* self);
  void resend_later(natsMsg* msg, jsPubAckErr* err);
  // The acknowledgements of one repository's events (track_published).
  struct Tracker {
    std::string path;
    std::set<std::uint64_t> unacked;  // seqs of events published or queued, not acknowledged
    std::uint64_t last = 0;           // the newest event's seq (or the seq read at start)
    std::uint64_t saved = 0;          // what the file says
    // The seq up to which every event was acknowledged.
    std::uint64_t through() const { return unacked.empty() ? last : *unacked.begin() - 1; }
  };
  static constexpr std::int64_t kWholeRepository = -1;  // the key of a single server's repository
  static std::int64_t tracker_key(std::optional<unsigned> partition) { return partition ? *partition : kWholeRepository; }
  // REQUIRES: mu_ held. Whether a tracker's file is behind.
  bool unsaved() const;
  void save_published();

  NatsLink& link_;
  const std::string node_;
  const std::string command_stream_;
  const std::size_t max_queued_;
  jsCtx* js_ = nullptr;  // its own context: its error handler resends
  mutable std::mutex mu_;
  std::condition_variable cv_;       // the publisher: events queued, or stop
  std::condition_variable room_;     // writers: the queue has room
  std::deque<Event> queue_;
  std::deque<Event> resend_;  // not acknowledged by JetStream: sent again first, after a pause
  std::map<std::int64_t, Tracker> trackers_;  // by tracker_key()
  // Tracked events not acknowledged yet, by message id: (tracker key, seq).
  // Ids are unique across a node's partitions: a partition's events are
  // named by their command's stream position.
  std::unordered_map<std::string, std::pair<std::int64_t, std::uint64_t>> unacked_ids_;
  std::condition_variable acked_;       // wait_published
  bool waiters_released_ = false;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::uint64_t> published_{0}, resent_{0}, failed_{0};
};

}  // namespace caserepo::events
