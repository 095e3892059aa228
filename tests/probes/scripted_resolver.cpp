#include "scripted_resolver.hpp"
#include "probes/ldns_owners.hpp"

#include "net/address.hpp"

#include <ldns/ldns.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <system_error>

namespace crosscheck::testing {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;

constexpr std::size_t k_max_message = 65535;
constexpr int k_bind_attempts = 8;  // a port free for both UDP and TCP
constexpr std::size_t k_cut = 3;    // bytes cut off a "cut short" reply

using crosscheck::probes::FreeDeleter;
using crosscheck::probes::PktPtr;
using crosscheck::probes::RrPtr;

RrPtr record(const std::string& line, bool question) {
  ldns_rr* raw = nullptr;
  const ldns_status status =
      question ? ldns_rr_new_question_frm_str(&raw, line.c_str(), nullptr, nullptr)
               : ldns_rr_new_frm_str(&raw, line.c_str(), 0, nullptr, nullptr);
  if (status != LDNS_STATUS_OK) {
    throw std::runtime_error("scripted resolver: bad record " + line);
  }
  return RrPtr(raw);
}

std::string owner_of(const ldns_rr* question) {
  const std::unique_ptr<char, FreeDeleter> text(ldns_rdf2str(ldns_rr_owner(question)));
  return text ? std::string(text.get()) : std::string(".");
}

// A reply to `query` with `id`; `question` empty echoes the query's own.
std::vector<std::uint8_t> reply(const ldns_pkt* query, std::uint16_t id,
                                const std::string& question, bool truncated,
                                const std::string& answer) {
  const PktPtr packet(ldns_pkt_new());
  ldns_pkt_set_id(packet.get(), id);
  ldns_pkt_set_qr(packet.get(), true);
  ldns_pkt_set_rd(packet.get(), true);
  ldns_pkt_set_ra(packet.get(), true);
  ldns_pkt_set_tc(packet.get(), truncated);
  const ldns_rr* asked = ldns_rr_list_rr(ldns_pkt_question(query), 0);
  RrPtr echoed = question.empty() ? RrPtr(ldns_rr_clone(asked)) : record(question, true);
  if (ldns_pkt_push_rr(packet.get(), LDNS_SECTION_QUESTION, echoed.get())) {
    static_cast<void>(echoed.release());
  }
  if (!answer.empty()) {
    RrPtr rr = record(answer, false);
    if (ldns_pkt_push_rr(packet.get(), LDNS_SECTION_ANSWER, rr.get())) {
      static_cast<void>(rr.release());
    }
  }
  std::uint8_t* raw = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&raw, packet.get(), &size) != LDNS_STATUS_OK) {
    throw std::runtime_error("scripted resolver: cannot encode a reply");
  }
  const std::unique_ptr<std::uint8_t, FreeDeleter> wire(raw);
  return {wire.get(), wire.get() + size};
}

std::vector<std::uint8_t> message(Scripted kind, const ldns_pkt* query) {
  const std::uint16_t id = ldns_pkt_id(query);
  const std::string name = owner_of(ldns_rr_list_rr(ldns_pkt_question(query), 0));
  const std::string wrong = name + " 60 IN A 192.0.2.66";
  switch (kind) {
    case Scripted::OtherQuestionCutShort: {
      auto bytes =
          reply(query, id, "other.example. IN A", false, "other.example. 60 IN A 192.0.2.66");
      bytes.resize(bytes.size() - k_cut);
      return bytes;
    }
    case Scripted::ShortGarbage:
      return {0x13, 0x37, 0xDE, 0xAD, 0x01};
    case Scripted::OursUnparseable: {
      std::vector<std::uint8_t> bytes{static_cast<std::uint8_t>(id >> 8U),
                                      static_cast<std::uint8_t>(id & 0xFFU),
                                      0x81,
                                      0x80,
                                      0,
                                      1,
                                      0,
                                      1,
                                      0,
                                      0,
                                      0,
                                      0};                         // QR RD RA, 1 q, 1 an
      bytes.insert(bytes.end(), {0xC0, 0xFF, 0x3F, 0x01, 0x02});  // a pointer to nowhere
      return bytes;
    }
    case Scripted::OursCutShort: {
      auto bytes = reply(query, id, "", false, wrong);
      bytes.resize(bytes.size() - k_cut);
      return bytes;
    }
    case Scripted::WrongId:
      return reply(query, static_cast<std::uint16_t>(id + 1), "", false, wrong);
    case Scripted::FromOtherPort:
      return reply(query, id, "", false, wrong);
    case Scripted::Truncated:
      return reply(query, id, "", true, "");
    case Scripted::Answer:
      break;
  }
  return reply(query, id, "", false, name + " 60 IN A 192.0.2.1");
}

