#include "events/ingestor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string_view>
#include <vector>

#include "events/metric_text.h"
#include "json/wire.h"

namespace caserepo::events {
namespace {

constexpr std::int64_t kAckWaitNs = 30'000'000'000;  // a batch is acked long before this
constexpr int kFetchWaitMs = 200;                    // a pull request's life on the server (stop() waits it out)
constexpr int kLateMarginMs = 100;                   // past it, for its closing status to land
constexpr auto kStallCheck = std::chrono::seconds(2);  // fetches empty this long: is the consumer stuck?
constexpr std::size_t kMaxCommandBytes = 64 * 1024;  // as the REST service's body limit

// JetStream's answer that closes a pull request ("408 Request Timeout",
// "409 Leadership Change", ...): no reply subject to ack, a Status header.
bool is_status(natsMsg* msg) {
  const char* status = nullptr;
  const char* reply = natsMsg_GetReply(msg);
  return (reply == nullptr || *reply == '\0') && natsMsgHeader_Get(msg, "Status", &status) == NATS_OK;
}

bool is_refusal(const Error& e) {
  return e.code() == ErrorCode::kInvalidArgument || e.code() == ErrorCode::kNotFound ||
         e.code() == ErrorCode::kConflict;
}

}  // namespace

Ingestor::Messages& Ingestor::Messages::operator=(Messages&& o) noexcept {
  if (this != &o) {
    clear();
    msgs_ = std::move(o.msgs_);
    o.msgs_.clear();
  }
  return *this;
}

void Ingestor::Messages::clear() {
  for (natsMsg* m : msgs_) natsMsg_Destroy(m);
  msgs_.clear();
}

Ingestor::Ingestor(Repository& repo, NatsLink& link, IngestConfig config)
    : repo_(repo), link_(link), config_(std::move(config)) {}

Ingestor::~Ingestor() { stop(); }

Status Ingestor::start() {
  if (auto s = make_consumer(); !s.ok()) return s;
  apply_thread_ = std::thread([this] { apply_loop(); });
  thread_ = std::thread([this] { loop(); });
  return ok_status();
}

void Ingestor::stop() {
  {
    std::lock_guard lock(handoff_mu_);
    stop_ = true;
  }
  handoff_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (apply_thread_.joinable()) apply_thread_.join();
  ready_.reset();  // fetched, never applied nor acked: delivered again after a restart
  if (sub_ != nullptr) {
    natsSubscription_Destroy(sub_);  // the consumer stays; the next start makes it anew anyway
    sub_ = nullptr;
  }
  for (natsSubscription* old : retired_) natsSubscription_Destroy(old);
  retired_.clear();
}

Status Ingestor::make_consumer() {
  if (sub_ != nullptr) {
    // Unsubscribed now, freed only at stop(): libnats 3.4's read loop uses a
    // subscription it looked up without holding a reference, so freeing one
    // that messages are still arriving for crashes it (nats.c #637, fixed in
    // 3.6; seen here as a crash in natsMsg_Destroy after a consumer restart).
    natsSubscription_Unsubscribe(sub_);
    retired_.push_back(sub_);
    sub_ = nullptr;
  }
  next_delivery_ = 1;  // a new consumer numbers its deliveries from 1
  open_request_.clear();  // the old subscription's late messages do not reach the new one
  jsCtx* js = link_.js();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  // The server's idea of what was acked does not count: the repository's position does.
  natsStatus s = js_DeleteConsumer(js, config_.stream.c_str(), config_.durable.c_str(), nullptr, &jerr);
  if (s != NATS_OK && s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
    if (jerr == JSStreamNotFoundErr) return Error::InvalidArgument("no JetStream stream '" + config_.stream + "'");
    return nats_error("deleting consumer " + config_.durable, s, jerr);
  }
  const std::uint64_t position = repo_.streamPosition();
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = config_.durable.c_str();
  cc.AckPolicy = js_AckAll;  // acking a batch's last message acks the batch: one ack per batch
  cc.AckWait = kAckWaitNs;
  // Room for the four batches the node can hold unacked: one being
  // applied, one parsed and waiting for it, one being parsed, one asked
  // for ahead (fetch()) and arriving.
  cc.MaxAckPending = 4 * config_.batch;
  // One replica: the consumer holds no state the node needs (it is made
  // anew from the repository's position at every start and after a stall),
  // so replicating its acks only costs a RAFT round per batch, and a
  // replica on a restarted NATS server stayed "not current" for minutes
  // (the soak's /healthz). Its server gone, the stall check makes it anew.
  cc.Replicas = 1;
  if (!config_.filter.empty()) cc.FilterSubject = config_.filter.c_str();
  if (position == 0) {
    cc.DeliverPolicy = js_DeliverAll;
  } else {
    cc.DeliverPolicy = js_DeliverByStartSequence;
    cc.OptStartSeq = position + 1;
  }
  jsConsumerInfo* info = nullptr;
  jerr = static_cast<jsErrCode>(0);
  s = js_AddConsumer(&info, js, config_.stream.c_str(), &cc, nullptr, &jerr);
  if (s != NATS_OK) {
    if (jerr == JSStreamNotFoundErr) return Error::InvalidArgument("no JetStream stream '" + config_.stream + "'");
    return nats_error("creating consumer " + config_.durable, s, jerr);
  }
  jsConsumerInfo_Destroy(info);
  // A new inbox per consumer: what an old one's requests still deliver never reaches the new subscription.
  natsInbox* inbox = nullptr;
  s = natsInbox_Create(&inbox);
  if (s == NATS_OK) {
    inbox_ = inbox;
    natsInbox_Destroy(inbox);
    s = natsConnection_SubscribeSync(&sub_, link_.connection(), (inbox_ + ".*").c_str());
  }
  if (s != NATS_OK) return nats_error("subscribing to consumer " + config_.durable, s);
  next_subject_ = "$JS.API.CONSUMER.MSG.NEXT." + config_.stream + "." + config_.durable;
  std::fprintf(stderr, "caserepo-server: ingesting %s%s%s from sequence %llu\n", config_.stream.c_str(),
               config_.filter.empty() ? "" : ":", config_.filter.c_str(),
               static_cast<unsigned long long>(position + 1));
  return ok_status();
}

Status Ingestor::dead_letter(natsMsg* msg, std::uint64_t position, const Error& why) {
  json::Json body = {{"stream", config_.stream},
                     {"sequence", position},
                     {"subject", natsMsg_GetSubject(msg)},
                     {"error", json::to_json(why)},
                     {"command", std::string(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)))}};
  const std::string text = body.dump(-1, ' ', false, json::Json::error_handler_t::replace);
  const std::string id = config_.stream + "-" + std::to_string(position);
  natsMsg* out = nullptr;
  natsStatus s = natsMsg_Create(&out, config_.dead_letter.c_str(), nullptr, text.data(), static_cast<int>(text.size()));
  if (s == NATS_OK) s = natsMsgHeader_Set(out, "Caserepo-Stream-Sequence", std::to_string(position).c_str());
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = id.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (s == NATS_OK) s = js_PublishMsg(&ack, link_.js(), out, &po, &jerr);
  natsMsg_Destroy(out);
  if (ack != nullptr) jsPubAck_Destroy(ack);
  if (s != NATS_OK) return nats_error("dead-lettering " + id, s, jerr);
  return ok_status();
}

