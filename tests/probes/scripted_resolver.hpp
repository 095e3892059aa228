// A resolver for the replies the lab's fake cannot stage: it answers one
// query with a script of messages in a row (strays first, then perhaps the
// real answer), over UDP and, after a truncated reply, over TCP. It runs on
// the test's io_context and goes idle after its script, so the context runs
// out of work once the query under test completes. Test support only.
#pragma once

#include "config/types.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace crosscheck::testing {

// One message of a script. "Ours" means our id and question; the wrong ones
// carry the address 192.0.2.66, the right answer 192.0.2.1, so a test sees
// at once which one a query believed.
enum class Scripted : std::uint8_t {
  OtherQuestionCutShort,  // our id, another question, answer section cut short (issue 14)
  ShortGarbage,           // five bytes: not even a DNS header
  OursUnparseable,        // our id and QR, then bytes where the question should be
  OursCutShort,           // our id and question, answer section cut short
  WrongId,                // a full answer under another id
  FromOtherPort,          // a full answer of ours, sent from another port (UDP only)
  Truncated,              // ours, TC set, no answers: the client retries over TCP
  Answer,                 // the right answer: A 192.0.2.1
};

class ScriptedResolver {
 public:
  // Binds UDP (and TCP when `over_tcp` is not empty) on `address`, one port
  // for both; answers the first query with `over_udp`, the first TCP query
  // with `over_tcp` and then closes that connection. Throws when it cannot bind.
  ScriptedResolver(boost::asio::io_context& io, std::string_view address,
                   std::vector<Scripted> over_udp, std::vector<Scripted> over_tcp = {});

  config::Endpoint endpoint() const;
  int udp_queries() const { return udp_queries_; }
  int tcp_queries() const { return tcp_queries_; }

 private:
  void on_udp_query(std::size_t size);
  void on_tcp_length();
  void on_tcp_query();

  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::udp::socket other_port_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::socket connection_;
  boost::asio::ip::udp::endpoint client_;
  std::vector<Scripted> over_udp_;
  std::vector<Scripted> over_tcp_;
  std::vector<std::uint8_t> buffer_;
  std::array<std::uint8_t, 2> length_{};
  std::vector<std::uint8_t> tcp_out_;
  int udp_queries_ = 0;
  int tcp_queries_ = 0;
};

}  // namespace crosscheck::testing
