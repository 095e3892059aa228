#include "probes/tcp_client.hpp"

#include "net/address.hpp"
#include "net/errors.hpp"
#include "probes/stopwatch.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace crosscheck::probes {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string endpoint_text(const config::IpAddress& address, std::uint16_t port) {
  return config::Endpoint{address, port}.to_string();
}

class TcpSession : public std::enable_shared_from_this<TcpSession> {
 public:
  TcpSession(asio::io_context& io, const consensus::Clock& clock, TcpRequest request,
             TcpCallback done)
      : socket_(io),
        timer_(io),
        request_(std::move(request)),
        done_(std::move(done)),
        stopwatch_(clock) {}

  void start() {
    stopwatch_.restart();
    const auto target = net::tcp_endpoint(request_.address, request_.port);
    boost::system::error_code ec;
    socket_.open(target.protocol(), ec);
    if (!ec && request_.source) {
      socket_.bind(tcp::endpoint(net::to_asio(*request_.source), 0), ec);
    }
    if (ec) {
      return finish(ec);
    }
    timer_.expires_at(request_.deadline);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec) {
        self->timed_out_ = true;
        boost::system::error_code ignored;
        self->socket_.cancel(ignored);
      }
    });
    socket_.async_connect(target,
                          [self = shared_from_this()](boost::system::error_code connect_ec) {
                            self->finish(connect_ec);
                          });
  }

 private:
  void finish(boost::system::error_code ec) {
    if (finished_) {
      return;
    }
    finished_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    const auto where = endpoint_text(request_.address, request_.port);
    ReachResult result =
        ec ? connect_failed(connect_failure(ec, timed_out_), where, net::describe(ec))
           : reach_result(ReachFailure::None, "tcp: connected to " + where);
    result.latency_ms = stopwatch_.elapsed_ms();
    done_(std::move(result));
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  TcpRequest request_;
  TcpCallback done_;
  Stopwatch stopwatch_;
  bool finished_ = false;
  bool timed_out_ = false;
};

}  // namespace

void check_tcp(asio::io_context& io, const consensus::Clock& clock, const TcpRequest& request,
               TcpCallback done) {
  auto session = std::make_shared<TcpSession>(io, clock, request, std::move(done));
  // Complete through the io_context even on immediate failures, so callers
  // never see their callback run inside check_tcp().
  asio::post(io, [session] { session->start(); });
}

}  // namespace crosscheck::probes