bool Ingestor::lost_delivery(const Messages& list) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, list[i]) != NATS_OK) continue;  // refused as a command later
    const std::uint64_t delivery = meta->Sequence.Consumer;
    jsMsgMetaData_Destroy(meta);
    if (delivery != next_delivery_) {
      std::fprintf(stderr, "caserepo-server: %s: delivery %llu came where %llu was due (lost in flight); the consumer is made anew\n",
                   config_.durable.c_str(), static_cast<unsigned long long>(delivery),
                   static_cast<unsigned long long>(next_delivery_));
      return true;
    }
    ++next_delivery_;
  }
  return false;
}

bool Ingestor::stalled() {
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetConsumerInfo(&ci, link_.js(), config_.stream.c_str(), config_.durable.c_str(), nullptr, &jerr);
  if (s != NATS_OK) {
    // Gone, or no answer three times running: a consumer whose RAFT group
    // lost quorum ("has NO quorum, stalled" in nats-server's log after its
    // servers were killed in turn) answers nothing until made anew.
    if (s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr || ++info_failures_ >= 3) {
      info_failures_ = 0;
      return true;
    }
    return false;
  }
  info_failures_ = 0;
  const bool pending = ci->NumPending > 0;
  jsConsumerInfo_Destroy(ci);
  if (pending) return true;
  // A consumer can also count nothing pending while the stream holds
  // commands past the repository's position: deliveries lost on the way (the
  // consumer waits out AckWait, or, once someone acked them, never delivers
  // them again), or a consumer that stopped delivering after its server
  // restarted (CI saw a node, restarted after a NATS server had been, sit at
  // one position for minutes with its next command in the stream). So ask
  // the stream itself. No answer is no verdict: the consumer info above
  // already counts servers that do not answer.
  const std::optional<std::uint64_t> tail = last_sequence();
  return tail && *tail > repo_.streamPosition();
}

