// ClusterRouter: caserepo-server --router (docs/scale-out.md). It answers
// exactly the REST API of a single server, for a cluster whose cases are
// partitioned by clientId over P subjects of one JetStream stream:
//
// - create: checked against every partition (a caseId or businessKey of
//   another client is a conflict) and, holding its key until done, sent to
//   the client's partition through the stream (published with a message id,
//   so a retry after a lost acknowledgement is not applied twice), then the
//   outcome from a node of the partition;
// - get, history: asked of the partition the router last saw the case in
//   (partition_hints.h: remembered from creates and answers), else of every
//   partition at once, the one that has it answers; update and remove find
//   the partition that way, then go through the stream like a create;
// - search and facets: asked of every partition and merged (exact totals
//   summed; pages in the sort's order, ties across partitions by partition
//   number; page tokens hold a token per partition, each partition's taken
//   from the token it sent with the last of its entries the page used).
//
// Every read carries the router's last acknowledged position of the
// partition, and the node answers once it has taken it: a client reads its
// own writes whichever node of the partition answers.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/join_gate.h"
#include "cluster/key_locks.h"
#include "cluster/partition_hints.h"
#include "cluster/requester.h"
#include "events/nats_link.h"
#include "json/wire.h"
#include "server/config.h"
#include "server/metrics.h"
#include "server/service.h"

namespace caserepo::cluster {

class ClusterRouter : public server::Service {
 public:
  // Connects, makes the command stream if missing. Errors: IOError.
  static Result<std::unique_ptr<ClusterRouter>> open(const server::ServerConfig& config, server::Metrics& metrics);
  ~ClusterRouter() override;

  bool blocks(server::Endpoint e) const override;
  server::Response handle(const server::Request& req, const server::Route& route, const server::Principal* who,
                          std::string_view query) const override;

 private:
  struct Reply {  // a node's answer
    unsigned status = 0;
    std::string body;
  };
  ClusterRouter(const server::ServerConfig& config, server::Metrics& metrics);

  // Sends `op` to the partitions named, all at once; the replies by
  // partition (nullopt: not asked, or no answer in time).
  std::vector<std::optional<Reply>> ask(std::string_view op,
                                        const std::vector<std::pair<unsigned, std::string>>& payloads) const;
  // The same read to every partition (with its position line).
  std::vector<std::optional<Reply>> ask_all(std::string_view op, const std::string& body) const;
  std::string read_payload(unsigned p, std::string_view body) const;
  static std::optional<std::pair<unsigned, const std::string*>> view(const std::optional<Reply>& r);
  // `op` of the case asked of the partition hinted for it alone: that
  // partition and its answer when it is a 200, else nullopt (no hint, or a
  // wrong one, now forgotten: the caller asks every partition); Unavailable
  // when no node of that partition answered.
  Result<std::optional<std::pair<unsigned, Reply>>> ask_hinted(std::string_view op, std::string_view case_id,
                                                              const std::string& body) const;
  // The partition holding caseId (`case_query`: its get query), nullopt when
  // none does; an error response when a partition did not answer.
  // `not_found`: partition 0's answer (the 404 to pass on).
  Result<std::optional<unsigned>> locate(std::string_view case_id, const std::string& case_query,
                                         Reply* not_found = nullptr) const;
  // Publishes a command to partition p and waits for its outcome.
  Reply write(unsigned p, const json::Json& command) const;
  Result<json::Json> search(const json::SearchRequest& request, json::Json body) const;
  Result<json::Json> facets(json::Json body) const;
  std::string router_metrics() const;

  const server::ServerConfig config_;
  server::Metrics& metrics_;
  std::unique_ptr<events::NatsLink> link_;
  std::unique_ptr<Requester> requester_;
  // Per partition, the stream position of the last write this router acknowledged.
  std::unique_ptr<std::atomic<std::uint64_t>[]> written_;
  // Creates in flight by the caseId they are checked on, and businessKey
  // joins ordered against every other write. One router per cluster:
  // several would need the key claimed in the stream itself (docs/scale-out.md).
  mutable KeyLocks creating_;
  mutable JoinGate joins_;
  mutable PartitionHints hints_;
  mutable std::atomic<std::uint64_t> published_{0}, publish_retries_{0}, retries_{0}, unanswered_{0};
  mutable std::atomic<std::uint64_t> hint_hits_{0}, hint_misses_{0};
};

}  // namespace caserepo::cluster
