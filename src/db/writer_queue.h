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

// One applyStream call's writes share this: once one of them is refused,
// the ones after it are not applied (nor their positions taken).
struct StreamRun {
  bool stopped = false;  // read and written only by batch leaders, one at a time
};

struct QueuedWrite {
  explicit QueuedWrite(WriteRequest&& r) : request(std::move(r)) {}
  QueuedWrite(WriteRequest&& r, StreamOrigin o, StreamRun* run, bool skip)
      : request(std::move(r)), stream(o), run(run), skip(skip) {}
  WriteRequest request;
  // From applyStream: its origin (position 0: an API write), its run, and
  // whether it only takes the position (a skip: `request` is ignored).
  StreamOrigin stream;
  StreamRun* run = nullptr;
  bool skip = false;
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
  // The same for several writes of one thread, lined up together in order;
  // returns once all were committed.
  void write_all(std::span<QueuedWrite* const> writes);
  // Runs `task` when it reaches the front of the line, with no batch in flight.
  void exclusive(const std::function<void()>& task);

 private:
  struct Waiter {
    QueuedWrite* write = nullptr;              // null: an exclusive task
    const std::function<void()>* task = nullptr;
    bool done = false;
    std::condition_variable* cv = nullptr;     // its thread's
  };
  // Lines up `mine` (one thread's, in order) and returns once all are done,
  // leading a batch whenever one of them is at the front.
  void run(std::span<Waiter> mine);

  CommitBatch commit_;
  std::mutex mu_;
  std::deque<Waiter*> line_;
};

}  // namespace caserepo::db
