// Readers and writers on threads (run under ThreadSanitizer in CI): every
// result a reader sees is internally consistent, and the final state is
// consistent with the operations that succeeded.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include "support/fixtures.h"
#include "workload/generator.h"

namespace caserepo::testing {
namespace {

bool ordered(const std::vector<Entry>& page, SortOrder sort) {
  for (std::size_t i = 1; i < page.size(); ++i) {
    const Entry& a = page[i - 1];
    const Entry& b = page[i];
    switch (sort) {
      case SortOrder::kCreationDateDesc: if (a.creationDate < b.creationDate) return false; break;
      case SortOrder::kCreationDateAsc: if (a.creationDate > b.creationDate) return false; break;
      case SortOrder::kUpdateDateDesc: if (a.updateDate < b.updateDate) return false; break;
      case SortOrder::kUpdateDateAsc: if (a.updateDate > b.updateDate) return false; break;
    }
  }
  return true;
}

// Counts a thread as finished however it leaves — at its end, or early from
// a failed ASSERT (which returns from that thread only): the threads that
// wait for it then stop, and the test fails instead of hanging.
struct CountOnExit {
  std::atomic<int>& count;
  ~CountOnExit() { ++count; }
};

// Writers write while readers search; `inject_failure` fails an ASSERT in a
// writer thread, to show that the test ends when a thread fails.
void readers_and_writers(bool inject_failure) {
  workload::SimulatedClock clock(workload::kDefaultStart);
  Options o;
  o.clock = clock.function();
  Repository repo(o);
  workload::fill(repo, clock, 2000, 3);

  constexpr int kWriters = 2, kReaders = 4, kWritesEach = 1500;
  std::atomic<int> writers_done{0};
  std::atomic<std::uint64_t> created{0}, removed{0}, reads{0};
  std::atomic<int> readers_reading{0};  // writers start once every reader has read once
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      CountOnExit finished{writers_done};
      while (readers_reading.load() < kReaders) std::this_thread::yield();
      ASSERT_FALSE(inject_failure && w == 1) << "injected failure";
      workload::Generator gen(2000, 100 + w);
      std::vector<std::string> mine;
      for (int i = 0; i < kWritesEach; ++i) {
        clock.advance(std::chrono::milliseconds(1));
        if (i % 10 == 9 && !mine.empty()) {
          auto r = repo.remove(mine.back());
          ASSERT_TRUE(r.ok());
          removed += *r;
          mine.pop_back();
        } else if (i % 10 == 5 && !mine.empty()) {
          Patch p;
          p.status = "IN_PROGRESS";
          ASSERT_TRUE(repo.update(mine.front(), p).ok());
        } else {
          CreateRequest r = gen.next();
          r.caseId.reset();  // only this writer's own cases
          r.businessKey.reset();
          auto e = repo.create(r);
          ASSERT_TRUE(e.ok());
          gen.created(*e);
          ++created;
          mine.push_back(e->caseId);
        }
      }
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937_64 rng(r);
      bool first = true;
      while (first || writers_done.load() < kWriters) {
        if (first) ++readers_reading;  // before any ASSERT can leave the loop
        first = false;
        Filter f;
        if (rng() % 2) f.status = {std::string(workload::kStatuses[rng() % 4].first)};
        if (rng() % 3 == 0) f.currentOnly = true;
        const auto sort = static_cast<SortOrder>(rng() % 4);
        auto page = repo.search(f, PageRequest{sort, rng() % 3, 50, ""});
        ASSERT_TRUE(page.ok());
        ASSERT_LE(page->content.size(), page->totalElements);
        ASSERT_TRUE(ordered(page->content, sort));
        for (const Entry& e : page->content) {
          if (!f.status.empty()) {
            ASSERT_EQ(e.status, f.status[0]);
          }
          auto current = repo.get(e.caseId);  // may have been removed since
          if (current.ok()) {
            ASSERT_EQ(current->caseId, e.caseId);
          }
        }
        ++reads;
      }
    });
  }
  for (auto& t : threads) t.join();

  EXPECT_GT(reads.load(), 0u);
  const Stats s = repo.stats();
  EXPECT_EQ(s.entries, 2000 + created.load() - removed.load());
  EXPECT_EQ(all_entries(repo).size(), s.entries);
}

TEST(ConcurrencyTest, ReadersSeeConsistentResultsWhileWritersWrite) { readers_and_writers(false); }

// Before CountOnExit, a writer's failed ASSERT left the readers waiting for
// it for ever: the test hung until ctest's timeout instead of failing.
TEST(ConcurrencyTest, AFailedAssertionInAThreadFailsTheTestInsteadOfHangingIt) {
  EXPECT_FATAL_FAILURE_ON_ALL_THREADS(readers_and_writers(true), "injected failure");
}

}  // namespace
}  // namespace caserepo::testing

namespace caserepo::testing {
namespace {

// Persistent writers under fsync=always share fsyncs (group commit) while
// readers search and checkpoints run: nothing lost, nothing raced (TSan).
TEST(ConcurrencyTest, PersistentWritersCheckpointsAndReadersTogether) {
  const auto dir = std::filesystem::temp_directory_path() / ("caserepo-conc-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  constexpr int kWriters = 8, kWritesEach = 60;
  {
    Options o;
    o.fsync = FsyncPolicy::kAlways;
    auto repo = Repository::open(dir.string(), o);
    ASSERT_TRUE(repo.ok()) << repo.error().to_string();
    std::atomic<bool> done{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        for (int i = 0; i < kWritesEach; ++i) {
          CreateRequest r = request("w" + std::to_string(w), "LOAN", "NEW");
          r.caseId = "w" + std::to_string(w) + "-" + std::to_string(i);
          ASSERT_TRUE((*repo)->create(r).ok());
        }
      });
    }
    std::thread checkpointer([&] {
      while (!done.load()) {
        ASSERT_TRUE((*repo)->checkpoint().ok());
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    std::thread reader([&] {
      while (!done.load()) ASSERT_TRUE((*repo)->search({}).ok());
    });
    for (auto& t : threads) t.join();
    done = true;
    checkpointer.join();
    reader.join();
    const Stats s = (*repo)->stats();
    EXPECT_EQ(s.entries, static_cast<std::uint64_t>(kWriters * kWritesEach));
    EXPECT_EQ(s.syncedSeq, s.lastSeq);
  }
  auto reopened = Repository::open(dir.string());
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->stats().entries, static_cast<std::uint64_t>(kWriters * kWritesEach));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace caserepo::testing
