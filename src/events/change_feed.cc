#include "events/change_feed.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "events/metric_text.h"
#include "json/wire.h"

namespace caserepo::events {
namespace {

constexpr int kMaxPendingPublishes = 4096;  // unacknowledged async publishes in flight
constexpr int kLogResendsAt = 20;           // an event resent this often is reported (and still resent)
constexpr auto kResendPause = std::chrono::milliseconds(250);  // a JetStream leader election takes a while
constexpr auto kSaveEvery = std::chrono::milliseconds(200);    // track_published(): the file's refresh
constexpr const char* kPublishedFormat = "caserepo change feed\npublished-through %llu\n";

const char* op_name(Change::Kind k) {
  switch (k) {
    case Change::Kind::kCreate: return "create";
    case Change::Kind::kUpdate: return "update";
    default: return "remove";
  }
}

}  // namespace

std::string subject_token(std::string_view value) {
  if (value.empty()) return "%";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Written directly (the wire format's fast entry writer): on the commit path.
std::string change_event_json(const Change& c, const std::string& node, std::optional<unsigned> partition) {
  std::string out;
  out.reserve(400);
  out += "{\"node\":";
  json::append_string(out, node);
  if (partition) out += ",\"partition\":" + std::to_string(*partition);
  out += ",\"seq\":" + std::to_string(c.seq) + ",\"op\":\"" + op_name(c.kind) + "\",\"caseId\":";
  json::append_string(out, c.caseId);
  out += ",\"caseType\":";
  json::append_string(out, c.caseType);
  out += ",\"entry\":";
  out += c.entry ? json::dump(*c.entry) : "null";
  out += ",\"removed\":" + std::to_string(c.removed) + ",\"streamPosition\":";
  out += c.streamPosition ? std::to_string(c.streamPosition) : "null";
  out += '}';
  return out;
}

std::string change_event_id(const Change& c, const std::string& node, const std::string& command_stream) {
  if (c.streamPosition != 0 && !command_stream.empty()) return command_stream + ":" + std::to_string(c.streamPosition);
  return node + "-" + std::to_string(c.seq);
}

ChangeFeed::ChangeFeed(NatsLink& link, std::string node, std::string command_stream, std::size_t max_queued)
    : link_(link), node_(std::move(node)), command_stream_(std::move(command_stream)), max_queued_(max_queued) {}

ChangeFeed::~ChangeFeed() {
  stop(std::chrono::milliseconds(1000));
  if (js_ != nullptr) jsCtx_Destroy(js_);
}

Status ChangeFeed::start(int replicas) {
  if (auto s = link_.ensure_stream(kChangeStream, {std::string(kChangeSubjectPrefix) + ">"}, replicas,
                                   /*duplicate_window_ms=*/10 * 60 * 1000);
      !s.ok()) {
    return s;
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  jo.PublishAsync.MaxPending = kMaxPendingPublishes;
  jo.PublishAsync.AckHandler = &ChangeFeed::on_publish_ack;  // every outcome (ErrHandler is then unused)
  jo.PublishAsync.AckHandlerClosure = this;
  if (natsStatus s = natsConnection_JetStream(&js_, link_.connection(), &jo); s != NATS_OK) {
    return nats_error("JetStream context for the change feed", s);
  }
  thread_ = std::thread([this] { publish_loop(); });
  return ok_status();
}

std::uint64_t ChangeFeed::track_published(std::string path, std::optional<unsigned> partition) {
  unsigned long long seq = 0;
  if (std::FILE* f = std::fopen(path.c_str(), "r")) {
    if (std::fscanf(f, kPublishedFormat, &seq) != 1) seq = 0;  // unreadable: everything in the log again
    std::fclose(f);
  }
  std::lock_guard lock(mu_);
  Tracker& t = trackers_[tracker_key(partition)];
  t.path = std::move(path);
  t.last = t.saved = seq;
  return seq;
}

bool ChangeFeed::unsaved() const {
  return std::any_of(trackers_.begin(), trackers_.end(), [](const auto& kv) { return kv.second.through() != kv.second.saved; });
}

void ChangeFeed::save_published() {
  struct Due {
    std::int64_t key;
    std::string path;
    std::uint64_t seq;
  };
  std::vector<Due> due;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, t] : trackers_) {
      if (t.through() != t.saved) due.push_back({key, t.path, t.through()});
    }
  }
  for (const Due& d : due) {
    // Replaced whole by a rename, never synced: after a crash the file is the
    // old one (more events sent again), never one naming an unacknowledged seq.
    const std::string tmp = d.path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr) continue;
    const bool written = std::fprintf(f, kPublishedFormat, static_cast<unsigned long long>(d.seq)) > 0;
    if (std::fclose(f) != 0 || !written || std::rename(tmp.c_str(), d.path.c_str()) != 0) continue;
    std::lock_guard lock(mu_);
    trackers_[d.key].saved = d.seq;
  }
}

