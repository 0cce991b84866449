#include "server/repository_service.h"

#include <cstdio>

namespace caserepo::server {

RepositoryService::RepositoryService(std::unique_ptr<Repository> repo, std::unique_ptr<events::NodeEvents> events,
                                     Metrics& metrics)
    : events_(std::move(events)), repo_(std::move(repo)), api_(*repo_, metrics) {
  if (events_) metrics.set_extra([e = events_.get()] { return e->metrics(); });
}

Status RepositoryService::start() {
  if (!events_) return ok_status();
  return events_->start_ingest(*repo_);
}

void RepositoryService::release_waits() {
  if (events_) events_->release_waits();
}

void RepositoryService::stop() {
  if (events_) events_->stop_ingest();
  repo_.reset();  // a clean close: what is unsynced is synced
  if (events_) events_->stop_changes();
}

void RepositoryService::checkpoint() {
  if (!repo_) return;
  if (auto r = repo_->checkpoint(); !r.ok()) {
    std::fprintf(stderr, "caserepo-server: periodic checkpoint failed: %s\n", r.error().to_string().c_str());
  }
}

}  // namespace caserepo::server
