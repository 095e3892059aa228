// `crosscheck gate`: asks every oracle at once (one io_context, one deadline
// for the whole run) and turns the answers into an exit status. Exit 0 needs
// an answer that checks out field by field; anything doubtful is a hold.
#include "daemon/gate_command.hpp"

#include "config/secret_file.hpp"
#include "config/types.hpp"
#include "consensus/time_format.hpp"
#include "daemon/api_target.hpp"
#include "daemon/cli_options.hpp"
#include "net/address.hpp"
#include "net/errors.hpp"
#include "probes/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string_view>
#include <utility>

namespace crosscheck::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace po = boost::program_options;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::string_view k_default_oracle = "http://127.0.0.1:9470";
constexpr std::string_view k_default_timeout = "5s";
constexpr std::size_t k_max_oracles = 16;
constexpr config::Duration k_gate_reserve{1000};   // kept for the gate after a recheck
constexpr std::size_t k_body_limit = 1024 * 1024;  // one verdict with evidence fits easily
constexpr std::size_t k_header_limit = 16 * 1024;
constexpr std::size_t k_max_quoted = 200;  // server text quoted in an output line
constexpr std::string_view k_user_agent = "crosscheck-gate/" CROSSCHECK_VERSION;

enum class Outcome : std::uint8_t { Proceed, Otherwise, Hold, Unreachable };

struct OracleResult {
  Outcome outcome = Outcome::Hold;
  std::string detail;  // the line after "proceed: ", "hold: ", ...
};

struct GatePlan {
  std::string target;
  std::string expect;  // "healthy" or "unhealthy"
  std::optional<config::Duration> stable_for;
  std::optional<std::uint64_t> generation;
  std::vector<config::Url> oracles;
  std::size_t require = 0;
  bool recheck = false;
  config::Duration timeout{};
  std::string token;  // empty: no Authorization header
};

// ---- Text ------------------------------------------------------------------

// Server text on one line: control characters become spaces, long text is cut.
std::string quote(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, k_max_quoted)) {
    const auto byte = static_cast<unsigned char>(c);
    out += byte < 0x20 || byte == 0x7f ? ' ' : c;
  }
  return text.size() > k_max_quoted ? out + "..." : out;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string authority(const config::Url& url) {
  std::string out = url.host.find(':') == std::string::npos ? url.host : "[" + url.host + "]";
  return out + ":" + std::to_string(url.port);
}

// The oracle's base path without its trailing slash, then `path`.
std::string oracle_target(const config::Url& oracle, std::string_view path) {
  std::string base = oracle.target;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base + std::string(path);
}

std::string gate_target(const GatePlan& plan, const config::Url& oracle) {
  std::string query = "?expect=" + percent_encode(plan.expect);
  if (plan.generation) {
    query += "&generation=" + std::to_string(*plan.generation);
  }
  if (plan.stable_for) {
    query += "&stable_for=" + percent_encode(config::format_duration(*plan.stable_for));
  }
  return oracle_target(oracle, "/v1/verdicts/" + percent_encode(plan.target)) + query;
}

// The recheck must answer in time for the gate to be asked too: it gets the
// run's timeout less a reserve (half of it, at most 1s). Example: --timeout 5s
// sends timeout=4s; the oracle caps it at its own maximum.
std::string recheck_target(const GatePlan& plan, const config::Url& oracle) {
  const auto reserve = std::min(plan.timeout / 2, k_gate_reserve);
  const auto budget = std::max(plan.timeout - reserve, config::Duration{1});
  return oracle_target(oracle, "/v1/verdicts/" + percent_encode(plan.target) + "/recheck") +
         "?timeout=" + config::format_duration(budget);
}

// ---- Judging one answer (pure) ----------------------------------------------