bool ChangeFeed::wait_published(std::uint64_t seq, std::chrono::milliseconds timeout,
                                std::optional<unsigned> partition) {
  std::unique_lock lock(mu_);
  const auto it = trackers_.find(tracker_key(partition));
  if (it == trackers_.end()) return true;
  const Tracker& t = it->second;  // map nodes stay put
  auto published = [&] { return t.unacked.empty() || *t.unacked.begin() > seq; };
  acked_.wait_for(lock, timeout, [&] { return published() || waiters_released_; });
  return published() && !waiters_released_;
}

void ChangeFeed::release_waiters() {
  {
    std::lock_guard lock(mu_);
    waiters_released_ = true;
  }
  acked_.notify_all();
}

void ChangeFeed::on_change(const Change& c, std::optional<unsigned> partition) {
  Event e{kChangeSubjectPrefix + subject_token(c.caseType), change_event_id(c, node_, command_stream_),
          change_event_json(c, node_, partition)};
  std::unique_lock lock(mu_);
  room_.wait(lock, [&] { return queue_.size() < max_queued_ || stopping_; });
  if (const auto it = trackers_.find(tracker_key(partition)); it != trackers_.end()) {
    unacked_ids_.emplace(e.id, std::pair{it->first, c.seq});
    it->second.unacked.insert(c.seq);
    it->second.last = std::max(it->second.last, c.seq);
  }
  queue_.push_back(std::move(e));
  if (queue_.size() == 1) cv_.notify_one();  // the publisher drains all it finds: wake it once per run
}

// Takes everything queued at once and hands it to the client in order; an
// event the client does not take (NATS away) goes back to the head.
void ChangeFeed::publish_loop() {
  std::deque<Event> taken;
  std::unique_lock lock(mu_);
  for (;;) {
    const bool woken = cv_.wait_for(lock, kSaveEvery, [&] { return !queue_.empty() || !resend_.empty() || stopping_; });
    if (unsaved()) {
      lock.unlock();
      save_published();
      lock.lock();
    }
    if (!woken) continue;
    if (!resend_.empty() && !stopping_) {
      // Events JetStream did not acknowledge go again, before newer ones,
      // after a pause: sent at once they fail again while a leader is elected.
      cv_.wait_for(lock, kResendPause, [&] { return stopping_; });
    }
    if (queue_.empty() && resend_.empty()) return;  // stopping, and everything was handed to the client
    taken.swap(resend_);
    for (Event& e : queue_) taken.push_back(std::move(e));
    queue_.clear();
    room_.notify_all();
    lock.unlock();
    natsStatus s = NATS_OK;
    while (!taken.empty()) {
      Event& e = taken.front();
      natsMsg* msg = nullptr;
      s = natsMsg_Create(&msg, e.subject.c_str(), nullptr, e.body.data(), static_cast<int>(e.body.size()));
      if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", e.id.c_str());
      if (s == NATS_OK && e.resends > 0) s = natsMsgHeader_Set(msg, "Caserepo-Resends", std::to_string(e.resends).c_str());
      // Blocks while kMaxPendingPublishes are unacknowledged; fails when NATS is away for long.
      while (s == NATS_OK) {
        s = js_PublishMsgAsync(js_, &msg, nullptr);  // takes the message on success
        if (s != NATS_TIMEOUT) break;
      }
      if (s != NATS_OK) {
        natsMsg_Destroy(msg);
        failed_.fetch_add(1);
        break;
      }
      published_.fetch_add(1);
      taken.pop_front();
    }
    lock.lock();
    if (taken.empty()) continue;
    // Not taken: back to the head of the queue, in order, and retry shortly.
    if (stopping_) {  // shutting down with NATS away
      std::fprintf(stderr, "caserepo-server: %zu change event(s) not published (%s)%s\n", taken.size() + queue_.size(),
                   natsStatus_GetText(s), trackers_.empty() ? "" : ": sent at the next start");
      return;
    }
    while (!taken.empty()) {
      queue_.push_front(std::move(taken.back()));
      taken.pop_back();
    }
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    lock.lock();
  }
}

