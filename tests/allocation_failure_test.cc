// Running out of memory while applying a write that is already in the log
// would leave the in-memory indexes half updated and the log ahead of them.
// The engine stops the process instead (the commit path is noexcept), and a
// restart replays the write. This binary replaces operator new so that a
// test can make allocations fail from a chosen moment on.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>

#include "caserepo/env.h"
#include "support/fixtures.h"

namespace {
std::atomic<bool> g_fail_allocations{false};
}  // namespace

// GCC pairs the replaced operator new with free() below, as intended.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (g_fail_allocations.load(std::memory_order_relaxed)) throw std::bad_alloc();
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace caserepo::testing {
namespace {

// The real file system, except that every allocation fails once a log
// append has reached the file: what follows is applying the write.
class FailAfterAppendEnv final : public Env {
 public:
  class File final : public WritableFile {
   public:
    explicit File(std::unique_ptr<WritableFile> f) : f_(std::move(f)) {}
    Status append(std::string_view data) override {
      Status s = f_->append(data);
      if (s.ok() && armed) g_fail_allocations = true;
      return s;
    }
    Status sync() override { return f_->sync(); }
    Status close() override { return f_->close(); }
    static inline bool armed = false;

   private:
    std::unique_ptr<WritableFile> f_;
  };
  Result<std::unique_ptr<WritableFile>> open_writable(const std::string& path, bool truncate) override {
    auto f = posix_->open_writable(path, truncate);
    if (!f.ok()) return f.error();
    return std::unique_ptr<WritableFile>(std::make_unique<File>(std::move(*f)));
  }
  Result<std::string> read_file(const std::string& p, std::uint64_t max) override { return posix_->read_file(p, max); }
  Status rename(const std::string& a, const std::string& b) override { return posix_->rename(a, b); }
  Status remove(const std::string& p) override { return posix_->remove(p); }
  Status truncate(const std::string& p, std::uint64_t n) override { return posix_->truncate(p, n); }
  Status sync_dir(const std::string& d) override { return posix_->sync_dir(d); }
  Status create_dir(const std::string& d) override { return posix_->create_dir(d); }
  Result<std::vector<std::string>> list_dir(const std::string& d) override { return posix_->list_dir(d); }
  bool exists(const std::string& p) override { return posix_->exists(p); }
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& p) override { return posix_->lock_file(p); }

 private:
  Env* posix_ = Env::posix();
};

TEST(AllocationFailureDeathTest, RunningOutOfMemoryWhileApplyingALoggedWriteStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "fast");  // the child shares `dir` (no threads run yet)
  const auto dir = std::filesystem::temp_directory_path() / ("caserepo-oom-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto write_two = [&] {
    FailAfterAppendEnv env;
    Options o;
    o.env = &env;
    o.fsync = FsyncPolicy::kNone;
    auto repo = Repository::open(dir.string(), o);
    if (!repo.ok()) std::exit(3);
    CreateRequest first = request("k1", "LOAN", "NEW");
    first.caseId = "first";
    if (!(*repo)->create(first).ok()) std::exit(4);
    FailAfterAppendEnv::File::armed = true;
    CreateRequest second = request("k2", "LOAN", "OPEN");
    second.caseId = "second";
    // Longer than a value keeps inline (engine/value_text.h): applying it allocates.
    second.statusDescription = std::string(100, 'd');
    try {
      (void)(*repo)->create(second);
    } catch (...) {
      std::exit(5);  // the half-applied write escaped as an exception: the bug
    }
    std::exit(6);
  };
  EXPECT_EXIT(write_two(), ::testing::KilledBySignal(SIGABRT), "");  // std::terminate
  // The write was logged before the process stopped: a restart has it.
  auto repo = Repository::open(dir.string());
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_TRUE((*repo)->get("first").ok());
  auto second = (*repo)->get("second");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, "OPEN");
  EXPECT_EQ(second->statusDescription, std::string(100, 'd'));
  repo->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace caserepo::testing