// The fields of a verdict answer; each is empty when absent or mistyped.
struct Answer {
  std::optional<std::string> target;
  std::optional<std::string> verdict;
  std::optional<std::string> held;
  std::optional<std::string> since;
  std::optional<std::string> valid_until;
  std::optional<std::string> reason;
  std::optional<std::string> gate_expect;
  std::optional<std::string> gate_decision;
  std::optional<std::string> gate_reason;
  std::optional<bool> fresh;
  std::optional<std::uint64_t> generation;
};

std::optional<std::string> string_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    return std::nullopt;
  }
  return std::string(value->get_string());
}

// The answer's fields, or why the body is not a JSON object.
std::optional<Answer> parse_answer(std::string_view body, std::string& why) {
  error_code ec;
  const json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) {
    why = ec ? "malformed JSON (" + ec.message() + ")" : "the answer is not a JSON object";
    return std::nullopt;
  }
  const auto& object = value.get_object();
  Answer answer;
  answer.target = string_at(object, "target");
  answer.verdict = string_at(object, "verdict");
  answer.held = string_at(object, "held");
  answer.since = string_at(object, "since");
  answer.valid_until = string_at(object, "valid_until");
  answer.reason = string_at(object, "reason");
  if (const auto* fresh = object.if_contains("fresh"); fresh != nullptr && fresh->is_bool()) {
    answer.fresh = fresh->get_bool();
  }
  if (const auto* generation = object.if_contains("generation"); generation != nullptr) {
    if (generation->is_uint64()) {
      answer.generation = generation->get_uint64();
    } else if (generation->is_int64() && generation->get_int64() >= 0) {
      answer.generation = static_cast<std::uint64_t>(generation->get_int64());
    }
  }
  if (const auto* gate = object.if_contains("gate"); gate != nullptr && gate->is_object()) {
    answer.gate_expect = string_at(gate->get_object(), "expect");
    answer.gate_decision = string_at(gate->get_object(), "decision");
    answer.gate_reason = string_at(gate->get_object(), "reason");
  }
  return answer;
}

std::string field(const std::optional<std::string>& value) {
  return value ? quote(*value) : std::string("?");
}

// "disputed (holding healthy): 1 of 3 domains down (quad9); verdict disputed".
std::string describe_hold(const Answer& answer, std::optional<std::uint64_t> expected = {}) {
  std::string out = field(answer.verdict);
  if (answer.verdict == "disputed" || answer.verdict == "unknown") {
    out += answer.held ? " (holding " + quote(*answer.held) + ")" : " (nothing confirmed to hold)";
  }
  if (answer.generation) {
    out += ", generation " + std::to_string(*answer.generation);
    if (expected && *expected != *answer.generation) {
      out += " (expected " + std::to_string(*expected) + ")";
    }
  }
  if (answer.reason && !answer.reason->empty()) {
    out += ": " + quote(*answer.reason);
  }
  if (answer.gate_reason && !answer.gate_reason->empty() && answer.gate_reason != answer.reason) {
    out += "; " + quote(*answer.gate_reason);
  }
  return out;
}

// Why a confirmed answer cannot be trusted, or nullopt when every field
// checks out. Why so strict: a stale, restored or mislabelled verdict that
// slipped through would move traffic on evidence nobody confirmed.
std::optional<std::string> distrust(const GatePlan& plan, const Answer& answer,
                                    consensus::WallTime now, bool proceeding) {
  if (answer.target != plan.target) {
    return "the answer is for target '" + field(answer.target) + "'";
  }
  if (answer.gate_expect != plan.expect) {
    return "the answer's gate expects '" + field(answer.gate_expect) + "'";
  }
  if (!answer.generation) {
    return std::string("the answer has no generation");
  }
  if (plan.generation && *answer.generation != *plan.generation) {
    return "generation " + std::to_string(*answer.generation) + ", expected " +
           std::to_string(*plan.generation);
  }
  if (answer.fresh != true) {
    return "the verdict is not fresh (restored after a restart, or kept through dispute_grace: "
           "not confirmed by the votes counted now)";
  }
  const auto valid_until = answer.valid_until ? consensus::parse_rfc3339(*answer.valid_until)
                                              : std::optional<consensus::WallTime>{};
  if (!valid_until) {
    return "the answer has no valid valid_until";
  }
  if (*valid_until <= now) {
    return "the verdict expired at " + quote(*answer.valid_until) + " (local clock " +
           consensus::format_rfc3339(now) + ")";
  }
  // A backstop for an oracle that ignored stable_for: since must be old enough.
  const auto since =
      answer.since ? consensus::parse_rfc3339(*answer.since) : std::optional<consensus::WallTime>{};
  if (proceeding && plan.stable_for && (!since || now - *since < *plan.stable_for)) {
    return "the verdict is not stable for " + config::format_duration(*plan.stable_for) +
           " (since " + field(answer.since) + ")";
  }
  return std::nullopt;
}

