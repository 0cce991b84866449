#include "support/fault_env.h"

namespace caserepo::testing {

class FaultEnv::File final : public WritableFile {
 public:
  File(FaultEnv& env, std::string path, std::shared_ptr<Inode> inode)
      : env_(env), path_(std::move(path)), inode_(std::move(inode)) {}
  Status append(std::string_view data) override {
    std::lock_guard lock(env_.mu_);
    Fault fault{};
    if (auto e = env_.tick(Op::kAppend, path_, &fault)) {
      if (fault == Fault::kShortWrite) inode_->data.append(data.substr(0, data.size() / 2));
      return *e;
    }
    inode_->data.append(data);
    return ok_status();
  }
  Status sync() override {
    std::function<std::optional<Error>(const std::string&)> hook;
    {
      std::lock_guard lock(env_.mu_);
      hook = env_.on_sync_;
    }
    if (hook) {
      if (auto e = hook(path_)) return *e;
    }
    std::lock_guard lock(env_.mu_);
    if (auto e = env_.tick(Op::kSync, path_)) return *e;
    inode_->synced = inode_->data.size();
    return ok_status();
  }
  Status close() override { return ok_status(); }

 private:
  FaultEnv& env_;
  std::string path_;
  std::shared_ptr<Inode> inode_;
};

class FaultEnv::Lock final : public FileLock {
 public:
  Lock(FaultEnv& env, std::string path) : env_(env), path_(std::move(path)) {}
  ~Lock() override {
    std::lock_guard lock(env_.mu_);
    env_.locks_.erase(path_);
  }

 private:
  FaultEnv& env_;
  std::string path_;
};

std::string FaultEnv::dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::optional<Error> FaultEnv::tick(Op op, const std::string& path, Fault* fault) {
  static constexpr const char* kNames[] = {"any", "append", "sync", "rename", "open", "sync_dir", "truncate", "remove"};
  trace_.push_back(std::string(kNames[static_cast<int>(op)]) + " " + path);
  const std::uint64_t n = ops_++;
  const std::uint64_t of_kind = ops_by_kind_[op]++;
  if (die_after_ && n >= *die_after_) return Error::IOError("injected: the process died before " + path);
  if (planned_ && (planned_->op == Op::kAny ? n : of_kind) == planned_->k && (planned_->op == Op::kAny || planned_->op == op)) {
    const Fault f = planned_->fault;
    planned_.reset();
    if (fault) *fault = f;
    switch (f) {
      case Fault::kEIO: return Error::IOError("injected EIO on " + path);
      case Fault::kENOSPC: return Error::IOError("injected ENOSPC on " + path);
      case Fault::kShortWrite: return Error::IOError("injected short write on " + path);
    }
  }
  return std::nullopt;
}

void FaultEnv::fail_at(std::uint64_t k, Op op, Fault fault) {
  std::lock_guard lock(mu_);
  ops_by_kind_.clear();
  ops_ = 0;
  planned_ = Planned{k, op, fault};
}

void FaultEnv::die_after(std::uint64_t k) {
  std::lock_guard lock(mu_);
  ops_ = 0;
  die_after_ = k;
}

std::vector<std::string> FaultEnv::trace() const {
  std::lock_guard lock(mu_);
  return trace_;
}

void FaultEnv::on_sync(std::function<std::optional<Error>(const std::string&)> hook) {
  std::lock_guard lock(mu_);
  on_sync_ = std::move(hook);
}

std::uint64_t FaultEnv::mutating_ops() const {
  std::lock_guard lock(mu_);
  return ops_;
}

void FaultEnv::crash(Tear tear, std::uint64_t seed) {
  std::lock_guard lock(mu_);
  std::mt19937_64 rng(seed);
  live_ = durable_;
  for (auto& [name, inode] : live_) {
    const std::size_t synced = std::min(inode->synced, inode->data.size());
    const std::size_t unsynced = inode->data.size() - synced;
    std::size_t keep = 0;
    switch (tear) {
      case Tear::kDrop: break;
      case Tear::kPartial: keep = unsynced > 0 ? rng() % (unsynced + 1) : 0; break;
      case Tear::kZeros:
        keep = unsynced > 0 ? rng() % (unsynced + 1) : 0;
        std::fill(inode->data.begin() + static_cast<std::ptrdiff_t>(synced),
                  inode->data.begin() + static_cast<std::ptrdiff_t>(synced + keep), '\0');
        break;
      case Tear::kPagesOutOfOrder: {
        // Each page touched by unsynced bytes is written back or not, on its own.
        constexpr std::size_t kPage = 4096;
        std::size_t end = synced;  // the file ends after the last page kept
        for (std::size_t page = synced / kPage * kPage; page < inode->data.size(); page += kPage) {
          const std::size_t from = std::max(page, synced);
          const std::size_t to = std::min(page + kPage, inode->data.size());
          if (rng() % 2) {
            end = to;
          } else {
            std::fill(inode->data.begin() + static_cast<std::ptrdiff_t>(from),
                      inode->data.begin() + static_cast<std::ptrdiff_t>(to), '\0');
          }
        }
        keep = end - synced;
        break;
      }
      case Tear::kProcessKill: keep = unsynced; break;
    }
    inode->data.resize(synced + keep);
    inode->synced = inode->data.size();
  }
  locks_.clear();
  die_after_.reset();
  planned_.reset();
}

std::map<std::string, std::string> FaultEnv::files() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::string> out;
  for (const auto& [name, inode] : live_) out[name] = inode->data;
  return out;
}

