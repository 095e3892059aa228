#include "probes/tcp_dialogue.hpp"

#include "net/address.hpp"
#include "net/errors.hpp"
#include "net/tls_client.hpp"
#include "probes/app_judge.hpp"
#include "probes/stopwatch.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/regex.hpp>

#include <array>
#include <vector>

namespace crosscheck::probes {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::size_t k_read_chunk = 4096;
// The PostgreSQL SSLRequest: length 8, code 80877103.
constexpr std::array<char, 8> k_pg_ssl_request{0,    0,   0, 8, 0x04, static_cast<char>(0xd2),
                                               0x16, 0x2f};

// What the dialogue sends before waiting at each STARTTLS step.
std::vector<std::string> starttls_sends(config::StartTls protocol) {
  switch (protocol) {
    case config::StartTls::Smtp:
      return {"", "EHLO crosscheck\r\n", "STARTTLS\r\n"};
    case config::StartTls::Imap:
      return {"", "a1 STARTTLS\r\n"};
    case config::StartTls::Postgres:
      return {std::string(k_pg_ssl_request.data(), k_pg_ssl_request.size())};
    case config::StartTls::None:
      break;
  }
  return {};
}

// The complete lines of `text` ("...\r\n" or "...\n"), without their ends.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t end = text.find('\n'); end != std::string_view::npos;
       end = text.find('\n', start)) {
    auto line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    out.push_back(line);
    start = end + 1;
  }
  return out;
}

// SMTP: the final line of a reply ("250 ok" after "250-PIPELINING") with
// `code`: Go; another final code: Refused; none yet: Wait.
// Where `line` (a view into `text`) ends, its line feed included.
std::size_t end_of(std::string_view text, std::string_view line) {
  return text.find('\n', static_cast<std::size_t>(line.data() - text.data())) + 1;
}

StartTlsReply smtp_reply(std::string_view received, std::string_view code, std::size_t& used) {
  for (const auto line : lines_of(received)) {
    const bool final_line = line.size() >= 4 && line[3] == ' ';
    const bool coded = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) != 0;
    if (coded && (final_line || line.size() == 3)) {
      used = end_of(received, line);
      return line.substr(0, 3) == code ? StartTlsReply::Go : StartTlsReply::Refused;
    }
    if (!coded) {
      return StartTlsReply::Refused;  // not SMTP
    }
  }
  return StartTlsReply::Wait;
}

StartTlsReply imap_reply(int step, std::string_view received, std::size_t& used) {
  for (const auto line : lines_of(received)) {
    used = end_of(received, line);
    if (step == 0) {
      if (line.starts_with("* OK") || line.starts_with("* PREAUTH")) {
        return StartTlsReply::Go;
      }
      return StartTlsReply::Refused;  // "* BYE", or not IMAP
    }
    if (line.starts_with("a1 OK")) {
      return StartTlsReply::Go;
    }
    if (line.starts_with("a1 ") || !line.starts_with("* ")) {
      return StartTlsReply::Refused;  // a1 NO, a1 BAD
    }
  }
  return StartTlsReply::Wait;
}

class TcpDialogue : public std::enable_shared_from_this<TcpDialogue> {
 public:
  TcpDialogue(asio::io_context& io, const consensus::Clock& clock,
              std::shared_ptr<ssl::context> tls, config::TcpCheck check, AppRequest request,
              AppCallback done)
      : tls_context_(std::move(tls)),
        stream_(io, *tls_context_),
        timer_(io),
        check_(std::move(check)),
        request_(std::move(request)),
        done_(std::move(done)),
        stopwatch_(clock),
        clock_(clock),
        where_(config::Endpoint{request_.address, check_.port}.to_string()),
        steps_(starttls_sends(check_.starttls)) {}

  void start() {
    stopwatch_.restart();
    if (check_.expect) {
      try {
        expect_ = boost::regex(*check_.expect, boost::regex::ECMAScript);
      } catch (const boost::regex_error& e) {
        // check-config refuses it first; a config from elsewhere gets this.
        return finish(reach_result(ReachFailure::ObserverBodyCheck,
                                   "observer: invalid expect regex: " + std::string(e.what())));
      }
    }
    auto& socket = stream_.next_layer();
    const auto target = net::tcp_endpoint(request_.address, check_.port);
    error_code ec;
    socket.open(target.protocol(), ec);
    if (!ec && request_.source) {
      socket.bind(tcp::endpoint(net::to_asio(*request_.source), 0), ec);
    }
    if (ec) {
      return finish(connect_failed(connect_failure(ec, false), where_, net::describe(ec)));
    }
    timer_.expires_at(request_.deadline);
    timer_.async_wait([self = shared_from_this()](error_code wait_ec) {
      if (!wait_ec) {
        self->timed_out_ = true;
        error_code ignored;
        self->stream_.next_layer().cancel(ignored);
      }
    });
    socket.async_connect(target, [self = shared_from_this()](error_code done) {
      if (done) {
        return self->finish(connect_failed(connect_failure(done, self->timed_out_), self->where_,
                                           net::describe(done)));
      }
      self->next_step();
    });
  }