// "HTTP 429: rate_limited: rechecked 3s ago" from an error body, if any.
std::string describe_refusal(int status, std::string_view body) {
  std::string out = "HTTP " + std::to_string(status);
  error_code ec;
  const json::value value = json::parse(body, ec);
  if (!ec && value.is_object()) {
    for (const std::string_view key : {"error", "detail"}) {
      if (auto text = string_at(value.get_object(), key); text && !text->empty()) {
        out += ": " + quote(*text);
      }
    }
  }
  return out;
}

OracleResult judge_gate_answer(const GatePlan& plan, int status, std::string_view body,
                               consensus::WallTime now) {
  std::string why;
  const auto answer = parse_answer(body, why);
  const std::string http_status = "HTTP " + std::to_string(status);
  if (status != 200 && status != 409) {
    if (answer && answer->verdict) {
      return {Outcome::Hold, (status == 423 ? "" : http_status + ": ") + describe_hold(*answer)};
    }
    return {Outcome::Hold, describe_refusal(status, body)};
  }
  if (!answer) {
    return {Outcome::Hold, http_status + ": " + why};
  }
  const bool ok = status == 200;
  const std::string other = plan.expect == "healthy" ? "unhealthy" : "healthy";
  if (answer->gate_decision != (ok ? "proceed" : "otherwise")) {
    const std::string note = answer->gate_decision == "hold" ? ""
                             : answer->gate_decision         ? http_status + " but decision '" +
                                                           quote(*answer->gate_decision) + "': "
                                                     : http_status + " without a gate decision: ";
    return {Outcome::Hold, note + describe_hold(*answer, plan.generation)};
  }
  if (answer->verdict != (ok ? plan.expect : other)) {
    return {Outcome::Hold, http_status + " (" + field(answer->gate_decision) +
                               ") but the verdict is " + describe_hold(*answer)};
  }
  if (auto problem = distrust(plan, *answer, now, ok); problem) {
    return {Outcome::Hold, *answer->verdict + " but " + *problem};
  }
  std::string detail = *answer->verdict + " (generation " + std::to_string(*answer->generation) +
                       ", since " + field(answer->since) + ")";
  if (!ok && answer->reason && !answer->reason->empty()) {
    detail += ": " + quote(*answer->reason);
  }
  return {ok ? Outcome::Proceed : Outcome::Otherwise, detail};
}

// ---- One oracle over HTTP(S) ------------------------------------------------

using OracleDone = std::function<void(OracleResult)>;

// Optionally POST recheck, then GET the gate; a fresh connection for each.
// Completes exactly once: by the answer, an error, or abort() at the deadline.
class OracleSession : public std::enable_shared_from_this<OracleSession> {
 public:
  OracleSession(asio::io_context& io, ssl::context* tls, const GatePlan& plan,
                const config::Url& oracle, OracleDone done)
      : io_(io),
        tls_context_(tls),
        plan_(plan),
        oracle_(oracle),
        on_done_(std::move(done)),
        resolver_(io),
        recheck_pending_(plan.recheck) {}