std::optional<std::uint64_t> Ingestor::last_sequence() {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (config_.filter.empty()) {
    jsStreamInfo* si = nullptr;
    if (js_GetStreamInfo(&si, link_.js(), config_.stream.c_str(), nullptr, &jerr) != NATS_OK) return std::nullopt;
    const std::uint64_t last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return last;
  }
  natsMsg* msg = nullptr;
  const natsStatus s = js_GetLastMsg(&msg, link_.js(), config_.stream.c_str(), config_.filter.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) return 0;  // nothing on the filter yet
  if (s != NATS_OK) return std::nullopt;
  const std::uint64_t last = natsMsg_GetSequence(msg);
  natsMsg_Destroy(msg);
  return last;
}

void Ingestor::restart_consumer() {
  for (Status made = make_consumer(); !made.ok() && !stop_; made = make_consumer()) {
    fetch_errors_.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

bool Ingestor::hand_off(Batch batch) {
  std::unique_lock lock(handoff_mu_);
  handoff_cv_.wait(lock, [&] { return !ready_ || stop_ || failed_; });
  if (stop_ || failed_) return false;
  ready_ = std::move(batch);
  handoff_cv_.notify_all();
  return true;
}

bool Ingestor::drain() {
  std::unique_lock lock(handoff_mu_);
  handoff_cv_.wait(lock, [&] { return (!ready_ && !applying_) || stop_ || failed_; });
  return !stop_ && !failed_;
}

// One pull: read what the open pull request delivers until it closes —
// the count delivered, or a status (408 at the end of what the stream
// holds: `no_wait`; at `expires` when nothing came) — or until its
// deadline, sending a request first when none is open. Our own requests and
// not libnats' fetch: libnats 3.4.1 (Debian 12) overruns the message array
// of a fetch when the subscription already holds more than half the count
// asked for — messages of an earlier pull that arrived after its fetch
// returned (nats.c #749, fixed in 3.10) — and a partition node of the
// cluster benchmark died of the heap corruption. Here a message is only a
// message: one an earlier request delivered late is taken in its place in
// the order (deliveries stay in order on one connection; lost_delivery()
// checks them) and counts against the open request, which at worst closes
// a message early. A status names its request (it comes on the request's
// own reply subject, inbox_.n; messages come on their stream subject), so
// an earlier request's late close is told apart and ignored.
natsStatus Ingestor::send_request() {
  open_request_ = inbox_ + "." + std::to_string(++requests_);
  char body[96];
  const int n = std::snprintf(body, sizeof body, "{\"batch\":%d,\"expires\":%lld,\"no_wait\":true}", config_.batch,
                              static_cast<long long>(kFetchWaitMs) * 1'000'000);
  const natsStatus s =
      natsConnection_PublishRequest(link_.connection(), next_subject_.c_str(), open_request_.c_str(), body, n);
  if (s != NATS_OK) {
    open_request_.clear();
    return s;
  }
  open_request_left_ = config_.batch;
  open_request_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(kFetchWaitMs + kLateMarginMs);
  return NATS_OK;
}

natsStatus Ingestor::fetch(Messages& out) {
  if (open_request_.empty()) {
    if (natsStatus s = send_request(); s != NATS_OK) return s;
  }
  // Late messages of earlier requests can make a batch larger than `batch`; bounded all the same.
  const std::size_t most = 2 * static_cast<std::size_t>(config_.batch);
  while (out.size() < most) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(open_request_deadline_ -
                                                                            std::chrono::steady_clock::now());
    natsMsg* msg = nullptr;
    // Past the deadline (a request sent ahead while the batch before waited
    // for the applying thread): what is already here is still read.
    const natsStatus s = natsSubscription_NextMsg(&msg, sub_, std::max<std::int64_t>(left.count(), 0));
    if (s == NATS_TIMEOUT) {  // never closed (its server gone?): given up; what it still sends is read as late
      open_request_.clear();
      break;
    }
    if (s != NATS_OK) {  // the connection's trouble (the loop counts it); the next fetch asks anew
      open_request_.clear();
      return s;
    }
    if (is_status(msg)) {
      const bool closes_open = open_request_ == natsMsg_GetSubject(msg);
      natsMsg_Destroy(msg);
      if (!closes_open) continue;  // an earlier request's close
      open_request_.clear();
      break;
    }
    out.push_back(msg);
    if (--open_request_left_ == 0) {
      // All it asked for came, so more may be waiting: ask for the next batch
      // now, to arrive while this one is parsed and handed over (the fourth
      // batch of MaxAckPending). Failing, none is open: the next fetch asks again.
      (void)send_request();
      break;
    }
  }
  return out.empty() ? NATS_TIMEOUT : NATS_OK;
}

void Ingestor::loop() {
  auto idle_since = std::chrono::steady_clock::now();
  while (!stop_ && !failed_) {
    Messages list;
    const natsStatus s = fetch(list);
    if (s != NATS_OK) {
      if (s == NATS_TIMEOUT) {
        lag_ = 0;
      } else {  // NATS away (the client reconnects): try again shortly
        fetch_errors_.fetch_add(1);
        list.clear();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      // A pull consumer can stop delivering after NATS servers die (the
      // cluster soak saw a replica stay 30 s behind, its consumer without
      // RAFT quorum): idle that long while messages are pending, while the
      // consumer does not answer, or while the stream holds commands past
      // the repository's position, it is made anew. (Drained first: the
      // position then counts every batch fetched.)
      if (const auto now = std::chrono::steady_clock::now(); now - idle_since >= kStallCheck) {
        idle_since = now;
        if (drain() && stalled()) {
          std::fprintf(stderr, "caserepo-server: %s: nothing delivered for %lld s, and messages pending, the consumer "
                       "not answering, or the stream past position %llu; the consumer is made anew\n",
                       config_.durable.c_str(), static_cast<long long>(kStallCheck.count()),
                       static_cast<unsigned long long>(repo_.streamPosition()));
          stall_restarts_.fetch_add(1);
          restart_consumer();
        }
      }
      continue;
    }
    idle_since = std::chrono::steady_clock::now();
    batches_.fetch_add(1);
    // Deliveries are numbered without gaps. A gap is a delivery lost on the
    // way (a NATS server died with it in flight): the consumer counts it as
    // pending and would go on with later commands, which a later AckAll
    // would acknowledge with it. Never apply past a gap: once the batches
    // before it are applied, make the consumer anew from the repository's
    // position, which delivers the lost ones again.
    if (lost_delivery(list)) {
      list.clear();
      redelivery_restarts_.fetch_add(1);
      if (drain()) restart_consumer();
      continue;
    }
    if (!hand_off(parse_batch(std::move(list)))) return;
  }
}

Ingestor::Batch Ingestor::parse_batch(Messages list) {
  const std::size_t n = list.size();
  Batch b{std::move(list), std::vector<StreamCommand>(n), std::vector<std::optional<Error>>(n)};
  for (std::size_t i = 0; i < n; ++i) {
    natsMsg* msg = b.list[i];
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) {  // not from JetStream: cannot happen on a pull consumer
      b.refused[i] = Error::InvalidArgument("message without JetStream metadata");
      continue;
    }
    const std::uint64_t position = meta->Sequence.Stream;
    const Timestamp time(std::chrono::milliseconds(meta->Timestamp / 1'000'000));
    lag_ = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
    const std::string_view data(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    auto parsed = json::parse(data, kMaxCommandBytes);
    auto command = parsed.ok() ? json::parse_command(*parsed) : Result<StreamCommand>(parsed.error());
    if (command.ok()) {
      b.commands[i] = std::move(*command);
    } else {
      b.refused[i] = command.error();
    }
    b.commands[i].position = position;
    b.commands[i].time = time;
  }
  return b;
}

void Ingestor::apply_loop() {
  for (;;) {
    Batch batch;
    {
      std::unique_lock lock(handoff_mu_);
      handoff_cv_.wait(lock, [&] { return ready_ || stop_; });
      if (stop_) return;  // a batch still waiting is not acked: delivered again after a restart
      batch = std::move(*ready_);
      ready_.reset();
      applying_ = true;
    }
    handoff_cv_.notify_all();  // the fetcher may fetch the next batch now
    apply_batch(batch);
    {
      std::lock_guard lock(handoff_mu_);
      applying_ = false;
    }
    handoff_cv_.notify_all();
    if (failed_) return;
  }
}

void Ingestor::apply_batch(Batch& batch) {
  const auto n = batch.commands.size();
  std::vector<StreamCommand>& commands = batch.commands;
  std::vector<std::optional<Error>>& refused = batch.refused;
  // Runs of valid commands through applyStream. A refused one goes to the
  // dead-letter subject first (acknowledged by JetStream before anything
  // after it is logged: a crash can never leave a later write durable and
  // the dead letter unsent); it then becomes a skip of its position, which
  // leads the next run.
  std::size_t done = 0;
  while (done < n && !failed_) {
    std::size_t end = done;
    if (refused[done]) {
      const std::uint64_t position = commands[done].position;
      if (position > repo_.streamPosition()) {
        Status sent = dead_letter(batch.list[done], position, *refused[done]);
        while (!sent.ok() && !stop_) {  // until JetStream has it: a refused command is never just dropped
          std::fprintf(stderr, "caserepo-server: %s; retrying\n", sent.error().to_string().c_str());
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          sent = dead_letter(batch.list[done], position, *refused[done]);
        }
        if (!sent.ok()) break;  // stopping: it is delivered again after the restart
        dead_letters_.fetch_add(1);
        if (config_.on_refused) config_.on_refused(position, *refused[done]);
      }
      commands[done] = StreamCommand{};  // a skip
      commands[done].position = position;
      ++end;
    }
    while (end < n && !refused[end]) ++end;
    const StreamApplied a = repo_.applyStream({commands.data() + done, end - done});
    applied_.fetch_add(a.applied - a.duplicates);
    duplicates_.fetch_add(a.duplicates);
    done += a.applied;
    if (a.stopped) {
      if (is_refusal(*a.stopped)) {
        refused[done] = std::move(a.stopped);
      } else {
        std::fprintf(stderr, "caserepo-server: ingestion stops: %s\n", a.stopped->to_string().c_str());
        std::lock_guard lock(handoff_mu_);
        failed_ = true;
      }
    }
  }
  // Durable now (applyStream returned): ack what was taken (AckAll: the last one acks them all).
  // (Not natsMsg_Ack: it needs a subscription libnats made for JetStream.)
  if (done > 0) {
    if (const char* reply = natsMsg_GetReply(batch.list[done - 1]); reply != nullptr && *reply != '\0') {
      natsConnection_Publish(link_.connection(), reply, "+ACK", 4);
    }
  }
}

std::string Ingestor::metrics() const {
  const auto line = metric_text;
  return line("caserepo_ingest_lag", "gauge", "Messages of the ingested stream not yet delivered to this node.", lag_) +
         line("caserepo_ingest_applied_total", "counter", "Stream commands taken (applied, or dead-lettered and skipped).", applied_) +
         line("caserepo_ingest_duplicates_total", "counter", "Stream commands delivered again and not applied twice.",
              duplicates_) +
         line("caserepo_ingest_dead_letters_total", "counter", "Stream commands refused and dead-lettered.", dead_letters_) +
         line("caserepo_ingest_fetch_errors_total", "counter", "Failed fetches (NATS unreachable).", fetch_errors_) +
         line("caserepo_ingest_failed", "gauge", "1 when ingestion stopped on a repository failure.", failed_ ? 1 : 0) +
         line("caserepo_ingest_batches_total", "counter", "Fetches that returned messages.", batches_) +
         line("caserepo_ingest_consumer_restarts_total", "counter",
              "Consumers made anew after a delivery was lost in flight (a NATS failover).", redelivery_restarts_) +
         line("caserepo_ingest_consumer_stalls_total", "counter",
              "Consumers made anew after delivering nothing for 2 s while messages were pending, it did not answer, or the "
              "stream held commands past the position.",
              stall_restarts_) +
         line("caserepo_stream_position", "gauge", "Stream sequence of the last command taken.", repo_.streamPosition());
}

}  // namespace caserepo::events