 private:
  // STARTTLS steps, then TLS, then the check's own send and expect.
  void next_step() {
    if (step_ < steps_.size()) {
      received_.clear();
      return write(steps_[step_], [](TcpDialogue& self) { self.read(); });
    }
    if ((check_.tls || !steps_.empty()) && !in_tls_) {
      return handshake();
    }
    received_.clear();
    dialogue_ = true;
    write(check_.send.value_or(""), [](TcpDialogue& self) {
      if (!self.check_.expect) {
        return self.finish_up(self.check_.send
                                  ? "sent " + std::to_string(self.check_.send->size()) + " bytes"
                                  : std::string("handshake done"));
      }
      self.read();
    });
  }

  template <typename Then>
  void write(const std::string& bytes, Then then) {
    if (bytes.empty()) {
      return then(*this);
    }
    out_ = bytes;
    auto done = [self = shared_from_this(), then](error_code ec, std::size_t) {
      if (ec) {
        return self->io_failed(ec, "sending");
      }
      then(*self);
    };
    if (in_tls_) {
      asio::async_write(stream_, asio::buffer(out_), done);
    } else {
      asio::async_write(stream_.next_layer(), asio::buffer(out_), done);
    }
  }

  void read() {
    auto done = [self = shared_from_this()](error_code ec, std::size_t bytes) {
      self->on_read(ec, bytes);
    };
    if (in_tls_) {
      stream_.async_read_some(asio::buffer(chunk_), done);
    } else {
      stream_.next_layer().async_read_some(asio::buffer(chunk_), done);
    }
  }

  void on_read(error_code ec, std::size_t bytes) {
    received_.append(chunk_.data(), std::min(bytes, k_tcp_dialogue_limit - received_.size()));
    if (!dialogue_) {
      std::size_t used = 0;
      const auto reply = starttls_reply(check_.starttls, static_cast<int>(step_), received_, &used);
      if (reply == StartTlsReply::Refused) {
        return finish(app_failed(ReachFailure::AppError, "tcp", where_,
                                 "refused STARTTLS: " + printable(received_)));
      }
      if (reply == StartTlsReply::Go) {
        // Anything after the answer that lets TLS start arrived in plain
        // text and would be read as if it came through TLS.
        if (step_ + 1 == steps_.size() && used != received_.size()) {
          return finish(app_failed(ReachFailure::AppError, "tcp", where_,
                                   "sent bytes after its STARTTLS answer, before TLS (refused: "
                                   "they would pass as encrypted)"));
        }
        ++step_;
        return next_step();
      }
    } else if (boost::regex_search(received_, *expect_)) {
      return finish_up("answered " + printable(received_));
    }
    if (ec) {
      return io_failed(ec, "reading");
    }
    if (received_.size() >= k_tcp_dialogue_limit) {
      return finish(app_failed(ReachFailure::AppError, "tcp", where_,
                               "answered " + std::to_string(received_.size()) +
                                   " bytes without matching " + expectation()));
    }
    read();
  }

  void handshake() {
    SSL* handle = stream_.native_handle();
    const auto host = request_.host.empty() ? request_.address.to_string() : request_.host;
    const auto setup = check_.tls_verify ? net::require_server_identity(handle, host)
                                         : net::set_server_name(handle, host);
    if (setup) {
      return finish(tls_failed(ReachFailure::TlsSetup, setup.message()));
    }
    if (!check_.tls_verify) {
      SSL_set_verify(handle, SSL_VERIFY_NONE, nullptr);
    }
    stream_.async_handshake(ssl::stream_base::client, [self = shared_from_this()](error_code ec) {
      if (ec) {
        return self->handshake_failed(ec);
      }
      self->in_tls_ = true;
      SSL* ssl_handle = self->stream_.native_handle();
      self->tls_info_ = TlsInfo{SSL_get_version(ssl_handle),
                                net::cert_days_left(ssl_handle, self->clock_.system()),
                                wall_time(net::cert_not_after(ssl_handle))};
      self->next_step();
    });
  }