  void start() {
    guard([this] {
      if (const auto ip = config::IpAddress::parse(oracle_.host); ip) {
        endpoints_.push_back(net::tcp_endpoint(*ip, oracle_.port));
        return connect();
      }
      resolver_.async_resolve(oracle_.host, std::to_string(oracle_.port),
                              tcp::resolver::numeric_service,
                              beast::bind_front_handler(&OracleSession::on_resolve, self()));
    });
  }

  // The run's deadline passed: whatever is still missing is no answer.
  void abort(const std::string& why) { finish({Outcome::Unreachable, why}); }

 private:
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;

  std::shared_ptr<OracleSession> self() { return shared_from_this(); }

  // Runs a step; an exception (memory, OpenSSL) ends this oracle as a hold.
  template <class Step>
  void guard(Step&& step) noexcept {
    try {
      step();
    } catch (const std::exception& e) {
      fail_internally(e.what());
    } catch (...) {
      fail_internally("unknown exception");
    }
  }

  void fail_internally(const char* what) noexcept {
    try {
      finish({Outcome::Hold, std::string("internal error: ") + what});
    } catch (...) {
      done_ = true;  // the result slot stays empty and counts as a hold
    }
  }

  void finish(OracleResult result) {
    if (done_) {
      return;
    }
    done_ = true;
    resolver_.cancel();
    close();
    auto callback = std::move(on_done_);
    callback(std::move(result));
  }

  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  template <class Operation>
  void with_stream(Operation&& operation) {
    if (tls_) {
      operation(*tls_);
    } else {
      operation(*plain_);
    }
  }

  void close() {
    if (plain_ || tls_) {
      error_code ignored;
      lowest().socket().close(ignored);
    }
  }

  static std::string describe(const error_code& ec) {
    if (ec == beast::error::timeout) {
      return "timed out";
    }
    if (ec == ssl::error::stream_truncated) {
      return "connection closed by peer";
    }
    return net::describe(ec);
  }

  void on_resolve(error_code ec, const tcp::resolver::results_type& results) {
    guard([&] {
      if (done_) {
        return;
      }
      if (ec || results.empty()) {
        return finish({Outcome::Unreachable, "cannot resolve " + oracle_.host + ": " +
                                                 (ec ? describe(ec) : "no addresses")});
      }
      for (const auto& entry : results) {
        endpoints_.push_back(entry.endpoint());
      }
      connect();
    });
  }

  void connect() {
    if (done_) {
      return;  // aborted while a connect was posted: start nothing new
    }
    close();
    plain_.reset();
    tls_.reset();
    if (oracle_.is_https()) {
      if (tls_context_ == nullptr) {
        return finish({Outcome::Unreachable, "tls: no TLS context (OpenSSL failed to start)"});
      }
      tls_ = std::make_unique<TlsStream>(io_, *tls_context_);
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(io_);
    }
    lowest().async_connect(endpoints_,
                           beast::bind_front_handler(&OracleSession::on_connect, self()));
  }

  void on_connect(error_code ec, const tcp::endpoint& /*peer*/) {
    guard([&] {
      if (done_) {
        return;
      }
      if (ec) {
        return finish({Outcome::Unreachable, describe(ec)});
      }
      if (!tls_) {
        return send();
      }
      if (const auto setup = prepare_tls(); setup) {
        return finish({Outcome::Unreachable, "tls: setup failed: " + setup.message()});
      }
      tls_->async_handshake(ssl::stream_base::client,
                            beast::bind_front_handler(&OracleSession::on_handshake, self()));
    });
  }

