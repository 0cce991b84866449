#include "server/server.h"

#include <sys/resource.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <thread>

#include "server/connection.h"

namespace caserepo::server {

Result<std::unique_ptr<Server>> Server::make(ServerConfig config, std::unique_ptr<Metrics> metrics,
                                             std::unique_ptr<Service> service, std::vector<User> users) {
  auto server = std::make_unique<Server>(std::move(config), std::move(metrics), std::move(service), std::move(users));
  if (server->config_.tls()) {
    beast::error_code ec;
    server->tls_.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                             net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
    server->tls_.use_certificate_chain_file(server->config_.tls_cert, ec);
    if (ec) return Error::InvalidArgument("--tls-cert " + server->config_.tls_cert + ": " + ec.message());
    server->tls_.use_private_key_file(server->config_.tls_key, net::ssl::context::pem, ec);
    if (ec) return Error::InvalidArgument("--tls-key " + server->config_.tls_key + ": " + ec.message());
  }
  return server;
}

Server::Server(ServerConfig config, std::unique_ptr<Metrics> metrics, std::unique_ptr<Service> service,
               std::vector<User> users)
    : config_(std::move(config)),
      metrics_(std::move(metrics)),
      service_(std::move(service)),
      auth_(std::move(users)),
      dispatcher_(*service_, auth_, *metrics_),
      access_log_(config_.access_log),
      tls_(net::ssl::context::tls_server),
      ioc_(static_cast<int>(config_.threads ? config_.threads : std::max(1u, std::thread::hardware_concurrency()))),
      acceptor_(net::make_strand(ioc_)),  // accept and close never run at once
      pool_(config_.workers) {}

Server::~Server() {
  pool_.join();
}

void Server::track(std::weak_ptr<ConnectionBase> c) {
  std::lock_guard lock(connections_mu_);
  if (connections_.size() > 2 * static_cast<std::size_t>(metrics_->open_connections()) + 1024) {
    connections_.remove_if([](const auto& w) { return w.expired(); });
  }
  connections_.push_back(std::move(c));
}

int Server::run() {
  // Many idle keep-alive connections are fine; running out of descriptors is not.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  beast::error_code ec;
  const std::string host = config_.host == "localhost" ? "127.0.0.1" : config_.host;
  const auto address = net::ip::make_address(host, ec);
  if (ec) {
    std::fprintf(stderr, "caserepo-server: --listen %s: not an IP address\n", config_.host.c_str());
    return 1;
  }
  const tcp::endpoint endpoint{address, config_.port};
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "caserepo-server: cannot listen on %s:%u: %s\n", config_.host.c_str(), config_.port,
                 ec.message().c_str());
    return 1;
  }
  if (auto s = service_->start(); !s.ok()) {
    std::fprintf(stderr, "caserepo-server: cannot start: %s\n", s.error().to_string().c_str());
    return 1;
  }
  const auto bound = acceptor_.local_endpoint();
  std::printf("listening on %s:%u\n", bound.address().to_string().c_str(), bound.port());
  std::fflush(stdout);

  net::signal_set signals(ioc_, SIGINT, SIGTERM);
  signals.async_wait([this](beast::error_code e, int) {
    if (!e) begin_stop();
  });
  net::signal_set reload(ioc_, SIGHUP);
  std::function<void()> wait_reload = [&] {
    reload.async_wait([&](beast::error_code e, int) {
      if (e) return;
      if (auto users = load_users(config_.users_file); users.ok()) {
        auth_.replace_users(std::move(*users));
        std::fprintf(stderr, "caserepo-server: reloaded %s\n", config_.users_file.c_str());
      } else {
        std::fprintf(stderr, "caserepo-server: keeping the old users: %s\n", users.error().to_string().c_str());
      }
      wait_reload();
    });
  };
  wait_reload();
  accept();
  schedule_checkpoint();
  schedule_flush();

  const unsigned threads = config_.threads ? config_.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> io;
  for (unsigned i = 1; i < threads; ++i) io.emplace_back([this] { ioc_.run(); });
  ioc_.run();
  for (auto& t : io) t.join();
  service_->release_waits();  // a periodic checkpoint in pool_ may be waiting for the change feed
  pool_.join();
  access_log_.flush();
  service_->stop();
  return 0;
}

void Server::accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping_) return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning.
      auto timer = std::make_shared<net::steady_timer>(acceptor_.get_executor(), std::chrono::milliseconds(50));
      timer->async_wait([this, timer](beast::error_code) { accept(); });
      return;
    }
    if (static_cast<std::size_t>(metrics_->open_connections()) >= config_.max_connections) {
      metrics_->connection_refused();
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      beast::error_code ignored;
      const auto peer = socket.remote_endpoint(ignored);
      const std::string client = ignored ? "-" : peer.address().to_string();
      if (config_.tls()) {
        auto c = std::make_shared<TlsConnection>(*this, std::move(socket), client);
        track(c);
        c->run();
      } else {
        auto c = std::make_shared<PlainConnection>(*this, std::move(socket), client);
        track(c);
        c->run();
      }
    }
    accept();
  });
}

void Server::begin_stop() {
  if (stopping_.exchange(true)) return;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  {
    std::lock_guard lock(connections_mu_);
    for (auto& w : connections_) {
      if (auto c = w.lock()) c->close_if_idle();
    }
  }
  wait_for_connections(std::chrono::steady_clock::now() + config_.shutdown_grace);
}

// Requests in flight finish (their connections close after the response);
// then, or at the deadline, the I/O threads stop.
void Server::wait_for_connections(std::chrono::steady_clock::time_point deadline) {
  if (metrics_->open_connections() == 0 || std::chrono::steady_clock::now() >= deadline) {
    ioc_.stop();
    return;
  }
  auto timer = std::make_shared<net::steady_timer>(ioc_, std::chrono::milliseconds(20));
  timer->async_wait([this, timer, deadline](beast::error_code) { wait_for_connections(deadline); });
}

void Server::schedule_checkpoint() {
  if (config_.checkpoint_every.count() == 0 || stopping_) return;
  auto timer = std::make_shared<net::steady_timer>(ioc_, config_.checkpoint_every);
  timer->async_wait([this, timer](beast::error_code ec) {
    if (ec || stopping_) return;
    net::post(pool_, [this] { service_->checkpoint(); });
    schedule_checkpoint();
  });
}

void Server::schedule_flush() {
  if (stopping_) return;
  auto timer = std::make_shared<net::steady_timer>(ioc_, std::chrono::seconds(1));
  timer->async_wait([this, timer](beast::error_code ec) {
    if (ec) return;
    access_log_.flush();
    schedule_flush();
  });
}

}  // namespace caserepo::server
