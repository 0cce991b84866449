// The HTTP message types every part of the server shares (Boost.Beast's),
// and the status a request ends with.
#pragma once

#include <boost/beast/http.hpp>
#include <string>

namespace caserepo::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

inline constexpr const char* kJsonType = "application/json; charset=utf-8";

}  // namespace caserepo::server