void FaultEnv::set_file(const std::string& path, std::string data) {
  std::lock_guard lock(mu_);
  auto inode = std::make_shared<Inode>();
  inode->data = std::move(data);
  inode->synced = inode->data.size();
  live_[path] = inode;
  durable_[path] = inode;
  dirs_.insert(dir_of(path));
}

Result<std::unique_ptr<WritableFile>> FaultEnv::open_writable(const std::string& path, bool truncate) {
  std::lock_guard lock(mu_);
  if (auto e = tick(Op::kOpen, path)) return *e;
  auto& inode = live_[path];
  if (!inode) inode = std::make_shared<Inode>();
  if (truncate) {
    inode->data.clear();
    inode->synced = 0;
  }
  return std::unique_ptr<WritableFile>(std::make_unique<File>(*this, path, inode));
}

Result<std::string> FaultEnv::read_file(const std::string& path, std::uint64_t max_bytes) {
  std::lock_guard lock(mu_);
  auto it = live_.find(path);
  if (it == live_.end()) return Error::IOError("no file " + path);
  if (it->second->data.size() > max_bytes) return Error::Corruption(path + " is too large");
  return it->second->data;
}

Status FaultEnv::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  if (auto e = tick(Op::kRename, from)) return *e;
  auto it = live_.find(from);
  if (it == live_.end()) return Error::IOError("no file " + from);
  live_[to] = it->second;
  live_.erase(it);
  return ok_status();
}

Status FaultEnv::remove(const std::string& path) {
  std::lock_guard lock(mu_);
  if (auto e = tick(Op::kRemove, path)) return *e;
  live_.erase(path);
  return ok_status();
}

Status FaultEnv::truncate(const std::string& path, std::uint64_t size) {
  std::lock_guard lock(mu_);
  if (auto e = tick(Op::kTruncate, path)) return *e;
  auto it = live_.find(path);
  if (it == live_.end()) return Error::IOError("no file " + path);
  it->second->data.resize(size);
  it->second->synced = std::min<std::size_t>(it->second->synced, size);
  return ok_status();
}

Status FaultEnv::sync_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  if (auto e = tick(Op::kSyncDir, dir)) return *e;
  for (auto it = durable_.begin(); it != durable_.end();) {
    it = dir_of(it->first) == dir ? durable_.erase(it) : std::next(it);
  }
  for (const auto& [name, inode] : live_) {
    if (dir_of(name) == dir) durable_[name] = inode;
  }
  return ok_status();
}

Status FaultEnv::create_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  dirs_.insert(dir);
  return ok_status();
}

Result<std::vector<std::string>> FaultEnv::list_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, inode] : live_) {
    if (dir_of(name) == dir) names.push_back(name.substr(dir.size() + 1));
  }
  return names;
}

bool FaultEnv::exists(const std::string& path) {
  std::lock_guard lock(mu_);
  return live_.count(path) > 0 || dirs_.count(path) > 0;
}

Result<std::unique_ptr<FileLock>> FaultEnv::lock_file(const std::string& path) {
  std::lock_guard lock(mu_);
  if (!locks_.insert(path).second) return Error::IOError(path + " is locked");
  return std::unique_ptr<FileLock>(std::make_unique<Lock>(*this, path));
}

}  // namespace caserepo::testing