  // SNI for host names; the certificate must chain to the system store and
  // name the oracle's host (or IP address).
  error_code prepare_tls() {
    error_code ec;
    SSL* handle = tls_->native_handle();
    const bool host_is_ip = config::IpAddress::parse(oracle_.host).has_value();
    // SSL_set_tlsext_host_name() spelled out: the macro's C cast trips -Wold-style-cast.
    if (!host_is_ip && SSL_ctrl(handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                const_cast<char*>(oracle_.host.c_str())) != 1) {
      return asio::error::invalid_argument;
    }
    X509_VERIFY_PARAM* param = SSL_get0_param(handle);
    if ((host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, oracle_.host.c_str())
                    : X509_VERIFY_PARAM_set1_host(param, oracle_.host.c_str(), 0)) != 1) {
      return asio::error::invalid_argument;
    }
    tls_->set_verify_mode(ssl::verify_peer, ec);
    if (!ec) {
      tls_->set_verify_callback(ssl::host_name_verification(oracle_.host), ec);
    }
    return ec;
  }

  void on_handshake(error_code ec) {
    guard([&] {
      if (done_) {
        return;
      }
      if (ec) {
        const long verify = SSL_get_verify_result(tls_->native_handle());
        return finish({Outcome::Unreachable, verify != X509_V_OK
                                                 ? std::string("tls: certificate verify failed (") +
                                                       X509_verify_cert_error_string(verify) + ")"
                                                 : "tls: handshake failed: " + describe(ec)});
      }
      send();
    });
  }

  void send() {
    const bool recheck = recheck_pending_;
    request_ = {};
    request_.method(recheck ? http::verb::post : http::verb::get);
    request_.target(recheck ? recheck_target(plan_, oracle_) : gate_target(plan_, oracle_));
    request_.version(11);
    request_.set(http::field::host, authority(oracle_));
    request_.set(http::field::user_agent, k_user_agent);
    request_.set(http::field::accept, "application/json");
    request_.set(http::field::connection, "close");
    if (recheck && !plan_.token.empty()) {
      request_.set(http::field::authorization, "Bearer " + plan_.token);
    }
    request_.prepare_payload();
    with_stream([this](auto& stream) {
      http::async_write(stream, request_,
                        beast::bind_front_handler(&OracleSession::on_write, self()));
    });
  }

  void on_write(error_code ec, std::size_t /*bytes*/) {
    guard([&] {
      if (done_) {
        return;
      }
      if (ec) {
        return finish({Outcome::Unreachable, "sending the request: " + describe(ec)});
      }
      buffer_.consume(buffer_.size());
      parser_.emplace();
      parser_->header_limit(k_header_limit);
      parser_->body_limit(k_body_limit);
      with_stream([this](auto& stream) {
        http::async_read(stream, buffer_, *parser_,
                         beast::bind_front_handler(&OracleSession::on_read, self()));
      });
    });
  }

  void on_read(error_code ec, std::size_t /*bytes*/) {
    guard([&] {
      if (done_) {
        return;
      }
      if (ec == ssl::error::stream_truncated && parser_->is_header_done()) {
        ec = {};  // a TLS peer that closes without close_notify ends the body
        parser_->put_eof(ec);
      }
      const bool http_error =
          ec.category() == http::make_error_code(http::error::body_limit).category();
      if (ec && !parser_->is_header_done() &&
          (!http_error || ec == http::error::end_of_stream || ec == http::error::partial_message)) {
        return finish({Outcome::Unreachable,
                       ec == http::error::end_of_stream || ec == http::error::partial_message
                           ? "connection closed before an answer"
                           : "no answer: " + describe(ec)});
      }
      if (ec) {
        return finish(
            {Outcome::Hold, "unusable HTTP answer: " +
                                (ec == http::error::body_limit
                                     ? "body larger than " + std::to_string(k_body_limit) + " bytes"
                                     : describe(ec))});
      }
      on_answer();
    });
  }

  void on_answer() {
    auto& response = parser_->get();
    const int status = static_cast<int>(response.result_int());
    if (status >= 300 && status < 400) {
      return finish({Outcome::Hold, "HTTP " + std::to_string(status) + " redirect to '" +
                                        quote(response[http::field::location]) + "' not followed"});
    }
    if (recheck_pending_) {
      if (status < 200 || status >= 300) {
        return finish(
            {Outcome::Hold, "recheck refused: " + describe_refusal(status, response.body())});
      }
      recheck_pending_ = false;
      // Posted: the old stream must not be destroyed inside its own completion.
      return asio::post(io_, [self = self()] { self->guard([&] { self->connect(); }); });
    }
    const auto now =
        std::chrono::time_point_cast<consensus::Duration>(std::chrono::system_clock::now());
    finish(judge_gate_answer(plan_, status, response.body(), now));
  }

  asio::io_context& io_;
  ssl::context* tls_context_;
  const GatePlan& plan_;
  const config::Url& oracle_;
  OracleDone on_done_;
  tcp::resolver resolver_;
  std::vector<tcp::endpoint> endpoints_;
  bool recheck_pending_ = false;
  bool done_ = false;
  std::unique_ptr<beast::tcp_stream> plain_;
  std::unique_ptr<TlsStream> tls_;
  http::request<http::empty_body> request_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
};