PktPtr parse_query(const std::uint8_t* bytes, std::size_t size) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, bytes, size) != LDNS_STATUS_OK || ldns_pkt_qdcount(raw) != 1) {
    ldns_pkt_free(raw);
    return nullptr;
  }
  return PktPtr(raw);
}

}  // namespace

ScriptedResolver::ScriptedResolver(asio::io_context& io, std::string_view address,
                                   std::vector<Scripted> over_udp, std::vector<Scripted> over_tcp)
    : udp_(io),
      other_port_(io),
      acceptor_(io),
      connection_(io),
      over_udp_(std::move(over_udp)),
      over_tcp_(std::move(over_tcp)),
      buffer_(k_max_message) {
  const auto ip = net::to_asio(*config::IpAddress::parse(address));
  for (int attempt = 1;; ++attempt) {
    udp_ = udp::socket(io, udp::endpoint(ip, 0));
    if (over_tcp_.empty()) {
      break;
    }
    error_code ec;
    acceptor_ = tcp::acceptor(io);
    acceptor_.open(ip.is_v4() ? tcp::v4() : tcp::v6(), ec);
    if (!ec) {
      acceptor_.bind(tcp::endpoint(ip, udp_.local_endpoint().port()), ec);
    }
    if (!ec) {
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (!ec) {
      break;
    }
    if (attempt == k_bind_attempts) {
      throw std::system_error(ec, "scripted resolver: no port free for both UDP and TCP");
    }
  }
  other_port_ = udp::socket(io, udp::endpoint(ip, 0));

  udp_.async_receive_from(asio::buffer(buffer_), client_, [this](error_code ec, std::size_t size) {
    if (!ec) {
      on_udp_query(size);
    }
  });
  if (!over_tcp_.empty()) {
    acceptor_.async_accept(connection_, [this](error_code ec) {
      if (ec) {
        return;
      }
      asio::async_read(connection_, asio::buffer(length_), [this](error_code read_ec, std::size_t) {
        if (!read_ec) {
          on_tcp_length();
        }
      });
    });
  }
}

config::Endpoint ScriptedResolver::endpoint() const {
  return {net::from_asio(udp_.local_endpoint().address()), udp_.local_endpoint().port()};
}

// Sends the whole script at once: the client finds the datagrams queued in
// order, so "strays first, the answer last" needs no timing at all.
void ScriptedResolver::on_udp_query(std::size_t size) {
  ++udp_queries_;
  const auto query = parse_query(buffer_.data(), size);
  if (!query) {
    return;
  }
  for (const auto kind : over_udp_) {
    const auto bytes = message(kind, query.get());
    auto& socket = kind == Scripted::FromOtherPort ? other_port_ : udp_;
    error_code ignored;
    socket.send_to(asio::buffer(bytes), client_, 0, ignored);
  }
}

void ScriptedResolver::on_tcp_length() {
  const std::size_t length = (static_cast<std::size_t>(length_[0]) << 8U) | length_[1];
  buffer_.resize(length);
  asio::async_read(connection_, asio::buffer(buffer_), [this](error_code ec, std::size_t) {
    if (!ec) {
      on_tcp_query();
    }
  });
}

// Every scripted message length-prefixed in one write, then the connection
// closes (FIN after the data): what the client sees after the script is EOF.
void ScriptedResolver::on_tcp_query() {
  ++tcp_queries_;
  const auto query = parse_query(buffer_.data(), buffer_.size());
  if (!query) {
    return;
  }
  for (const auto kind : over_tcp_) {
    const auto bytes = message(kind, query.get());
    tcp_out_.push_back(static_cast<std::uint8_t>(bytes.size() >> 8U));
    tcp_out_.push_back(static_cast<std::uint8_t>(bytes.size() & 0xFFU));
    tcp_out_.insert(tcp_out_.end(), bytes.begin(), bytes.end());
  }
  asio::async_write(connection_, asio::buffer(tcp_out_), [this](error_code, std::size_t) {
    error_code ignored;
    connection_.shutdown(tcp::socket::shutdown_send, ignored);
    connection_.close(ignored);
  });
}

}  // namespace crosscheck::testing
