// Connection: one client's HTTP/1.1 keep-alive connection, after Beast's
// async server examples: a shared_ptr-owned object per connection, every
// operation on its strand, a fresh parser per request with the header and
// body limits, and two timeouts — idle (waiting for a request's first byte)
// and request (from its first byte to its last, and for writing the
// response) — so a slow or silent client costs a socket, never a thread.
//
// Malformed HTTP gets 400 and the connection is closed; a body over the
// limit 413, a header over the limit 431, both closed too.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "server/api.h"
#include "server/server.h"

namespace caserepo::server {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

template <class Derived>
class Connection : public ConnectionBase {
 public:
  Connection(Server& server, std::string client) : server_(server), client_(std::move(client)) {  // NOLINT
    server_.metrics().connection_opened();
  }
  ~Connection() override { server_.metrics().connection_closed(); }

  void close_if_idle() override {
    net::post(self().stream().get_executor(), [s = self().shared_from_this()] {
      if (s->idle_) s->self().close();
    });
  }

 protected:
  Derived& self() { return static_cast<Derived&>(*this); }
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(self().stream()); }

  // Next request: what is buffered already, else wait (idle) for a byte.
  void start_reading() {
    if (buffer_.size() > 0) return read_request();
    idle_ = true;
    if (server_.stopping()) return self().close();
    tcp().expires_after(server_.config().idle_timeout);
    self().stream().async_read_some(buffer_.prepare(8192), [s = self().shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) return s->self().close();  // closed, idle timeout, or shutdown
      s->buffer_.commit(n);
      s->read_request();
    });
  }

 private:
  void read_request() {
    idle_ = false;
    started_ = std::chrono::steady_clock::now();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.config().max_header));
    parser_->body_limit(server_.config().max_body);
    tcp().expires_after(server_.config().request_timeout);
    http::async_read(self().stream(), buffer_, *parser_, [s = self().shared_from_this()](beast::error_code ec, std::size_t) {
      s->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return self().close();
    if (ec == beast::error::timeout) {
      server_.metrics().limit_hit("timeout");
      return self().close();
    }
    if (ec == http::error::body_limit) {
      server_.metrics().limit_hit("body");
      return refuse(http::status::payload_too_large, "PayloadTooLarge",
                    "the body is larger than " + std::to_string(server_.config().max_body) + " bytes");
    }
    if (ec == http::error::header_limit) {
      server_.metrics().limit_hit("header");
      return refuse(http::status::request_header_fields_too_large, "RequestHeaderFieldsTooLarge",
                    "the header is larger than " + std::to_string(server_.config().max_header) + " bytes");
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return refuse(http::status::bad_request, "InvalidArgument", "malformed HTTP request: " + ec.message());
    }
    if (ec) return self().close();  // the network: reset, closed mid-request

    auto req = std::make_shared<Request>(parser_->release());
    if (server_.dispatcher().may_block(*req)) {
      net::post(server_.blocking_pool(), [s = self().shared_from_this(), req] {
        auto info = std::make_shared<RequestInfo>();
        auto res = std::make_shared<Response>(s->server_.dispatcher().respond(*req, s->client_, *info));
        net::post(s->self().stream().get_executor(), [s, req, info, res] { s->send(*req, *info, std::move(*res)); });
      });
    } else {
      RequestInfo info;
      Response res = server_.dispatcher().respond(*req, client_, info);
      send(*req, info, std::move(res));
    }
  }

  // An error the parser found: answer it and close.
  void refuse(http::status status, std::string_view name, const std::string& message) {
    Request req;
    req.method_string(parser_ && parser_->is_header_done() ? parser_->get().method_string() : "-");
    req.target(parser_ && parser_->is_header_done() ? parser_->get().target() : "-");
    Response res = error_response(status, name, message, 11, /*keep_alive=*/false);
    send(req, RequestInfo{}, std::move(res));
  }

  void send(const Request& req, const RequestInfo& info, Response res) {
    if (server_.stopping()) res.keep_alive(false);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    server_.metrics().request(info.route, res.result_int(), seconds);
    auto sv = [](beast::string_view v) { return std::string_view(v.data(), v.size()); };
    server_.access_log().record(client_, info.user, sv(req.method_string()), sv(req.target()), info.route,
                                res.result_int(), res.body().size(), seconds);
    res_ = std::make_shared<Response>(std::move(res));
    tcp().expires_after(server_.config().request_timeout);
    http::async_write(self().stream(), *res_, [s = self().shared_from_this()](beast::error_code ec, std::size_t) {
      const bool close = ec || s->res_->need_eof();
      s->res_.reset();
      if (close) return s->self().close();
      s->start_reading();
    });
  }

  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> res_;
  std::chrono::steady_clock::time_point started_;

 protected:
  Server& server_;
  std::string client_;
  bool idle_ = true;
};

class PlainConnection : public Connection<PlainConnection>, public std::enable_shared_from_this<PlainConnection> {
 public:
  PlainConnection(Server& server, tcp::socket&& socket, std::string client)
      : Connection(server, std::move(client)), stream_(std::move(socket)) {}
  beast::tcp_stream& stream() { return stream_; }
  void run() {
    net::dispatch(stream_.get_executor(), [s = shared_from_this()] { s->start_reading(); });
  }
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

 private:
  beast::tcp_stream stream_;
};

class TlsConnection : public Connection<TlsConnection>, public std::enable_shared_from_this<TlsConnection> {
 public:
  TlsConnection(Server& server, tcp::socket&& socket, std::string client)
      : Connection(server, std::move(client)), stream_(std::move(socket), server.tls()) {}
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  void run() {
    net::dispatch(stream_.get_executor(), [s = shared_from_this()] {
      beast::get_lowest_layer(s->stream_).expires_after(s->server_.config().request_timeout);
      s->stream_.async_handshake(net::ssl::stream_base::server, [s](beast::error_code ec) {
        if (ec) return s->close_socket();
        s->start_reading();
      });
    });
  }
  void close() {
    if (closing_) return;
    closing_ = true;
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([s = shared_from_this()](beast::error_code) { s->close_socket(); });
  }

 private:
  void close_socket() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().close(ec);
  }
  beast::ssl_stream<beast::tcp_stream> stream_;
  bool closing_ = false;
};

}  // namespace caserepo::server