// Queries every oracle concurrently; a missing result counts as a hold.
std::vector<OracleResult> ask_oracles(const GatePlan& plan) {
  std::shared_ptr<ssl::context> tls;  // outlives the io_context and every stream
  try {
    tls = probes::make_client_tls_context();
  } catch (const std::exception&) {
    tls.reset();  // only https oracles need it; they report the failure
  }
  asio::io_context io;
  std::vector<std::optional<OracleResult>> results(plan.oracles.size());
  std::vector<std::shared_ptr<OracleSession>> sessions;
  std::size_t finished = 0;
  asio::steady_timer deadline(io);
  for (std::size_t i = 0; i < plan.oracles.size(); ++i) {
    sessions.push_back(std::make_shared<OracleSession>(io, tls.get(), plan, plan.oracles[i],
                                                       [&, i](OracleResult result) {
                                                         results[i] = std::move(result);
                                                         if (++finished == results.size()) {
                                                           deadline.cancel();
                                                         }
                                                       }));
  }
  deadline.expires_after(plan.timeout);
  deadline.async_wait([&](error_code ec) {
    if (ec) {
      return;
    }
    for (const auto& session : sessions) {
      session->abort("timed out after " + config::format_duration(plan.timeout));
    }
  });
  for (const auto& session : sessions) {
    session->start();
  }
  io.run();
  std::vector<OracleResult> out;
  for (auto& result : results) {
    out.push_back(result ? std::move(*result)
                         : OracleResult{Outcome::Hold, "no result (internal error)"});
  }
  return out;
}

// ---- Command line -------------------------------------------------------------

constexpr const char* k_usage =
    "usage: crosscheck gate TARGET --expect healthy|unhealthy [--stable-for D]\n"
    "         [--generation N] [--oracle URL ...] [--require K] [--recheck]\n"
    "         [--token-file F] [--timeout D]\n\n"
    "Asks the oracle(s) whether TARGET is confirmed as expected. Exit status:\n"
    "0 proceed (at least K oracles confirm), 1 confirmed otherwise, 3 hold,\n"
    "4 no oracle reachable, 2 usage error. Proceed on 0 and only on 0.\n\n";

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return value;
}

// The bearer token: the file's content without surrounding white space.
std::optional<std::string> read_token(const std::string& path, std::string& why) {
  return config::read_secret_file("--token-file", path, config::SecretKind::BearerToken, why);
}

