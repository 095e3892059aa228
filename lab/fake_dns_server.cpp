#include "lab/fake_dns_server.hpp"

#include "lab/fake_dns_message.hpp"

#include "net/address.hpp"

#include <ldns/ldns.h>

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <system_error>

namespace crosscheck::lab {
namespace {

using dns_message::absolute;
using dns_message::build_reply;
using dns_message::garbage;
using dns_message::name_text;
using dns_message::parse_record;
using dns_message::PktPtr;
using dns_message::record_lines;
using dns_message::ReplySpec;

namespace asio = boost::asio;
using boost::system::error_code;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;

constexpr std::size_t k_max_message = 65535;
// UDP takes a free port first; TCP may find that port taken and then both
// start over.
constexpr int k_bind_attempts = 8;

// Bad records fail in the test's thread, when set, not later on the server's.
void check_records(const FakeDnsBehaviour& behaviour) {
  for (const auto* records : {&behaviour.records, &behaviour.authority}) {
    for (const auto& line : record_lines(*records, "check.example.")) {
      if (!parse_record(line)) {
        throw std::invalid_argument("fake dns: bad record '" + line + "'");
      }
    }
  }
}

std::vector<std::uint8_t> with_length_prefix(const std::vector<std::uint8_t>& message) {
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(message.size() >> 8U),
                                static_cast<std::uint8_t>(message.size() & 0xFFU)};
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

}  // namespace

// One TCP connection: length-prefixed queries in, replies out, until the
// client closes or the server stops.
class FakeDnsServer::TcpSession : public std::enable_shared_from_this<TcpSession> {
 public:
  TcpSession(FakeDnsServer& server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)), timer_(socket_.get_executor()) {}

  void read_query() {
    asio::async_read(
        socket_, asio::buffer(length_), [self = shared_from_this()](error_code ec, std::size_t) {
          if (ec) {
            return;
          }
          self->body_.resize((static_cast<std::size_t>(self->length_[0]) << 8U) | self->length_[1]);
          asio::async_read(self->socket_, asio::buffer(self->body_),
                           [self](error_code error, std::size_t) {
                             if (!error) {
                               self->answer();
                             }
                           });
        });
  }

 private:
  void answer() {
    ++server_.tcp_queries_;
    error_code ec;
    const auto peer = socket_.remote_endpoint(ec);
    const auto response = server_.respond(body_, true, peer.port());
    if (response.close) {
      socket_.close(ec);
      return;
    }
    out_.clear();
    for (const auto& reply : response.replies) {
      const auto framed = with_length_prefix(reply);
      out_.insert(out_.end(), framed.begin(), framed.end());
    }
    if (out_.empty()) {
      return read_query();  // silent: hold the connection, never answer
    }
    timer_.expires_after(response.delay);
    timer_.async_wait([self = shared_from_this()](error_code error) {
      if (error) {
        return;
      }
      asio::async_write(self->socket_, asio::buffer(self->out_),
                        [self](error_code write_error, std::size_t) {
                          if (!write_error) {
                            self->read_query();
                          }
                        });
    });
  }

  FakeDnsServer& server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::array<std::uint8_t, 2> length_{};
  std::vector<std::uint8_t> body_;
  std::vector<std::uint8_t> out_;
};

namespace {

config::IpAddress parse_address(std::string_view address) {
  const auto parsed = config::IpAddress::parse(address);
  if (!parsed) {
    throw std::invalid_argument("fake dns: not an IP address: " + std::string(address));
  }
  return *parsed;
}

}  // namespace

FakeDnsServer::FakeDnsServer(std::string_view address)
    : udp_(io_), acceptor_(io_), default_(FakeDnsBehaviour::nxdomain()) {
  open(parse_address(address), 0);
}

FakeDnsServer::FakeDnsServer(std::string_view address, std::uint16_t port)
    : udp_(io_), acceptor_(io_), default_(FakeDnsBehaviour::nxdomain()) {
  open(parse_address(address), port);
}

