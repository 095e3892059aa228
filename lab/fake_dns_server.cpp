#include "lab/fake_dns_server.hpp"

#include "base/ascii.hpp"

#include "net/address.hpp"

#include <ldns/ldns.h>

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <system_error>

namespace crosscheck::lab {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;

constexpr std::size_t k_max_message = 65535;
// UDP takes a free port first; TCP may find that port taken and then both
// start over.
constexpr int k_bind_attempts = 8;
constexpr std::size_t k_garbage_bytes = 24;

struct PktDeleter {
  void operator()(ldns_pkt* packet) const { ldns_pkt_free(packet); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktDeleter>;

struct RrDeleter {
  void operator()(ldns_rr* rr) const { ldns_rr_free(rr); }
};
using RrPtr = std::unique_ptr<ldns_rr, RrDeleter>;

struct FreeDeleter {
  // NOLINTNEXTLINE(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
  void operator()(void* memory) const { std::free(memory); }
};

std::string absolute(std::string_view name) {
  std::string text = ascii::lower(name);
  if (text.empty() || text.back() != '.') {
    text += '.';
  }
  return text;
}

std::string name_text(const ldns_rdf* rdf) {
  const std::unique_ptr<char, FreeDeleter> text(ldns_rdf2str(rdf));
  return text ? ascii::lower(text.get()) : std::string();
}

RrPtr parse_record(const std::string& line) {
  ldns_rr* raw = nullptr;
  if (ldns_rr_new_frm_str(&raw, line.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
    return nullptr;  // ldns frees what it allocated on failure
  }
  return RrPtr(raw);
}

// What one reply looks like; built into wire format by build_reply().
struct ReplySpec {
  std::uint16_t id = 0;
  int rcode = 0;
  bool truncated = false;
  bool authoritative = false;          // AA
  std::string question_name;           // empty: echo the query's question
  std::vector<std::string> rrs;        // zone-file lines for the answer section
  std::vector<std::string> authority;  // and for the authority section
};

std::vector<std::uint8_t> build_reply(const ldns_pkt* query, const ReplySpec& spec) {
  const PktPtr reply(ldns_pkt_new());
  if (!reply) {
    return {};
  }
  ldns_pkt_set_id(reply.get(), spec.id);
  ldns_pkt_set_qr(reply.get(), true);
  ldns_pkt_set_rd(reply.get(), ldns_pkt_rd(query));
  ldns_pkt_set_ra(reply.get(), true);
  ldns_pkt_set_tc(reply.get(), spec.truncated);
  ldns_pkt_set_aa(reply.get(), spec.authoritative);
  ldns_pkt_set_rcode(reply.get(), static_cast<std::uint8_t>(spec.rcode & 0x0F));
  if (ldns_pkt_edns_udp_size(query) > 0 || spec.rcode > 0x0F) {
    ldns_pkt_set_edns_udp_size(reply.get(), 1232);
    ldns_pkt_set_edns_extended_rcode(reply.get(), static_cast<std::uint8_t>(spec.rcode >> 4));
  }

  const ldns_rr* asked = ldns_rr_list_rr(ldns_pkt_question(query), 0);
  RrPtr question(ldns_rr_clone(asked));
  if (!spec.question_name.empty()) {
    ldns_rr* raw = nullptr;
    const std::unique_ptr<char, FreeDeleter> type(ldns_rr_type2str(ldns_rr_get_type(asked)));
    const std::string line = spec.question_name + " IN " + type.get();
    if (ldns_rr_new_question_frm_str(&raw, line.c_str(), nullptr, nullptr) == LDNS_STATUS_OK) {
      question.reset(raw);
    }
  }
  if (question && ldns_pkt_push_rr(reply.get(), LDNS_SECTION_QUESTION, question.get())) {
    static_cast<void>(question.release());  // owned by the packet now
  }
  for (const auto& [lines, section] : {std::pair{&spec.rrs, LDNS_SECTION_ANSWER},
                                       std::pair{&spec.authority, LDNS_SECTION_AUTHORITY}}) {
    for (const auto& line : *lines) {
      RrPtr rr = parse_record(line);  // checked in set(): never null here
      if (rr && ldns_pkt_push_rr(reply.get(), section, rr.get())) {
        static_cast<void>(rr.release());
      }
    }
  }

  std::uint8_t* raw_wire = nullptr;
  std::size_t size = 0;
  const ldns_status written = ldns_pkt2wire(&raw_wire, reply.get(), &size);
  const std::unique_ptr<std::uint8_t, FreeDeleter> wire(raw_wire);
  if (written != LDNS_STATUS_OK || !wire) {
    return {};
  }
  return {wire.get(), wire.get() + size};
}

// The header (right id, QR set) and the query's own question, then 24
// (seeded, reproducible) random bytes where the header promises 257 answers
// they cannot hold: a client must parse past the question to reject it, and
// it never parses by accident. The question is copied from the query's bytes
// so that it always matches; random bytes there would sometimes spell a
// question of their own (a "wrong question", not a malformed reply).
std::vector<std::uint8_t> garbage(const std::vector<std::uint8_t>& query) {
  constexpr std::size_t k_header = 12;
  constexpr std::size_t k_type_and_class = 4;
  std::size_t end = k_header;  // the query's name: labels up to the root
  while (end < query.size() && query[end] != 0) {
    end += 1U + query[end];
  }
  end += 1U + k_type_and_class;
  if (query.size() < end) {
    return {};
  }
  std::vector<std::uint8_t> bytes(k_header);  // id, flags, four counts
  bytes[0] = query[0];
  bytes[1] = query[1];
  bytes[2] = 0x81;  // QR, RD
  bytes[3] = 0x80;  // RA
  bytes[5] = 1;     // QDCOUNT 1
  bytes[6] = 1;     // ANCOUNT 257
  bytes[7] = 1;
  bytes.insert(bytes.end(), query.begin() + static_cast<std::ptrdiff_t>(k_header),
               query.begin() + static_cast<std::ptrdiff_t>(end));
  std::mt19937 random(static_cast<unsigned>(query[0]) << 8U | query[1]);
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t i = 0; i < k_garbage_bytes; ++i) {
    bytes.push_back(static_cast<std::uint8_t>(byte(random)));
  }
  return bytes;
}

std::vector<std::string> record_lines(const std::vector<FakeRecord>& records,
                                      const std::string& owner) {
  std::vector<std::string> lines;
  lines.reserve(records.size());
  for (const auto& record : records) {
    lines.push_back((record.owner.empty() ? owner : absolute(record.owner)) + " " +
                    std::to_string(record.ttl) + " IN " + record.type + " " + record.data);
  }
  return lines;
}

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
      response.replies.push_back(garbage(bytes));
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
