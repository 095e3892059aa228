// The tcp check's dialogue (docs/checks.md "send and expect"): connect to
// one resolved address (from the vantage's source), optionally upgrade to
// TLS at once (`tls: true`) or after the protocol's STARTTLS exchange (SMTP,
// IMAP, PostgreSQL's SSLRequest), send `send`, and read until the answer
// matches `expect`. Exactly one completion by the deadline, never inside
// the call; never throws.
#pragma once

#include "config/config.hpp"
#include "consensus/clock.hpp"
#include "probes/app_checks.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace boost::asio::ssl {
class context;
}

namespace crosscheck::probes {

// Bytes of the answer the dialogue reads at most before judging it.
constexpr std::size_t k_tcp_dialogue_limit = 65'536;

void check_tcp_dialogue(boost::asio::io_context& io, const consensus::Clock& clock,
                        std::shared_ptr<boost::asio::ssl::context> tls,
                        const config::TcpCheck& check, const AppRequest& request, AppCallback done);

// Has STARTTLS step `step` of `protocol` been answered in `received`? The
// server's reply that lets the dialogue go on (SMTP: a final "220 " greeting,
// "250 " after EHLO, "220 " after STARTTLS; IMAP: "* OK", "a1 OK"; the
// PostgreSQL SSLRequest: 'S'). `used`, when given, gets where the deciding
// answer ends: bytes after it came unasked. Pure, for tests.
enum class StartTlsReply : std::uint8_t { Wait, Go, Refused };
StartTlsReply starttls_reply(config::StartTls protocol, int step, std::string_view received,
                             std::size_t* used = nullptr);

}  // namespace crosscheck::probes
