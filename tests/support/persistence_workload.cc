#include "support/persistence_workload.h"

#include <stdexcept>

namespace caserepo::testing {
namespace {

std::int64_t time_of(std::size_t op) { return 1735689600000LL + static_cast<std::int64_t>(op) * 1000; }

}  // namespace

std::vector<Op> workload(std::size_t description_bytes) {
  std::vector<Op> ops;
  auto create = [&](std::string id, std::string client, std::string status, std::optional<std::string> bk = {}) {
    CreateRequest r = request(client, "LOAN", status);
    if (!id.empty()) r.caseId = id;
    r.businessKey = bk;
    r.statusDescription = "op " + std::to_string(ops.size()) + std::string(description_bytes, '.');
    ops.push_back({Op::kCreate, r, {}, {}});
  };
  auto update = [&](std::string id, std::string status) {
    Patch p;
    p.status = status;
    p.source.emplace();
    ops.push_back({Op::kUpdate, {}, id, p});
  };
  create("c1", "k1", "NEW", "BK-1");
  create("c2", "k2", "NEW");
  create("", "k1", "OPEN", "BK-1");  // joins c1 by business key
  update("c2", "OPEN");
  create("c3", "k3", "NEW");
  ops.push_back({Op::kCheckpoint, {}, {}, {}});
  create("c2", "k2", "IN_PROGRESS");
  ops.push_back({Op::kRemove, {}, "c3", {}});
  create("c4", "k1", "NEW");
  update("c1", "CLOSED");
  ops.push_back({Op::kCheckpoint, {}, {}, {}});
  create("c5", "k5", "NEW");
  create("c4", "k1", "OPEN");
  ops.push_back({Op::kRemove, {}, "c2", {}});
  create("c6", "k6", "NEW", "BK-6");
  update("c6", "REJECTED");
  return ops;
}

RunResult run(Repository& repo, ManualClock& clock, const std::vector<Op>& ops) {
  RunResult r;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    *clock.ms = time_of(i);
    const Op& op = ops[i];
    bool ok = true;
    switch (op.kind) {
      case Op::kCreate: ok = repo.create(op.create).ok(); break;
      case Op::kUpdate: ok = repo.update(op.caseId, op.patch).ok(); break;
      case Op::kRemove: ok = repo.remove(op.caseId).ok(); break;
      case Op::kCheckpoint: ok = repo.checkpoint().ok(); break;
    }
    if (!ok) {
      r.failed = true;
      return r;
    }
    if (op.kind != Op::kCheckpoint) ++r.acked;
  }
  return r;
}

std::vector<std::vector<Entry>> expected_states(const std::vector<Op>& ops) {
  ManualClock clock;
  Options o;
  o.clock = clock.function();
  Repository repo(o);
  std::vector<std::vector<Entry>> states{all_entries(repo)};
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind == Op::kCheckpoint) continue;
    *clock.ms = time_of(i);
    bool ok = true;
    switch (ops[i].kind) {
      case Op::kCreate: ok = repo.create(ops[i].create).ok(); break;
      case Op::kUpdate: ok = repo.update(ops[i].caseId, ops[i].patch).ok(); break;
      case Op::kRemove: ok = repo.remove(ops[i].caseId).ok(); break;
      default: break;
    }
    if (!ok) throw std::logic_error("the persistence workload failed in memory at op " + std::to_string(i));
    states.push_back(all_entries(repo));
  }
  return states;
}

Options options_for(Env& env, ManualClock& clock, FsyncPolicy policy) {
  Options o;
  o.env = &env;
  o.clock = clock.function();
  o.fsync = policy;
  o.fsyncInterval = std::chrono::milliseconds(5);
  o.checkpointLogBytes = 0;
  return o;
}

std::string log_after_creates(FaultEnv& env, ManualClock& clock, int creates) {
  {
    auto repo = Repository::open(kDataDir, options_for(env, clock));
    if (!repo.ok()) throw std::runtime_error("open: " + repo.error().to_string());
    for (int i = 0; i < creates; ++i) {
      if (!(*repo)->create(request("k", "LOAN", "NEW")).ok()) throw std::runtime_error("create failed");
    }
  }
  for (const auto& [path, data] : env.files()) {
    if (path.find("/log-") != std::string::npos) return path;
  }
  throw std::runtime_error("no log in " + kDataDir);
}

}  // namespace caserepo::testing
