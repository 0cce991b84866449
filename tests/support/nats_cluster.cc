#include "support/nats_cluster.h"

#include <filesystem>
#include <functional>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "events/nats_link.h"

namespace caserepo::testing {
namespace {

void check(natsStatus s, const std::string& what) {
  if (s != NATS_OK) {
    const char* last = nats_GetLastError(nullptr);
    throw std::runtime_error(what + ": " + natsStatus_GetText(s) + (last ? std::string(" (") + last + ")" : ""));
  }
}

}  // namespace

NatsCluster::NatsCluster(const std::string& dir, int servers) : dir_(dir) {
  for (int k = 0; k < servers; ++k) {
    client_ports_.push_back(free_port());
    cluster_ports_.push_back(free_port());
  }
  for (int k = 0; k < servers; ++k) {
    const std::string name = "n" + std::to_string(k + 1);
    std::filesystem::create_directories(dir + "/" + name);
    std::ofstream conf(dir + "/" + name + ".conf");
    conf << "server_name: " << name << "\n"
         << "listen: 127.0.0.1:" << client_ports_[k] << "\n"
         << "jetstream { store_dir: \"" << dir << "/" << name << "\" }\n";
    if (servers > 1) {
      conf << "cluster {\n  name: caserepo-test\n  listen: 127.0.0.1:" << cluster_ports_[k] << "\n  routes: [\n";
      for (int j = 0; j < servers; ++j) {
        if (j != k) conf << "    nats-route://127.0.0.1:" << cluster_ports_[j] << "\n";
      }
      conf << "  ]\n}\n";
    }
  }
  servers_.resize(servers);
  for (int k = 0; k < servers; ++k) start(k);
}

NatsCluster::~NatsCluster() {
  for (ChildProcess& p : servers_) p.terminate(std::chrono::seconds(10));
}

std::string NatsCluster::urls() const {
  std::string out;
  for (std::uint16_t port : client_ports_) out += (out.empty() ? "" : ",") + ("nats://127.0.0.1:" + std::to_string(port));
  return out;
}

void NatsCluster::start(int k) {
  const std::string name = "n" + std::to_string(k + 1);
  servers_[k] = ChildProcess({CASEREPO_NATS_SERVER, "-c", dir_ + "/" + name + ".conf"}, dir_ + "/" + name + ".log");
}

void NatsCluster::kill(int k) { servers_[k].kill(); }

void NatsCluster::wait_ready(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      NatsClient client(urls());
      jsAccountInfo* info = nullptr;
      if (js_GetAccountInfo(&info, client.js(), nullptr, nullptr) == NATS_OK) {
        jsAccountInfo_Destroy(info);
        return;
      }
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  throw std::runtime_error("NATS JetStream not ready: " + last_error);
}

NatsClient::NatsClient(const std::string& urls) {
  auto link = events::NatsLink::connect(urls, "caserepo-test", /*timeout_ms=*/2000);
  if (!link.ok()) throw std::runtime_error(link.error().to_string());
  link_ = std::move(*link);
}

NatsClient::~NatsClient() = default;

namespace {

// Right after the servers start, JetStream can answer before every peer has
// joined: "no suitable peers for placement" for a while (seen in CI). Tries
// `add` for up to 20 s.
void until_placed(const std::string& name, const std::function<Status()>& add) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    auto s = add();
    if (s.ok()) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("add stream " + name + ": " + s.error().to_string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

void NatsClient::add_stream(const std::string& name, const std::vector<std::string>& subjects, int replicas) {
  until_placed(name, [&] {
    return link_->ensure_stream(name, subjects, replicas, /*duplicate_window_ms=*/120000);  // NATS's default window
  });
}

void NatsClient::add_stream(const jsStreamConfig& config) {
  until_placed(config.Name, [&]() -> Status {
    jsStreamInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_AddStream(&info, js(), const_cast<jsStreamConfig*>(&config), nullptr, &jerr);
    jsStreamInfo_Destroy(info);
    if (s != NATS_OK) return events::nats_error(std::string("creating stream ") + config.Name, s, jerr);
    return ok_status();
  });
}

std::uint64_t NatsClient::publish(const std::string& subject, const std::string& data) {
  jsPubAck* ack = nullptr;
  check(js_Publish(&ack, js(), subject.c_str(), data.data(), static_cast<int>(data.size()), nullptr, nullptr),
        "publish to " + subject);
  const std::uint64_t seq = ack->Sequence;
  jsPubAck_Destroy(ack);
  return seq;
}

std::uint64_t NatsClient::last_sequence(const std::string& stream) {
  jsStreamInfo* info = nullptr;
  check(js_GetStreamInfo(&info, js(), stream.c_str(), nullptr, nullptr), "stream info " + stream);
  const std::uint64_t last = info->State.LastSeq;
  jsStreamInfo_Destroy(info);
  return last;
}

void NatsClient::wait_replicas_current(const std::string& stream, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    jsStreamInfo* info = nullptr;
    if (js_GetStreamInfo(&info, js(), stream.c_str(), nullptr, nullptr) == NATS_OK) {
      bool current = info->Cluster != nullptr && info->Cluster->Leader != nullptr;
      for (int i = 0; current && info->Cluster->Replicas != nullptr && i < info->Cluster->ReplicasLen; ++i) {
        const jsPeerInfo* peer = info->Cluster->Replicas[i];
        current = peer->Current && !peer->Offline;
      }
      jsStreamInfo_Destroy(info);
      if (current) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("the replicas of stream " + stream + " did not catch up");
}

std::string NatsClient::Stored::header(const char* key) const {
  for (const auto& [k, v] : headers) {
    if (k == key) return v;
  }
  return "";
}

std::vector<NatsClient::Stored> NatsClient::read_stream(const std::string& stream) {
  std::vector<Stored> out;
  const std::uint64_t last = last_sequence(stream);
  for (std::uint64_t seq = 1; seq <= last; ++seq) {
    natsMsg* msg = nullptr;
    const natsStatus s = js_GetMsg(&msg, js(), stream.c_str(), seq, nullptr, nullptr);
    if (s == NATS_NOT_FOUND) continue;
    check(s, "get message " + std::to_string(seq) + " of " + stream);
    Stored m{seq, natsMsg_GetTime(msg) / 1'000'000, natsMsg_GetSubject(msg),
             std::string(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))), {}};
    const char** keys = nullptr;
    int count = 0;
    if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
      for (int i = 0; i < count; ++i) {
        const char* value = nullptr;
        if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK && value) m.headers.emplace_back(keys[i], value);
      }
      free(keys);
    }
    natsMsg_Destroy(msg);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace caserepo::testing
