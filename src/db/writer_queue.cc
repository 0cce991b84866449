#include "db/writer_queue.h"

#include <vector>

namespace caserepo::db {

void WriterQueue::write(QueuedWrite& write) {
  Waiter me;
  me.write = &write;
  run({&me, 1});
}

void WriterQueue::write_all(std::span<QueuedWrite* const> writes) {
  if (writes.empty()) return;
  std::vector<Waiter> mine(writes.size());
  for (std::size_t i = 0; i < writes.size(); ++i) mine[i].write = writes[i];
  run(mine);
}

void WriterQueue::exclusive(const std::function<void()>& task) {
  Waiter me;
  me.task = &task;
  run({&me, 1});
}

void WriterQueue::run(std::span<Waiter> mine) {
  std::condition_variable cv;
  std::unique_lock lock(mu_);
  for (Waiter& w : mine) {
    w.cv = &cv;
    line_.push_back(&w);
  }
  const Waiter& last = mine.back();
  for (;;) {
    cv.wait(lock, [&] { return last.done || line_.front()->cv == &cv; });
    if (last.done) return;  // leaders committed them (mine are done in order)

    // This thread leads, from the first of its own not yet done.
    Waiter* me = line_.front();
    std::size_t handled = 1;
    if (me->task) {
      lock.unlock();
      (*me->task)();
      lock.lock();
    } else {
      std::vector<QueuedWrite*> batch;
      for (Waiter* w : line_) {
        if (w->task || batch.size() == kMaxBatch) break;
        batch.push_back(w->write);
      }
      lock.unlock();
      handled = commit_(batch);
      lock.lock();
    }
    for (std::size_t i = 0; i < handled; ++i) {
      Waiter* w = line_.front();
      line_.pop_front();
      w->done = true;
      if (w->cv != &cv) w->cv->notify_one();
    }
    if (!line_.empty() && line_.front()->cv != &cv) line_.front()->cv->notify_one();
  }
}

}  // namespace caserepo::db