  void handshake_failed(const error_code& ec) {
    if (timed_out_) {
      return finish(tls_failed(ReachFailure::TlsHandshake, "timed out"));
    }
    const long verify =
        check_.tls_verify ? SSL_get_verify_result(stream_.native_handle()) : long{X509_V_OK};
    // A refused certificate is still the one to watch (cert_expiring).
    if (const auto not_after = wall_time(net::cert_not_after(stream_.native_handle()))) {
      tls_info_ = TlsInfo{"", std::nullopt, not_after};
    }
    if (verify != X509_V_OK) {
      return finish(certificate_refused(net::classify_tls_failure({}, verify),
                                        X509_verify_cert_error_string(verify)));
    }
    std::string reason = ec.message();
    if (ec.category() == asio::error::get_ssl_category()) {
      if (const char* text = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) {
        reason = text;
      }
    }
    finish(tls_failed(ReachFailure::TlsHandshake, reason));
  }

  void io_failed(const error_code& ec, std::string_view step) {
    if (timed_out_) {
      const std::string what = dialogue_ && check_.expect
                                   ? "did not answer " + expectation() + " within the timeout"
                                   : "did not finish STARTTLS within the timeout";
      return finish(
          app_failed(ReachFailure::AppTimeout, "tcp", where_,
                     received_.empty() ? what : what + " (got " + printable(received_) + ")"));
    }
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
      return finish(app_failed(
          ReachFailure::AppError, "tcp", where_,
          "closed the connection" +
              (received_.empty() ? std::string(" without answering")
                                 : " after " + printable(received_)) +
              (dialogue_ && check_.expect ? ", expected " + expectation() : std::string())));
    }
    finish(app_failed(ReachFailure::AppError, "tcp", where_,
                      std::string(step) + " failed: " + net::describe(ec)));
  }

  std::string expectation() const { return "/" + check_.expect.value_or("") + "/"; }

  // The answer for a detail: one line of printable text, at most 80 characters.
  static std::string printable(std::string_view bytes) {
    constexpr std::size_t k_shown = 80;
    std::string out = "'";
    for (const char c : bytes.substr(0, k_shown)) {
      const auto u = static_cast<unsigned char>(c);
      out += (u >= ' ' && u < 0x7f) ? c : (c == '\r' || c == '\n' ? ' ' : '?');
    }
    return out + (bytes.size() > k_shown ? "...'" : "'");
  }

  void finish_up(const std::string& what) {
    auto result = reach_result(
        ReachFailure::None,
        "tcp: " + where_ + (in_tls_ ? " (" + tls_info_->version + ")" : "") + " " + what);
    finish(std::move(result));
  }

  void finish(ReachResult result) {
    if (finished_) {
      return;
    }
    finished_ = true;
    timer_.cancel();
    error_code ignored;
    stream_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.next_layer().close(ignored);
    result.latency_ms = stopwatch_.elapsed_ms();
    if (tls_info_) {
      result.tls = tls_info_;
    }
    done_(std::move(result));
  }

  std::shared_ptr<ssl::context> tls_context_;
  ssl::stream<tcp::socket> stream_;
  asio::steady_timer timer_;
  config::TcpCheck check_;
  AppRequest request_;
  AppCallback done_;
  Stopwatch stopwatch_;
  const consensus::Clock& clock_;
  std::string where_;
  std::vector<std::string> steps_;
  std::size_t step_ = 0;
  std::optional<boost::regex> expect_;
  std::string out_;
  std::string received_;
  std::array<char, k_read_chunk> chunk_{};
  std::optional<TlsInfo> tls_info_;
  bool in_tls_ = false;
  bool dialogue_ = false;  // past STARTTLS and TLS: the check's own send and expect
  bool timed_out_ = false;
  bool finished_ = false;
};

}  // namespace

StartTlsReply starttls_reply(config::StartTls protocol, int step, std::string_view received,
                             std::size_t* used) {
  std::size_t ignored = 0;
  std::size_t& end = used != nullptr ? *used : ignored;
  switch (protocol) {
    case config::StartTls::Smtp:
      return smtp_reply(received, step == 1 ? "250" : "220", end);
    case config::StartTls::Imap:
      return imap_reply(step, received, end);
    case config::StartTls::Postgres:
      if (received.empty()) {
        return StartTlsReply::Wait;
      }
      end = 1;
      return received.front() == 'S' ? StartTlsReply::Go : StartTlsReply::Refused;
    case config::StartTls::None:
      break;
  }
  return StartTlsReply::Go;
}

void check_tcp_dialogue(asio::io_context& io, const consensus::Clock& clock,
                        std::shared_ptr<ssl::context> tls, const config::TcpCheck& check,
                        const AppRequest& request, AppCallback done) {
  auto session =
      std::make_shared<TcpDialogue>(io, clock, std::move(tls), check, request, std::move(done));
  asio::post(io, [session] { session->start(); });
}

}  // namespace crosscheck::probes
