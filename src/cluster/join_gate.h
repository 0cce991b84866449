// JoinGate: orders the router's businessKey joins against its other writes.
//
// A create without caseId joins the case of the newest entry with its
// businessKey, in whatever partition. The router resolves that before it
// publishes the create (a join across partitions is a 409); a single server
// resolves it when it applies the create. A write in flight between the two
// can change the answer: a create of another case with that key, an update
// setting or clearing it, a remove of the case that has it. (The cluster
// test saw the router take a join that a single server refused: a create
// with a caseId and the same key, from another partition, landed 6 ms
// before it.) So a join waits until no other write is in flight and holds
// new ones off until its outcome — the order a single server sees. Writes
// are many and short, joins few: waiting joins go first, so a steady stream
// of writes cannot starve them.
#pragma once

#include <condition_variable>
#include <mutex>

namespace caserepo::cluster {

class JoinGate {
 public:
  // Held by a write from its checks until its outcome: `alone` for a
  // businessKey join, shared by every other write.
  class Hold {
   public:
    Hold(JoinGate& gate, bool alone) : gate_(gate), alone_(alone) {
      std::unique_lock lock(gate_.mutex_);
      if (alone_) ++gate_.joins_waiting_;
      gate_.changed_.wait(lock, [&] {
        return !gate_.joining_ && (alone_ ? gate_.writes_ == 0 : gate_.joins_waiting_ == 0);
      });
      if (alone_) {
        --gate_.joins_waiting_;
        gate_.joining_ = true;
      } else {
        ++gate_.writes_;
      }
    }
    ~Hold() {
      {
        std::lock_guard lock(gate_.mutex_);
        if (alone_) gate_.joining_ = false;
        else --gate_.writes_;
      }
      gate_.changed_.notify_all();
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    JoinGate& gate_;
    const bool alone_;
  };

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int writes_ = 0;         // shared holds now
  int joins_waiting_ = 0;  // joins waiting to hold it alone
  bool joining_ = false;   // a join holds it alone
};

}  // namespace caserepo::cluster