// Port 0: the kernel's choice for UDP, then TCP on the same number,
// starting over when TCP finds it taken. A given port: both, or throw.
void FakeDnsServer::open(const config::IpAddress& address, std::uint16_t port) {
  address_ = address;
  const auto ip = net::to_asio(address_);
  for (int attempt = 1;; ++attempt) {
    udp_.open(ip.is_v4() ? udp::v4() : udp::v6());
    udp_.bind(udp::endpoint(ip, port));  // throws when the address is not ours
    port_ = udp_.local_endpoint().port();
    error_code ec;
    acceptor_.open(ip.is_v4() ? tcp::v4() : tcp::v6());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(tcp::endpoint(ip, port_), ec);
    if (!ec) {
      break;
    }
    udp_.close();
    acceptor_.close();
    if (port != 0) {
      throw std::system_error(ec, "fake dns: TCP port " + std::to_string(port) + " taken");
    }
    if (attempt == k_bind_attempts) {
      throw std::system_error(ec, "fake dns: no port free for both UDP and TCP");
    }
  }
  acceptor_.listen();
  udp_buffer_.resize(k_max_message);
  receive_udp();
  accept_tcp();
  thread_ = std::thread([this] { io_.run(); });
}

FakeDnsServer::~FakeDnsServer() {
  stop();
}

void FakeDnsServer::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  io_.stop();
  if (thread_.joinable()) {
    thread_.join();
  }
  // The thread is gone, so the sockets can be closed from here.
  error_code ignored;
  udp_.close(ignored);
  acceptor_.close(ignored);
}

void FakeDnsServer::set(std::string_view name, FakeDnsBehaviour behaviour) {
  check_records(behaviour);
  const std::lock_guard lock(mutex_);
  behaviours_[absolute(name)] = std::move(behaviour);
}

void FakeDnsServer::set(std::string_view name, config::RrType type, FakeDnsBehaviour behaviour) {
  check_records(behaviour);
  const std::lock_guard lock(mutex_);
  typed_[{absolute(name), static_cast<std::uint16_t>(type)}] = std::move(behaviour);
}

void FakeDnsServer::set_default(FakeDnsBehaviour behaviour) {
  check_records(behaviour);
  const std::lock_guard lock(mutex_);
  default_ = std::move(behaviour);
}

config::Endpoint FakeDnsServer::endpoint() const {
  return config::Endpoint{address_, port_};
}

std::vector<FakeDnsQuery> FakeDnsServer::queries() const {
  const std::lock_guard lock(mutex_);
  return seen_;
}

bool FakeDnsServer::can_bind(std::string_view address) {
  const auto parsed = config::IpAddress::parse(address);
  if (!parsed) {
    return false;
  }
  asio::io_context io;
  udp::socket socket(io);
  const auto ip = net::to_asio(*parsed);
  error_code ec;
  socket.open(ip.is_v4() ? udp::v4() : udp::v6(), ec);
  if (!ec) {
    socket.bind(udp::endpoint(ip, 0), ec);
  }
  return !ec;
}

void FakeDnsServer::receive_udp() {
  udp_.async_receive_from(asio::buffer(udp_buffer_), udp_peer_,
                          [this](error_code ec, std::size_t size) {
                            if (ec == asio::error::operation_aborted) {
                              return;
                            }
                            if (!ec) {
                              handle_udp(size);
                            }
                            receive_udp();
                          });
}

void FakeDnsServer::handle_udp(std::size_t size) {
  ++udp_queries_;
  const std::vector<std::uint8_t> query(udp_buffer_.begin(),
                                        udp_buffer_.begin() + static_cast<std::ptrdiff_t>(size));
  auto response = respond(query, false, udp_peer_.port());
  if (response.replies.empty()) {
    return;
  }
  const auto delay = response.delay;
  auto replies =
      std::make_shared<std::vector<std::vector<std::uint8_t>>>(std::move(response.replies));
  // Sent back to back in order, so "wrong id, then the right one" arrives
  // in that order.
  auto send_all = [this, replies, peer = udp_peer_] {
    for (const auto& reply : *replies) {
      error_code ignored;
      udp_.send_to(asio::buffer(reply), peer, 0, ignored);
    }
  };
  if (delay.count() == 0) {
    return send_all();
  }
  auto timer = std::make_shared<asio::steady_timer>(io_, delay);
  timer->async_wait([timer, send_all](error_code ec) {
    if (!ec) {
      send_all();
    }
  });
}

