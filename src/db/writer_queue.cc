#include "db/writer_queue.h"

#include <vector>

namespace caserepo::db {

void WriterQueue::write(QueuedWrite& write) {
  Waiter me;
  me.write = &write;
  run(me);
}

void WriterQueue::exclusive(const std::function<void()>& task) {
  Waiter me;
  me.task = &task;
  run(me);
}

void WriterQueue::run(Waiter& me) {
  std::unique_lock lock(mu_);
  line_.push_back(&me);
  me.cv.wait(lock, [&] { return me.done || line_.front() == &me; });
  if (me.done) return;  // a leader committed it

  // This thread leads.
  std::size_t handled = 1;
  if (me.task) {
    lock.unlock();
    (*me.task)();
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
    if (w != &me) w->cv.notify_one();
  }
  if (!line_.empty()) line_.front()->cv.notify_one();
}

}  // namespace caserepo::db
