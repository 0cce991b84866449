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
  // Any write but a join, from its checks until its outcome.
  class Write {
   public:
    explicit Write(JoinGate& gate) : gate_(gate) {
      std::unique_lock lock(gate_.mutex_);
      gate_.changed_.wait(lock, [&] { return !gate_.joining_ && gate_.joins_waiting_ == 0; });
      ++gate_.writes_;
    }
    ~Write() {
      std::lock_guard lock(gate_.mutex_);
      if (--gate_.writes_ == 0) gate_.changed_.notify_all();
    }
    Write(const Write&) = delete;
    Write& operator=(const Write&) = delete;

   private:
    JoinGate& gate_;
  };

  // A businessKey join, alone, from its check until its outcome.
  class Join {
   public:
    explicit Join(JoinGate& gate) : gate_(gate) {
      std::unique_lock lock(gate_.mutex_);
      ++gate_.joins_waiting_;
      gate_.changed_.wait(lock, [&] { return !gate_.joining_ && gate_.writes_ == 0; });
      --gate_.joins_waiting_;
      gate_.joining_ = true;
    }
    ~Join() {
      {
        std::lock_guard lock(gate_.mutex_);
        gate_.joining_ = false;
      }
      gate_.changed_.notify_all();
    }
    Join(const Join&) = delete;
    Join& operator=(const Join&) = delete;

   private:
    JoinGate& gate_;
  };

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int writes_ = 0;         // Write holds now
  int joins_waiting_ = 0;  // Join constructors waiting
  bool joining_ = false;   // a Join holds the gate
};

}  // namespace caserepo::cluster