void FakeDnsServer::accept_tcp() {
  acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) {
      return;
    }
    if (!ec) {
      std::make_shared<TcpSession>(*this, std::move(socket))->read_query();
    }
    accept_tcp();
  });
}

FakeDnsServer::Response FakeDnsServer::respond(const std::vector<std::uint8_t>& bytes,
                                               bool over_tcp, std::uint16_t source_port) {
  ldns_pkt* raw = nullptr;
  const ldns_status parsed = ldns_wire2pkt(&raw, bytes.data(), bytes.size());
  const PktPtr query(raw);
  if (parsed != LDNS_STATUS_OK || !query) {
    return {};  // not a query: a real server would drop it too
  }
  if (ldns_rr_list_rr_count(ldns_pkt_question(query.get())) == 0) {
    return {};
  }
  const ldns_rr* asked = ldns_rr_list_rr(ldns_pkt_question(query.get()), 0);
  const std::string qname = name_text(ldns_rr_owner(asked));

  FakeDnsBehaviour behaviour;
  {
    const std::lock_guard lock(mutex_);
    seen_.push_back(FakeDnsQuery{qname, static_cast<std::uint16_t>(ldns_rr_get_type(asked)),
                                 ldns_pkt_id(query.get()), over_tcp, ldns_pkt_rd(query.get()),
                                 ldns_pkt_edns_udp_size(query.get()), source_port,
                                 ldns_pkt_edns_do(query.get()), ldns_pkt_cd(query.get())});
    const auto typed = typed_.find({qname, static_cast<std::uint16_t>(ldns_rr_get_type(asked))});
    const auto found = behaviours_.find(qname);
    behaviour = typed != typed_.end()        ? typed->second
                : found != behaviours_.end() ? found->second
                                             : default_;
  }
  Response response;
  response.delay = behaviour.delay;

  ReplySpec spec;
  spec.id = ldns_pkt_id(query.get());
  spec.authoritative = behaviour.authoritative;
  spec.authority = record_lines(behaviour.authority, qname);
  using Kind = FakeDnsBehaviour::Kind;
  switch (behaviour.kind) {
    case Kind::Answer:
      spec.rrs = record_lines(behaviour.records, qname);
      break;
    case Kind::Rcode:
      spec.rcode = behaviour.rcode;
      break;
    case Kind::Bogus:
      if (ldns_pkt_cd(query.get())) {
        spec.rrs = record_lines(behaviour.records, qname);
      } else {
        spec.rcode = 2;  // SERVFAIL
      }
      break;
    case Kind::Silent:
      return response;
    case Kind::WrongId: {
      spec.rrs = record_lines(behaviour.records, qname);
      ReplySpec wrong = spec;
      wrong.id = static_cast<std::uint16_t>(spec.id + 1);
      response.replies.push_back(build_reply(query.get(), wrong));
      if (behaviour.then_answer) {
        response.replies.push_back(build_reply(query.get(), spec));
      }
      return response;
    }
    case Kind::WrongQuestion:
      spec.question_name = absolute(behaviour.other_name);
      break;
    case Kind::Truncated:
      if (!over_tcp || behaviour.over_tcp == FakeDnsBehaviour::OverTcp::Truncated) {
        spec.truncated = true;
      } else if (behaviour.over_tcp == FakeDnsBehaviour::OverTcp::Silent) {
        return response;
      } else if (behaviour.over_tcp == FakeDnsBehaviour::OverTcp::Close) {
        response.close = true;
        return response;
      } else {
        spec.rrs = record_lines(behaviour.records, qname);
      }
      break;
    case Kind::Garbage:
      response.replies.push_back(garbage(query.get()));
      return response;
    case Kind::Cname: {
      std::string owner = qname;
      for (const auto& name : behaviour.chain) {
        const std::string target = absolute(name);
        std::string line = owner;
        line += " 300 IN CNAME ";
        line += target;
        spec.rrs.push_back(std::move(line));
        owner = target;
      }
      const auto finals = record_lines(behaviour.records, owner);
      spec.rrs.insert(spec.rrs.end(), finals.begin(), finals.end());
      break;
    }
  }
  response.replies.push_back(build_reply(query.get(), spec));
  return response;
}

}  // namespace crosscheck::lab
