// RepositoryService: a single caserepo-server — the API on one repository,
// with, when NATS is configured, its change feed and the ingestion of a
// command stream (docs/events.md).
#pragma once

#include <memory>

#include "caserepo/repository.h"
#include "events/node_events.h"
#include "server/api.h"
#include "server/metrics.h"
#include "server/service.h"

namespace caserepo::server {

class RepositoryService : public Service {
 public:
  // `events` may be null (no NATS); its change hook must already be in the
  // repository's options.
  RepositoryService(std::unique_ptr<Repository> repo, std::unique_ptr<events::NodeEvents> events, Metrics& metrics);

  bool blocks(Endpoint e) const override { return api_.blocks(e); }
  Response handle(const Request& req, const Route& route, const Principal* who, std::string_view query) const override {
    return api_.handle(req, route, who, query);
  }
  // Ingestion starts before the server listens and stops before the
  // repository closes; the change feed drains after it closed.
  Status start() override;
  void release_waits() override;
  void stop() override;
  void checkpoint() override;

 private:
  std::unique_ptr<events::NodeEvents> events_;  // destroyed after repo_
  std::unique_ptr<Repository> repo_;
  Api api_;
};

}  // namespace caserepo::server
