#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>

namespace crosscheck::testing {
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

std::string HttpAnswer::header(const std::string& name) const {
  auto lower = [](std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
  };
  for (const auto& [key, value] : headers) {
    if (lower(key) == lower(name)) {
      return value;
    }
  }
  return {};
}

HttpAnswer http_request(const std::string& host, unsigned short port, const std::string& method,
                        const std::string& target, const std::string& body,
                        std::vector<std::pair<std::string, std::string>> headers,
                        std::chrono::milliseconds timeout) {
  HttpAnswer answer;
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(timeout);
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, host + ":" + std::to_string(port));
  request.set(http::field::connection, "close");
  for (const auto& [name, value] : headers) {
    request.set(name, value);
  }
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  bool done = false;
  stream.async_connect(
      asio::ip::tcp::endpoint(asio::ip::make_address(host), port), [&](beast::error_code ec) {
        if (ec) {
          answer.error = ec.message();
          return;
        }
        http::async_write(stream, request, [&](beast::error_code wec, std::size_t) {
          if (wec) {
            answer.error = wec.message();
            return;
          }
          http::async_read(stream, buffer, response, [&](beast::error_code rec, std::size_t) {
            if (rec) {
              answer.error = rec.message();
              return;
            }
            done = true;
          });
        });
      });
  io.run();
  if (done) {
    answer.status = static_cast<int>(response.result_int());
    answer.body = response.body();
    for (const auto& field : response) {
      answer.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
  }
  return answer;
}

std::string raw_exchange(const std::string& host, unsigned short port, const std::string& bytes,
                         std::chrono::milliseconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(timeout);
  std::string received;
  std::array<char, 4096> chunk{};
  std::function<void()> read_more;
  read_more = [&] {
    stream.async_read_some(asio::buffer(chunk), [&](beast::error_code ec, std::size_t n) {
      received.append(chunk.data(), n);
      if (!ec) {
        read_more();
      }
    });
  };
  stream.async_connect(
      asio::ip::tcp::endpoint(asio::ip::make_address(host), port), [&](beast::error_code ec) {
        if (ec) {
          return;
        }
        asio::async_write(stream, asio::buffer(bytes), [&](beast::error_code wec, std::size_t) {
          if (!wec) {
            read_more();
          }
        });
      });
  io.run();
  return received;
}

}  // namespace crosscheck::testing
