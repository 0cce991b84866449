#include "events/nats_link.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

namespace caserepo::events {

Error nats_error(const std::string& what, natsStatus s, jsErrCode js) {
  std::string m = what + ": " + natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0') m += std::string(" (") + last + ")";
  if (js != 0) m += " [JetStream error " + std::to_string(static_cast<int>(js)) + "]";
  return Error::IOError(std::move(m));
}

natsStatus set_servers(natsOptions* options, const std::string& urls) {
  std::vector<std::string> list;
  for (std::size_t at = 0; at <= urls.size();) {
    std::size_t comma = urls.find(',', at);
    if (comma == std::string::npos) comma = urls.size();
    if (comma > at) list.push_back(urls.substr(at, comma - at));
    at = comma + 1;
  }
  std::vector<const char*> ptrs;
  for (const std::string& u : list) ptrs.push_back(u.c_str());
  return natsOptions_SetServers(options, ptrs.data(), static_cast<int>(ptrs.size()));
}

Result<std::unique_ptr<NatsLink>> NatsLink::connect(const std::string& urls, const std::string& name, int timeout_ms,
                                                    bool send_asap) {
  std::unique_ptr<NatsLink> link(new NatsLink());
  natsStatus s = natsOptions_Create(&link->options_);
  if (s == NATS_OK) s = set_servers(link->options_, urls);
  if (s == NATS_OK) s = natsOptions_SetName(link->options_, name.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(link->options_, -1);  // never give up
  if (s == NATS_OK && send_asap) s = natsOptions_SetSendAsap(link->options_, true);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(link->options_, 100);
  if (s == NATS_OK) s = natsOptions_SetTimeout(link->options_, 2000);
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(link->options_, 64 << 20);
  if (s != NATS_OK) return nats_error("NATS options", s);
  // The first connection: retried until the deadline (servers may still be starting).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    s = natsConnection_Connect(&link->conn_, link->options_);
    if (s == NATS_OK) break;
    if (std::chrono::steady_clock::now() >= deadline) return nats_error("cannot connect to NATS at " + urls, s);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;  // JetStream API calls and synchronous publishes
  s = natsConnection_JetStream(&link->js_, link->conn_, &jo);
  if (s != NATS_OK) return nats_error("JetStream context", s);
  return link;
}

NatsLink::~NatsLink() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (conn_ != nullptr) {
    natsConnection_FlushTimeout(conn_, 1000);
    natsConnection_Destroy(conn_);
  }
  if (options_ != nullptr) natsOptions_Destroy(options_);
}

namespace {

// Failures a forming or recovering cluster gives for a while (no meta
// leader yet, servers still joining, a leader election): the call is made
// again. Seen: three nodes creating one R=3 stream at once on a busy
// machine timed out, and the node exited at start.
bool transient(natsStatus s, jsErrCode js) {
  return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || js == JSClusterNotAvailErr || js == JSClusterNoPeersErr ||
         js == JSClusterNotLeaderErr;
}

// One try of ensure_stream(); `retry` says whether a failure is worth another.
Status try_ensure_stream(jsCtx* js, const std::string& name, const std::vector<std::string>& subjects, int replicas,
                         std::int64_t duplicate_window_ms, bool& retry) {
  retry = false;
  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js, name.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return ok_status();
  }
  if (s != NATS_NOT_FOUND) {
    retry = transient(s, jerr);
    return nats_error("stream " + name, s, jerr);
  }
  std::vector<const char*> subject_ptrs;
  for (const std::string& subject : subjects) subject_ptrs.push_back(subject.c_str());
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = name.c_str();
  config.Subjects = subject_ptrs.data();
  config.SubjectsLen = static_cast<int>(subject_ptrs.size());
  config.Storage = js_FileStorage;
  config.Replicas = replicas;
  config.Duplicates = duplicate_window_ms * 1000000;  // nanoseconds
  jerr = static_cast<jsErrCode>(0);
  s = js_AddStream(&info, js, &config, nullptr, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return ok_status();
  }
  if (jerr == JSStreamNameExistErr) return ok_status();  // made meanwhile by another node
  // A timed-out creation may still have been made: the next try finds it.
  retry = transient(s, jerr);
  return nats_error("creating stream " + name, s, jerr);
}

}  // namespace

Status NatsLink::ensure_stream(const std::string& name, const std::vector<std::string>& subjects, int replicas,
                               std::int64_t duplicate_window_ms, std::chrono::milliseconds retry_for) {
  const auto deadline = std::chrono::steady_clock::now() + retry_for;
  for (auto pause = std::chrono::milliseconds(100);; pause = std::min(pause * 2, std::chrono::milliseconds(2000))) {
    bool retry = false;
    Status s = try_ensure_stream(js_, name, subjects, replicas, duplicate_window_ms, retry);
    if (s.ok() || !retry || std::chrono::steady_clock::now() + pause >= deadline) return s;
    std::fprintf(stderr, "caserepo-server: %s; trying again\n", s.error().to_string().c_str());
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace caserepo::events
