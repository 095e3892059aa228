// The redis check: one connection to one address (bound to the vantage's
// source address), AUTH when a password file is set, then PING and ROLE,
// pipelined in one write; the replies are read with bounds (probes/resp)
// and judged by judge_redis (probes/app_judge). Plain sockets: no client
// library, no TLS.
#include "config/secret_file.hpp"
#include "net/address.hpp"
#include "net/errors.hpp"
#include "probes/app_checks.hpp"
#include "probes/app_judge.hpp"
#include "probes/resp.hpp"
#include "probes/stopwatch.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>

namespace crosscheck::probes {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Replies to three short commands fit in far less; a server that sends
// more is not answering them.
constexpr std::size_t k_max_reply_bytes = 65'536;
constexpr std::size_t k_read_chunk = 4096;

class RedisSession : public std::enable_shared_from_this<RedisSession> {
 public:
  RedisSession(asio::io_context& io, const consensus::Clock& clock, config::RedisCheck check,
               AppRequest request, AppCallback done)
      : socket_(io),
        timer_(io),
        check_(std::move(check)),
        request_(std::move(request)),
        done_(std::move(done)),
        stopwatch_(clock),
        where_(config::Endpoint{request_.address, check_.port}.to_string()) {}

  void start() {
    stopwatch_.restart();
    std::vector<std::vector<std::string>> commands;
    if (check_.password_file) {
      auto password = config::read_secret_file("redis.password_file", *check_.password_file,
                                               config::SecretKind::Key);
      if (!password) {
        return finish(reach_result(ReachFailure::ObserverAuth, "observer: " + password.error()));
      }
      std::vector<std::string> auth{"AUTH"};
      if (check_.username) {
        auth.push_back(*check_.username);
      }
      auth.push_back(std::move(*password));
      commands.push_back(std::move(auth));
      sent_auth_ = true;
    }
    commands.push_back({"PING"});
    commands.push_back({"ROLE"});
    for (const auto& command : commands) {
      out_ += resp::encode_command(command);
    }
    expected_ = commands.size();

    const auto target = net::tcp_endpoint(request_.address, check_.port);
    boost::system::error_code ec;
    socket_.open(target.protocol(), ec);
    if (!ec && request_.source) {
      socket_.bind(tcp::endpoint(net::to_asio(*request_.source), 0), ec);
    }
    if (ec) {
      return finish(connect_failed(connect_failure(ec, false), where_, net::describe(ec)));
    }
    timer_.expires_at(request_.deadline);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec) {
        self->timed_out_ = true;
        boost::system::error_code ignored;
        self->socket_.cancel(ignored);
      }
    });
    socket_.async_connect(target, [self = shared_from_this()](boost::system::error_code done) {
      self->on_connect(done);
    });
  }

 private:
  void on_connect(boost::system::error_code ec) {
    if (ec) {
      return finish(connect_failed(connect_failure(ec, timed_out_), where_, net::describe(ec)));
    }
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code sent, std::size_t) {
                        if (sent) {
                          return self->io_failed(sent, "sending");
                        }
                        self->read();
                      });
  }

  void read() {
    socket_.async_read_some(asio::buffer(chunk_),
                            [self = shared_from_this()](boost::system::error_code ec,
                                                        std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(boost::system::error_code ec, std::size_t bytes) {
    in_.append(chunk_.data(), bytes);
    while (replies_.size() < expected_) {
      auto parsed = resp::parse(in_);
      if (!parsed.error.empty()) {
        return finish(
            app_failed(ReachFailure::AppError, "redis", where_, "protocol error: " + parsed.error));
      }
      if (!parsed.value) {
        break;
      }
      replies_.push_back(std::move(*parsed.value));
      in_.erase(0, parsed.consumed);
    }
    if (replies_.size() == expected_) {
      return finish(judge_redis(where_, check_, sent_auth_, replies_));
    }
    if (ec) {
      return io_failed(ec, "reading");
    }
    if (in_.size() > k_max_reply_bytes) {
      return finish(app_failed(
          ReachFailure::AppError, "redis", where_,
          "protocol error: replies over " + std::to_string(k_max_reply_bytes) + " bytes"));
    }
    read();
  }

  void io_failed(boost::system::error_code ec, std::string_view step) {
    if (timed_out_) {
      return finish(app_failed(ReachFailure::AppTimeout, "redis", where_,
                               "did not answer within the timeout (" +
                                   std::to_string(replies_.size()) + " of " +
                                   std::to_string(expected_) + " replies)"));
    }
    if (ec == asio::error::eof) {
      return finish(app_failed(ReachFailure::AppError, "redis", where_,
                               "closed the connection after " + std::to_string(replies_.size()) +
                                   " of " + std::to_string(expected_) + " replies"));
    }
    finish(app_failed(ReachFailure::AppError, "redis", where_,
                      std::string(step) + " failed: " + net::describe(ec)));
  }

  void finish(ReachResult result) {
    if (finished_) {
      return;
    }
    finished_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    result.latency_ms = stopwatch_.elapsed_ms();
    // Never the password: only replies and our own words reach the detail.
    done_(std::move(result));
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  config::RedisCheck check_;
  AppRequest request_;
  AppCallback done_;
  Stopwatch stopwatch_;
  std::string where_;
  std::string out_;
  std::string in_;
  std::array<char, k_read_chunk> chunk_{};
  std::vector<resp::Value> replies_;
  std::size_t expected_ = 0;
  bool sent_auth_ = false;
  bool timed_out_ = false;
  bool finished_ = false;
};

}  // namespace

void check_redis(asio::io_context& io, const consensus::Clock& clock,
                 const config::RedisCheck& check, const AppRequest& request, AppCallback done) {
  auto session = std::make_shared<RedisSession>(io, clock, check, request, std::move(done));
  asio::post(io, [session] { session->start(); });
}

}  // namespace crosscheck::probes