// The plan from the arguments, or the usage error (printed to `err`).
std::optional<GatePlan> parse_plan(const std::vector<std::string>& args, std::ostream& out,
                                   std::ostream& err, bool& help) {
  std::string expect;
  std::string stable_for;
  std::string generation;
  std::string require;
  std::string timeout;
  std::string token_file;
  std::vector<std::string> targets;
  std::vector<std::string> oracles;
  po::options_description options("gate options");
  options.add_options()("help,h", "show this help")(
      "expect", po::value(&expect), "healthy or unhealthy: the state the failover needs")(
      "stable-for", po::value(&stable_for), "the verdict must have held this long (e.g. 30s)")(
      "generation", po::value(&generation), "the verdict's generation must still be N")(
      "oracle", po::value(&oracles), "oracle base URL, repeatable (default http://127.0.0.1:9470)")(
      "require", po::value(&require), "oracles that must confirm (default: all of them)")(
      "recheck", "ask each oracle to probe now (POST .../recheck) before the gate")(
      "token-file", po::value(&token_file), "bearer token for --recheck")(
      "timeout", po::value(&timeout)->default_value(std::string(k_default_timeout)),
      "bound on the whole run, all oracles in parallel");
  const auto vm = parse_with_targets(args, options, targets);
  auto fail = [&err](const std::string& why) -> std::optional<GatePlan> {
    err << "crosscheck gate: " << why << " (see 'crosscheck gate --help')\n";
    return std::nullopt;
  };
  if (vm.count("help") != 0U) {
    // Exit 0 only for a lone --help: a script whose TARGET expanded to "-h"
    // must not read "proceed".
    if (args.size() != 1) {
      return fail("--help takes no other arguments");
    }
    out << k_usage << options;
    help = true;
    return std::nullopt;
  }
  GatePlan plan;
  plan.recheck = vm.count("recheck") != 0U;
  if (targets.size() != 1 || targets.front().empty()) {
    return fail(targets.empty() ? "missing TARGET" : "expected exactly one TARGET");
  }
  plan.target = targets.front();
  if (expect != "healthy" && expect != "unhealthy") {
    return fail(expect.empty() ? "missing --expect healthy|unhealthy"
                               : "--expect '" + expect + "' is not healthy or unhealthy");
  }
  plan.expect = expect;
  if (vm.count("stable-for") != 0U) {
    plan.stable_for = config::parse_duration(stable_for);
    if (!plan.stable_for) {
      return fail("--stable-for '" + stable_for + "' is not a duration like 30s or 500ms");
    }
  }
  if (vm.count("generation") != 0U) {
    plan.generation = parse_count(generation);
    if (!plan.generation) {
      return fail("--generation '" + generation + "' is not a non-negative integer");
    }
  }
  const auto parsed_timeout = config::parse_duration(timeout);
  if (!parsed_timeout || parsed_timeout->count() <= 0) {
    return fail("--timeout '" + timeout + "' is not a positive duration like 5s or 500ms");
  }
  plan.timeout = *parsed_timeout;
  if (oracles.empty()) {
    oracles.emplace_back(k_default_oracle);
  }
  if (oracles.size() > k_max_oracles) {
    return fail("at most " + std::to_string(k_max_oracles) + " oracles");
  }
  for (const auto& text : oracles) {
    std::string why;
    auto url = config::Url::parse(text, &why);
    if (url && text.find_first_of("?#@") != std::string::npos) {
      why = "user info, query and fragment are not allowed";
      url.reset();
    }
    if (!url) {
      return fail("--oracle '" + text + "': " + why);
    }
    for (const auto& seen : plan.oracles) {
      // The same oracle twice would count as two independent confirmations.
      if (seen.scheme == url->scheme && lower(authority(seen)) == lower(authority(*url))) {
        return fail("--oracle '" + text + "' repeats '" + seen.text + "'");
      }
    }
    plan.oracles.push_back(std::move(*url));
  }
  plan.require = plan.oracles.size();
  if (vm.count("require") != 0U) {
    const auto k = parse_count(require);
    if (!k || *k < 1 || *k > plan.oracles.size()) {
      return fail("--require '" + require + "' must be 1 to " +
                  std::to_string(plan.oracles.size()) + " (the number of oracles)");
    }
    plan.require = static_cast<std::size_t>(*k);
  }
  if (vm.count("token-file") != 0U) {
    std::string why;
    auto token = read_token(token_file, why);
    if (!token) {
      return fail(why);
    }
    plan.token = std::move(*token);
  }
  return plan;
}

