// A TCP server on 127.0.0.1 that plays a script to one client, for the
// protocol checks' tests: each step waits for a number of bytes, then
// answers, optionally in small pieces (a reply split anywhere); then it
// keeps the connection until the client closes it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace crosscheck::testing {

class ScriptedTcpServer {
 public:
  struct Step {
    std::size_t wait = 0;  // bytes to read first
    std::string answer;    // then written
  };

  // `piece`: write each answer in pieces of this many bytes, 2 ms apart (0: whole).
  explicit ScriptedTcpServer(std::vector<Step> script, std::size_t piece = 0)
      : acceptor_(io_,
                  boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
        script_(std::move(script)),
        piece_(piece) {
    thread_ = std::thread([this] { serve(); });
  }
  ScriptedTcpServer(const ScriptedTcpServer&) = delete;
  ScriptedTcpServer& operator=(const ScriptedTcpServer&) = delete;
  ScriptedTcpServer(ScriptedTcpServer&&) = delete;
  ScriptedTcpServer& operator=(ScriptedTcpServer&&) = delete;
  ~ScriptedTcpServer() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    thread_.join();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // What the client sent, as far as the script read it.
  const std::string& received() const { return received_; }

 private:
  void serve() {
    namespace asio = boost::asio;
    boost::system::error_code ec;
    asio::ip::tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    for (const auto& step : script_) {
      if (ec) {
        return;
      }
      std::string in(step.wait, '\0');
      asio::read(socket, asio::buffer(in), ec);
      received_ += in;
      const std::size_t piece = piece_ == 0 ? step.answer.size() : piece_;
      for (std::size_t at = 0; !ec && at < step.answer.size(); at += piece) {
        asio::write(socket,
                    asio::buffer(step.answer.data() + at, std::min(piece, step.answer.size() - at)),
                    ec);
        if (piece_ != 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      }
    }
    std::array<char, 64> sink{};
    while (!ec) {
      socket.read_some(asio::buffer(sink), ec);  // until the client closes
    }
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<Step> script_;
  std::size_t piece_;
  std::string received_;
  std::thread thread_;
};

}  // namespace crosscheck::testing
