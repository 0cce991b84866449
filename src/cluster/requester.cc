#include "cluster/requester.h"

#include <charconv>

#include "events/nats_link.h"

namespace caserepo::cluster {

Result<std::unique_ptr<Requester>> Requester::make(natsConnection* conn) {
  std::unique_ptr<Requester> r(new Requester(conn));
  natsInbox* inbox = nullptr;
  natsStatus s = natsInbox_Create(&inbox);
  if (s != NATS_OK) return events::nats_error("creating an inbox", s);
  r->inbox_ = inbox;
  natsInbox_Destroy(inbox);
  s = natsConnection_Subscribe(&r->sub_, conn, (r->inbox_ + ".*").c_str(), on_reply, r.get());
  if (s != NATS_OK) return events::nats_error("subscribing to the reply inbox", s);
  // Replies are small and bursty (one per partition): never drop them as a slow consumer.
  natsSubscription_SetPendingLimits(r->sub_, -1, -1);
  return r;
}

Requester::~Requester() {
  if (sub_ != nullptr) {
    if (natsSubscription_Drain(sub_) == NATS_OK) natsSubscription_WaitForDrainCompletion(sub_, 5000);
    natsSubscription_Destroy(sub_);
  }
}

void Requester::on_reply(natsConnection*, natsSubscription*, natsMsg* msg, void* self_ptr) {
  auto* self = static_cast<Requester*>(self_ptr);
  const std::string_view subject = natsMsg_GetSubject(msg);
  const std::string_view tail = subject.substr(subject.rfind('.') + 1);
  std::uint64_t id = 0;
  std::from_chars(tail.data(), tail.data() + tail.size(), id);
  {
    std::lock_guard lock(self->mu_);
    if (auto it = self->pending_.find(id); it != self->pending_.end()) {
      // An empty message is the server's "no responders" status: no reply.
      if (natsMsg_GetDataLength(msg) > 0) *it->second.reply = std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
      --*it->second.remaining;
      self->pending_.erase(it);
    }
  }
  self->cv_.notify_all();
  natsMsg_Destroy(msg);
}

std::vector<std::optional<std::string>> Requester::call_all(const std::vector<Call>& calls,
                                                            std::chrono::milliseconds timeout) {
  std::vector<std::optional<std::string>> replies(calls.size());
  std::size_t remaining = calls.size();
  std::vector<std::uint64_t> ids(calls.size());
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < calls.size(); ++i) {
      ids[i] = ++next_id_;
      pending_.emplace(ids[i], Pending{&replies[i], &remaining});
    }
  }
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const std::string reply_to = inbox_ + "." + std::to_string(ids[i]);
    natsConnection_PublishRequest(conn_, calls[i].subject.c_str(), reply_to.c_str(), calls[i].payload.data(),
                                  static_cast<int>(calls[i].payload.size()));
  }
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return remaining == 0; });
  for (const std::uint64_t id : ids) pending_.erase(id);  // late replies find nothing
  return replies;
}

}  // namespace caserepo::cluster