std::string_view outcome_word(Outcome outcome) {
  switch (outcome) {
    case Outcome::Proceed:
      return "proceed";
    case Outcome::Otherwise:
      return "otherwise";
    case Outcome::Hold:
      return "hold";
    case Outcome::Unreachable:
      return "unreachable";
  }
  return "hold";
}

// "1 of 2 oracles confirms healthy", "2 of 2 oracles confirm healthy".
std::string confirm_text(std::size_t count, std::size_t total, const std::string& state) {
  return std::to_string(count) + " of " + std::to_string(total) +
         (total == 1 ? " oracle" : " oracles") + (count == 1 ? " confirms " : " confirm ") + state;
}

// Prints the decision line and returns the exit status. Why oracles that
// contradict each other hold even when K confirm: two oracles confirming
// opposite states is the disagreement crosscheck exists to stop on.
int decide(const GatePlan& plan, const std::vector<OracleResult>& results, std::ostream& out) {
  auto count = [&results](Outcome outcome) {
    return static_cast<std::size_t>(
        std::count_if(results.begin(), results.end(),
                      [outcome](const OracleResult& result) { return result.outcome == outcome; }));
  };
  const std::size_t proceed = count(Outcome::Proceed);
  const std::size_t otherwise = count(Outcome::Otherwise);
  const std::size_t held = count(Outcome::Hold);
  const std::size_t unreachable = count(Outcome::Unreachable);
  const std::size_t total = results.size();
  const std::string other = plan.expect == "healthy" ? "unhealthy" : "healthy";
  const std::string required =
      plan.require == total ? "" : ", " + std::to_string(plan.require) + " required";
  if (proceed > 0 && otherwise > 0) {
    out << "gate: HOLD (oracles disagree: " << confirm_text(proceed, total, plan.expect) << ", "
        << otherwise << (otherwise == 1 ? " confirms " : " confirm ") << other << ")\n";
    return k_gate_hold;
  }
  if (proceed >= plan.require) {
    out << "gate: PROCEED (" << confirm_text(proceed, total, plan.expect) << required << ")\n";
    return k_gate_proceed;
  }
  if (otherwise >= plan.require) {
    out << "gate: OTHERWISE (" << confirm_text(otherwise, total, other) << ", not " << plan.expect
        << required << ")\n";
    return k_gate_otherwise;
  }
  if (unreachable == total) {
    out << "gate: UNREACHABLE (none of " << total << (total == 1 ? " oracle" : " oracles")
        << " answered)\n";
    return k_gate_unreachable;
  }
  out << "gate: HOLD (" << confirm_text(proceed, total, plan.expect) << ", " << plan.require
      << " required; " << held << " hold, " << unreachable << " unreachable";
  out << (otherwise > 0 ? ", " + std::to_string(otherwise) + " otherwise" : "") << ")\n";
  return k_gate_hold;
}

}  // namespace

int run_gate_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::optional<GatePlan> plan;
  try {
    bool help = false;
    plan = parse_plan(args, out, err, help);
    if (!plan) {
      return help ? k_gate_proceed : k_gate_usage;
    }
  } catch (const std::exception& e) {  // program_options: unknown flag, missing value, ...
    err << "crosscheck gate: " << e.what() << " (see 'crosscheck gate --help')\n";
    return k_gate_usage;
  }
  try {
    const auto results = ask_oracles(*plan);
    for (std::size_t i = 0; i < results.size(); ++i) {
      out << "oracle " << plan->oracles[i].text << ": " << outcome_word(results[i].outcome) << ": "
          << results[i].detail << '\n';
    }
    return decide(*plan, results, out);
  } catch (const std::exception& e) {
    err << "crosscheck gate: internal error: " << e.what() << '\n';
    return k_gate_hold;
  }
}

}  // namespace crosscheck::daemon
