// WriterQueue: the commit pipeline's line (LevelDB's writer queue). Writers
// line up; the one at the front leads: it takes the writers queued behind it
// as one batch and commits them — resolve, append to the log, sync per the
// policy, apply to the Store — then hands the lead to the next writer in
// line. One fsync serves the whole batch, and nothing is applied (visible)
// before it is durable. An exclusive task (a checkpoint's step) waits for
// its turn in the same line and then runs with no batch in flight.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>

#include "caserepo/error.h"
#include "db/write_request.h"

namespace caserepo::db {

struct QueuedWrite {
  explicit QueuedWrite(WriteRequest&& r) : request(std::move(r)) {}
  WriteRequest request;
  // Set by the batch that took it: `error`, or else `result`. (Not a
  // Result<WriteResult>: each layer of wrapping would move the Entry again.)
  std::optional<Error> error;
  WriteResult result;
};

class WriterQueue {
 public:
  // Commits writes[0..k) for some k ≥ 1, setting each one's result, and
  // returns k; the writes it leaves lead later batches.
  using CommitBatch = std::function<std::size_t(std::span<QueuedWrite* const>)>;
  static constexpr std::size_t kMaxBatch = 512;

  explicit WriterQueue(CommitBatch commit) : commit_(std::move(commit)) {}

  // Returns once `write` was committed (its result is set), by this thread
  // or by the leader of the batch that took it.
  void write(QueuedWrite& write);
  // Runs `task` when it reaches the front of the line, with no batch in flight.
  void exclusive(const std::function<void()>& task);

 private:
  struct Waiter {
    QueuedWrite* write = nullptr;              // null: an exclusive task
    const std::function<void()>* task = nullptr;
    bool done = false;
    std::condition_variable cv;
  };
  void run(Waiter& me);

  CommitBatch commit_;
  std::mutex mu_;
  std::deque<Waiter*> line_;
};

}  // namespace caserepo::db
