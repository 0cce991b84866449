// KeyLocks: mutual exclusion per key (a string), for keys made on the fly.
//
// The router checks a create against every partition, then publishes it to
// one: two creates of one caseId from clients in different partitions must
// not both pass the check before either is applied (a single server answers
// the second 409). Holding the key from the check until the outcome is known
// orders them as a single server would. (Joins by businessKey: join_gate.h.)
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <unordered_set>

namespace caserepo::cluster {

class KeyLocks {
 public:
  // Holds `key` until destroyed; waits while another Hold has it.
  class Hold {
   public:
    Hold(KeyLocks& locks, std::string key) : locks_(locks), key_(std::move(key)) {
      std::unique_lock lock(locks_.mutex_);
      locks_.released_.wait(lock, [&] { return !locks_.held_.contains(key_); });
      locks_.held_.insert(key_);
    }
    ~Hold() {
      {
        std::lock_guard lock(locks_.mutex_);
        locks_.held_.erase(key_);
      }
      locks_.released_.notify_all();
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    KeyLocks& locks_;
    std::string key_;
  };

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  std::unordered_set<std::string> held_;  // keys held now: a handful, one per create in flight
};

}  // namespace caserepo::cluster
