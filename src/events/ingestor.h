// Ingestor: applies the case commands of a JetStream stream to a repository
// (caserepo-server --ingest STREAM[:FILTER], docs/events.md).
//
// A durable pull consumer delivers the stream's messages in order, asked
// for `batch` at a time (the in-flight bound: the consumer's MaxAckPending
// is four times it) by pull requests of our own (ingestor.cc says why not
// libnats' fetch). Two threads: one fetches a batch and parses its
// commands while the other applies the batch before it, handed over one at
// a time (so at most four batches are unacked: one being applied, one
// parsed and waiting, one being parsed, one asked for ahead and arriving).
// Each batch goes through
// Repository::applyStream, which logs every command's write together with its
// stream sequence; only then, durable under the fsync policy, are the
// messages acked. At start the consumer is made anew to deliver from the
// repository's own position + 1, so a restart — after a crash at any
// point, or on a new node from the last snapshot — resumes exactly after the
// last command applied: none twice, none skipped.
//
// A message that is not a valid command, or that the repository refuses
// (NotFound, Conflict, InvalidArgument), is published with its error to the
// dead-letter subject (message id <stream>-<sequence>: JetStream drops a
// repeat), then its position is skipped: it never stops the stream. When
// the repository fails (IOError, ReadOnly) ingestion stops; the messages
// not applied are delivered again after a restart.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "caserepo/repository.h"
#include "events/nats_link.h"

namespace caserepo::events {

struct IngestConfig {
  std::string stream;       // the JetStream stream of commands
  std::string filter;       // a subject filter within it; empty: all of it
  std::string durable;      // the consumer's name
  std::string dead_letter;  // the subject refused commands go to
  int batch = 512;
  // Called (on the applying thread) with each refused command's position and
  // error once it is dead-lettered.
  std::function<void(std::uint64_t, const Error&)> on_refused;
};

class Ingestor {
 public:
  Ingestor(Repository& repo, NatsLink& link, IngestConfig config);
  ~Ingestor();  // stop()
  Ingestor(const Ingestor&) = delete;
  Ingestor& operator=(const Ingestor&) = delete;

  // Makes the consumer (from streamPosition() + 1) and starts the loop.
  // Errors: IOError (NATS), InvalidArgument (no such stream).
  Status start();
  // Returns once both threads have finished their batch (nothing is
  // half-applied; a batch fetched and not applied is delivered again).
  void stop();

  // Prometheus text: lag, applied, dead letters, position, state.
  std::string metrics() const;

 private:
  Status make_consumer();
  // Owns fetched messages (a batch may hold a few more than `batch`: what
  // an earlier pull request delivered late).
  class Messages {
   public:
    Messages() = default;
    Messages(Messages&& o) noexcept : msgs_(std::move(o.msgs_)) { o.msgs_.clear(); }
    Messages& operator=(Messages&& o) noexcept;
    ~Messages() { clear(); }
    void push_back(natsMsg* m) { msgs_.push_back(m); }
    void clear();
    std::size_t size() const { return msgs_.size(); }
    bool empty() const { return msgs_.empty(); }
    natsMsg* operator[](std::size_t i) const { return msgs_[i]; }

   private:
    std::vector<natsMsg*> msgs_;
  };

  // Whether a delivery before these was lost (their delivery numbers skip one).
  bool lost_delivery(const Messages& list);
  // Whether the consumer, idle for a while, has messages pending it does not
  // deliver, is gone, has not answered three times running, or the stream
  // holds a command on the filter past the repository's position.
  bool stalled();
  // The stream sequence of the last message on the filter (0: none), or
  // nullopt when JetStream does not answer.
  std::optional<std::uint64_t> last_sequence();
  // Makes the consumer anew from the repository's position, until it works or stop().
  void restart_consumer();

  // A fetched batch: its messages (acked, then freed, by the applying
  // thread) and their commands, or why each was refused.
  struct Batch {
    Messages list;
    std::vector<StreamCommand> commands;
    std::vector<std::optional<Error>> refused;
  };
  // The fetching thread: fetch, check the delivery numbers, parse, hand over.
  void loop();
  // Reads what the open pull request (sent first when none is open)
  // delivers, until it closes or its deadline; one that delivered its whole
  // count is followed at once by the next request. NATS_TIMEOUT: nothing came.
  natsStatus fetch(Messages& out);
  natsStatus send_request();  // opens a pull request for `batch` messages
  Batch parse_batch(Messages list);
  // Waits until the applying thread has taken the previous batch, then
  // hands this one over. False (the batch freed) on stop or failure.
  bool hand_off(Batch batch);
  // Waits until every batch handed over is applied (so the repository's
  // position counts them). False on stop or failure.
  bool drain();
  // The applying thread: takes each batch, applies it, acks it.
  void apply_loop();
  void apply_batch(Batch& batch);
  // Publishes a refused message with its error, waiting for JetStream's ack.
  Status dead_letter(natsMsg* msg, std::uint64_t position, const Error& why);

  Repository& repo_;
  NatsLink& link_;
  const IngestConfig config_;
  natsSubscription* sub_ = nullptr;  // on inbox_.*: pull request n is answered on inbox_.n
  std::vector<natsSubscription*> retired_;  // of consumers made anew; freed at stop()
  std::thread thread_;        // fetches and parses
  std::thread apply_thread_;  // applies and acks
  std::mutex handoff_mu_;     // guards ready_, applying_; stop_ and failed_ are set under it
  std::condition_variable handoff_cv_;
  std::optional<Batch> ready_;  // handed over, not yet taken
  bool applying_ = false;       // the applying thread holds a batch
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::uint64_t next_delivery_ = 1;  // the consumer's next delivery sequence (fetching thread)
  int info_failures_ = 0;            // consumer info requests unanswered in a row (fetching thread)
  // The pull requests (fetching thread): where they go, where they are
  // answered, and the open one — its reply subject (empty: none open), how
  // many messages it may still deliver, when it is given up.
  std::string next_subject_, inbox_;
  std::uint64_t requests_ = 0;
  std::string open_request_;
  int open_request_left_ = 0;
  std::chrono::steady_clock::time_point open_request_deadline_{};
  std::atomic<std::uint64_t> redelivery_restarts_{0}, stall_restarts_{0};
  std::atomic<std::uint64_t> lag_{0}, applied_{0}, duplicates_{0}, dead_letters_{0}, fetch_errors_{0}, batches_{0};
};

}  // namespace caserepo::events
