// Service: what a caserepo-server process answers behind its HTTP front
// (the Server: connections, limits, TLS) and its Dispatcher (routing, auth)
// — one repository (RepositoryService), the partitions of a cluster node
// (cluster::PartitionNode) or a cluster's router (cluster::ClusterRouter).
#pragma once

#include <string_view>

#include "caserepo/error.h"
#include "server/auth.h"
#include "server/http_types.h"
#include "server/router.h"

namespace caserepo::server {

class Service {
 public:
  virtual ~Service() = default;

  // Whether handle() may block for long on this endpoint (a write waiting
  // for its fsync, a round trip to other processes): the server runs those
  // off its I/O threads.
  virtual bool blocks(Endpoint e) const = 0;
  // Runs the matched route for an authorized caller (null for public
  // routes). `query` is the target's part after '?'. Never throws.
  virtual Response handle(const Request& req, const Route& route, const Principal* who,
                          std::string_view query) const = 0;

  // Before the server listens (e.g. ingestion starts); an error stops it.
  virtual Status start() { return ok_status(); }
  // After the last request, before background work is joined: give up
  // waits that would hold the stop (a checkpoint waiting for the change
  // feed while NATS is away).
  virtual void release_waits() {}
  // After the last request: stop background work, close cleanly.
  virtual void stop() {}
  // The periodic checkpoint (--checkpoint-every).
  virtual void checkpoint() {}
};

}  // namespace caserepo::server
