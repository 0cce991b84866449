// Outcomes: what the recent stream commands of one partition ended as, as
// the API would have answered them (status and body). The router publishes
// a write to the stream and then asks a node of the partition for its
// outcome; this is where the node keeps them and answers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace caserepo::cluster {

class Outcomes {
 public:
  using Reply = std::function<void(unsigned status, const std::string& body)>;
  // Status the router gets for a command this node took before it
  // restarted (its outcome was not kept) or that is not in this partition.
  static constexpr unsigned kUnknown = 0;

  // The partition's position when it opened: commands up to it were taken
  // before, their outcomes are not known here.
  void start_at(std::uint64_t position);
  // The command at `position` ended with this answer. Positions are
  // recorded in increasing order (the ingest thread).
  void record(std::uint64_t position, unsigned status, std::string body);
  // Calls `reply` once the command at `position` has an outcome: now, or
  // from record(). A position passed over without one (not a command of
  // this partition, or taken before it opened) gets kUnknown.
  void when_done(std::uint64_t position, Reply reply);
  // Waits until `position()` reaches `position` (read-your-writes for the
  // router). False after `timeout`.
  bool wait_for(std::uint64_t position, const std::function<std::uint64_t()>& current,
                std::chrono::milliseconds timeout);

 private:
  static constexpr std::size_t kKept = 65536;  // outcomes remembered, and pending waits at most
  std::mutex mu_;
  std::uint64_t opened_at_ = 0, last_ = 0;  // start_at(); the last position recorded
  std::condition_variable advanced_;
  std::deque<std::uint64_t> order_;  // positions of `done_`, oldest first
  std::map<std::uint64_t, std::pair<unsigned, std::string>> done_;
  std::multimap<std::uint64_t, Reply> pending_;
};

}  // namespace caserepo::cluster