void ChangeFeed::on_publish_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* self) {
  auto* feed = static_cast<ChangeFeed*>(self);
  if (ack != nullptr) {  // stored, or a repeat JetStream dropped
    const char* id = nullptr;
    natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    std::lock_guard lock(feed->mu_);
    if (auto it = id ? feed->unacked_ids_.find(id) : feed->unacked_ids_.end(); it != feed->unacked_ids_.end()) {
      const auto [key, seq] = it->second;
      feed->trackers_[key].unacked.erase(seq);
      feed->unacked_ids_.erase(it);
      feed->acked_.notify_all();
    }
  } else if (err != nullptr) {
    feed->resend_later(msg, err);
  }
  natsMsg_Destroy(msg);  // ours to free with an AckHandler
}

void ChangeFeed::resend_later(natsMsg* msg, jsPubAckErr* err) {
  // JetStream did not acknowledge it (a timeout, no leader during a NATS
  // server's failover): the publisher sends it again with the same message
  // id after a pause — a repeat that did land is dropped by JetStream. An
  // event is never given up while the process lives (sent at once, 20
  // tries were used up within one leader election: the soak lost events so).
  const char* id = nullptr;
  natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
  const char* tries = nullptr;
  int n = 0;
  if (natsMsgHeader_Get(msg, "Caserepo-Resends", &tries) == NATS_OK && tries != nullptr) n = std::atoi(tries);
  if (n + 1 == kLogResendsAt) {
    std::fprintf(stderr, "caserepo-server: change event %s not acknowledged after %d tries (still trying): %s\n",
                 id ? id : "?", n + 1, err->ErrText ? err->ErrText : natsStatus_GetText(err->Err));
  }
  Event e{natsMsg_GetSubject(msg), id ? id : "",
          std::string(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))), n + 1};
  std::lock_guard lock(mu_);
  resend_.push_back(std::move(e));
  resent_.fetch_add(1);
  cv_.notify_one();
}

void ChangeFeed::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  room_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (js_ != nullptr) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = grace.count();
    js_PublishAsyncComplete(js_, &po);
  }
  save_published();
}

std::string ChangeFeed::metrics() const {
  std::size_t queued, unacknowledged = 0;
  std::vector<std::pair<std::int64_t, std::uint64_t>> through;  // (tracker key, seq)
  {
    std::lock_guard lock(mu_);
    queued = queue_.size();
    for (const auto& [key, t] : trackers_) {
      unacknowledged += t.unacked.size();
      through.emplace_back(key, t.through());
    }
  }
  const auto line = metric_text;
  std::string out =
      line("caserepo_changes_queued", "gauge", "Change events waiting to be published.", queued) +
      line("caserepo_changes_published_total", "counter", "Change events handed to JetStream.", published_) +
      line("caserepo_changes_resent_total", "counter", "Change events sent again after a failed acknowledgement.", resent_) +
      line("caserepo_changes_failed_total", "counter", "Failed publish attempts (NATS unreachable).", failed_);
  if (through.empty()) return out;
  out += line("caserepo_changes_unacknowledged", "gauge",
              "Change events published or queued but not yet acknowledged by JetStream.", unacknowledged);
  out += "# HELP caserepo_changes_published_through The log seq up to which JetStream acknowledged every change "
         "event (a partition node: per partition).\n# TYPE caserepo_changes_published_through gauge\n";
  for (const auto& [key, seq] : through) {
    out += "caserepo_changes_published_through" +
           (key == kWholeRepository ? std::string() : "{partition=\"" + std::to_string(key) + "\"}") + " " +
           std::to_string(seq) + "\n";
  }
  return out;
}

}  // namespace caserepo::events
