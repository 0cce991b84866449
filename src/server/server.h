// Server: caserepo-server's running parts — the listener (accepting, the
// connection cap), the connections (HTTP/1.1 keep-alive on Boost.Beast,
// plain or TLS, with every limit and timeout), the I/O threads, and the
// pool that runs what may block (writes waiting for their fsync, slow
// password checks) so that the I/O threads never wait.
//
// Shutdown (SIGTERM/SIGINT): stop accepting, close idle connections, let
// requests in flight finish (their connections close after the response),
// then close the repository cleanly. SIGHUP reloads the users file.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "server/access_log.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/dispatcher.h"
#include "server/metrics.h"
#include "server/service.h"

namespace caserepo::server {

// What the server needs to know of a connection to shut down.
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void close_if_idle() = 0;
};

class Server {
 public:
  // `service` answers the requests and was made with `metrics`.
  // InvalidArgument (TLS files that do not load).
  static Result<std::unique_ptr<Server>> make(ServerConfig config, std::unique_ptr<Metrics> metrics,
                                              std::unique_ptr<Service> service, std::vector<User> users);
  Server(ServerConfig config, std::unique_ptr<Metrics> metrics, std::unique_ptr<Service> service,
         std::vector<User> users);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, prints "listening on HOST:PORT" on stdout once it accepts, and
  // serves until a shutdown signal. Returns the exit code: 0 after a clean
  // shutdown, 1 when it cannot listen or the service cannot start.
  // The service starts before the server listens and stops after the last
  // request.
  int run();

  // --- for connections ---
  const ServerConfig& config() const { return config_; }
  Metrics& metrics() { return *metrics_; }
  AccessLog& access_log() { return access_log_; }
  const Dispatcher& dispatcher() const { return dispatcher_; }
  boost::asio::thread_pool& blocking_pool() { return pool_; }
  boost::asio::ssl::context& tls() { return tls_; }
  bool stopping() const { return stopping_.load(); }
  void track(std::weak_ptr<ConnectionBase> c);

 private:
  void accept();
  void begin_stop();
  void wait_for_connections(std::chrono::steady_clock::time_point deadline);
  void schedule_checkpoint();
  void schedule_flush();

  ServerConfig config_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Service> service_;
  Authenticator auth_;
  Dispatcher dispatcher_;
  AccessLog access_log_;
  boost::asio::ssl::context tls_;
  std::atomic<bool> stopping_{false};
  std::mutex connections_mu_;
  std::list<std::weak_ptr<ConnectionBase>> connections_;
  // Destroyed first (last declared): the pool's jobs and the context's
  // handlers hold connections, which use everything above.
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;  // on a strand
  boost::asio::thread_pool pool_;
};

}  // namespace caserepo::server
