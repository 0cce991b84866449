// PartitionNode: a cluster node (caserepo-server --nats URLS --partitions P
// --serve LIST, docs/scale-out.md). For each partition it serves: one
// repository (DATA/p<k>: snapshot, log and its own stream position), an
// ingestor on the partition's subject of the command stream, and
// responders that answer the router's requests for that partition (a
// queue group: any node serving the partition may answer, so a node that
// dies is passed over). Its own HTTP front answers health, readiness and
// metrics; API requests go to the router.
#pragma once

#include <nats/nats.h>

#include <memory>
#include <string>
#include <vector>

#include "caserepo/repository.h"
#include "cluster/outcomes.h"
#include "events/change_feed.h"
#include "events/ingestor.h"
#include "events/nats_link.h"
#include "server/api.h"
#include "server/config.h"
#include "server/metrics.h"
#include "server/service.h"

namespace caserepo::cluster {

class PartitionNode : public server::Service {
 public:
  // Connects to NATS, makes the command stream if missing and opens every
  // partition's repository. Errors: IOError (NATS), as Repository::open.
  static Result<std::unique_ptr<PartitionNode>> open(const server::ServerConfig& config, server::Metrics& metrics);
  ~PartitionNode() override;

  bool blocks(server::Endpoint) const override { return false; }
  server::Response handle(const server::Request& req, const server::Route& route, const server::Principal* who,
                          std::string_view query) const override;
  // Ingestion, then the responders.
  Status start() override;
  // A checkpoint waiting for the change feed gives up (keeps its log).
  void release_waits() override;
  void stop() override;
  void checkpoint() override;

 private:
  struct Partition {
    unsigned index = 0;
    Outcomes outcomes;
    std::unique_ptr<Repository> repo;
    std::unique_ptr<server::Api> api;
    std::unique_ptr<events::Ingestor> ingestor;
    std::vector<natsSubscription*> responders;
    const PartitionNode* node = nullptr;
  };
  PartitionNode(const server::ServerConfig& config, server::Metrics& metrics) : config_(config), metrics_(metrics) {}
  static void on_request(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* partition);
  void answer(Partition& p, natsMsg* msg) const;
  std::string partition_metrics() const;
  // The repository lines of /metrics: every partition's counts added up (its
  // log's lastSeq - syncedSeq is then the unsynced records of all of them).
  Stats summed_stats() const;

  const server::ServerConfig config_;
  server::Metrics& metrics_;
  std::unique_ptr<events::NatsLink> link_;
  std::unique_ptr<events::ChangeFeed> feed_;  // none with --no-change-feed
  std::vector<std::unique_ptr<Partition>> partitions_;
};

// A reply to the router: "SSS " (the HTTP status, three digits) then the body.
std::string encode_reply(unsigned status, std::string_view body);

}  // namespace caserepo::cluster
