// `crosscheck gate` over HTTP(S): one net::HttpClient per oracle on one
// io_context, every request under the run's one deadline.
#include "cli/gate_oracle.hpp"

#include "net/http_client.hpp"
#include "net/tls_client.hpp"
#include "net/verdict_signature.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace crosscheck::cli::gate {
namespace {

using net::HttpFailure;

constexpr std::size_t k_body_limit =
    std::size_t{1024} * 1024;  // one verdict with evidence fits easily
constexpr std::string_view k_user_agent = "crosscheck-gate/" CROSSCHECK_VERSION;

using OracleDone = std::function<void(OracleResult)>;

// What a failed request means for the gate: no answer at all is
// Unreachable; an answer that cannot be used is a Hold.
OracleResult failed(const net::HttpResult& result, const GatePlan& plan) {
  switch (result.failure) {
    case HttpFailure::Timeout:
    case HttpFailure::Cancelled:
      return {Outcome::Unreachable, "timed out after " + config::format_duration(plan.timeout)};
    case HttpFailure::Protocol:
    case HttpFailure::BodyTooLarge:
      return {Outcome::Hold, "unusable HTTP answer: " + result.error};
    case HttpFailure::Tls:
      return {Outcome::Unreachable,
              result.error + " [" + std::string(net::failure_reason(result)) + "]"};
    default:
      return {Outcome::Unreachable, result.error};
  }
}

// The headers every request carries: JSON, and the bearer token when given
// (reads need it when the oracle sets read_requires_token).
net::HttpHeaders request_headers(const GatePlan& plan, bool json_body) {
  net::HttpHeaders headers{{"Accept", "application/json"}};
  if (json_body) {
    headers.emplace_back("Content-Type", "application/json");
  }
  if (!plan.token.empty()) {
    headers.emplace_back("Authorization", "Bearer " + plan.token);
  }
  return headers;
}

// Optionally POST recheck, then GET the gate (with --record, POST .../gate);
// a fresh connection for each.
// Completes exactly once: by the answer, an error, or the run's deadline.
class OracleSession {
 public:
  OracleSession(boost::asio::io_context& io, const std::shared_ptr<boost::asio::ssl::context>& tls,
                const GatePlan& plan, const config::Url& oracle, const config::Ed25519Key* pubkey,
                std::chrono::steady_clock::time_point deadline, OracleDone done)
      : client_(io, net::HttpClientOptions{tls, {}, false, std::string(k_user_agent)}),
        has_tls_(tls != nullptr),
        plan_(plan),
        oracle_(oracle),
        pubkey_(pubkey),
        deadline_(deadline),
        on_done_(std::move(done)),
        recheck_pending_(plan.recheck) {}

  void start() {
    if (oracle_.is_https() && !has_tls_) {
      return on_done_({Outcome::Unreachable, "tls: no TLS context (OpenSSL failed to start)"});
    }
    send();
  }

 private:
  void send() {
    const bool recheck = recheck_pending_;
    const bool record = !recheck && plan_.record.has_value();
    net::HttpRequest request;
    request.url = oracle_;
    request.method = recheck || record ? "POST" : "GET";
    request.target = recheck ? recheck_target(plan_, oracle_) : gate_target(plan_, oracle_);
    request.headers = request_headers(plan_, record);
    if (record) {
      request.body = record_body(plan_);
    }
    request.body_limit = k_body_limit;
    request.deadline = deadline_;
    client_.request(std::move(request),
                    [this](const net::HttpResult& result) { on_answer(result); });
  }

  void on_answer(const net::HttpResult& result) {
    if (!result.ok()) {
      return on_done_(failed(result, plan_));
    }
    const int status = result.status;
    if (status >= 300 && status < 400) {
      return on_done_({Outcome::Hold, "HTTP " + std::to_string(status) + " redirect to '" +
                                          quote(result.header("Location")) + "' not followed"});
    }
    if (recheck_pending_) {
      if (status < 200 || status >= 300) {
        return on_done_(
            {Outcome::Hold, "recheck refused: " + describe_refusal(status, result.body)});
      }
      recheck_pending_ = false;
      return send();
    }
    const auto now =
        std::chrono::time_point_cast<consensus::Duration>(std::chrono::system_clock::now());
    if (pubkey_ != nullptr) {
      return on_done_(judge_signed_answer(plan_, *pubkey_, status,
                                          result.header(net::k_verdict_signature_header),
                                          result.body, now));
    }
    on_done_(judge_gate_answer(plan_, status, result.body, now));
  }

  net::HttpClient client_;
  bool has_tls_;
  const GatePlan& plan_;
  const config::Url& oracle_;
  const config::Ed25519Key* pubkey_;  // nullptr: no signature check
  std::chrono::steady_clock::time_point deadline_;
  OracleDone on_done_;
  bool recheck_pending_ = false;
};

// POST {oracle}/v1/actions/{id}/ack for an action the run did not act on.
// Completes exactly once: by the answer, an error, or the run's deadline.
class WithdrawSession {
 public:
  using Done = std::function<void(WithdrawResult)>;
  WithdrawSession(boost::asio::io_context& io,
                  const std::shared_ptr<boost::asio::ssl::context>& tls, const GatePlan& plan,
                  const config::Url& oracle, std::string action_id,
                  std::chrono::steady_clock::time_point deadline, Done done)
      : client_(io, net::HttpClientOptions{tls, {}, false, std::string(k_user_agent)}),
        has_tls_(tls != nullptr),
        plan_(plan),
        oracle_(oracle),
        action_id_(std::move(action_id)),
        deadline_(deadline),
        on_done_(std::move(done)) {}

  void start() {
    if (oracle_.is_https() && !has_tls_) {
      return on_done_({WithdrawOutcome::Failed, "tls: no TLS context (OpenSSL failed to start)"});
    }
    net::HttpRequest request;
    request.url = oracle_;
    request.method = "POST";
    request.target = ack_target(oracle_, action_id_);
    request.headers = request_headers(plan_, true);
    request.body = withdraw_body(plan_);
    request.body_limit = k_body_limit;
    request.deadline = deadline_;
    client_.request(std::move(request), [this](const net::HttpResult& result) {
      if (!result.ok()) {
        return on_done_({WithdrawOutcome::Failed, failed(result, plan_).detail});
      }
      if (result.status >= 200 && result.status < 300) {
        return on_done_({WithdrawOutcome::Withdrawn, {}});
      }
      // 409 already_acknowledged: someone acked it first; it holds nothing.
      if (result.status == 409) {
        return on_done_({WithdrawOutcome::AlreadyAcknowledged, {}});
      }
      on_done_({WithdrawOutcome::Failed, describe_refusal(result.status, result.body)});
    });
  }

 private:
  net::HttpClient client_;
  bool has_tls_;
  const GatePlan& plan_;
  const config::Url& oracle_;
  std::string action_id_;
  std::chrono::steady_clock::time_point deadline_;
  Done on_done_;
};

std::shared_ptr<boost::asio::ssl::context> client_tls(const GatePlan& plan) {
  std::shared_ptr<boost::asio::ssl::context> tls = plan.tls;
  try {
    if (!tls) {
      tls = net::make_client_tls_context();
    }
  } catch (const std::exception&) {
    tls.reset();  // only https oracles need it; they report the failure
  }
  return tls;
}

}  // namespace

std::vector<WithdrawResult> withdraw_actions(const GatePlan& plan,
                                             const std::vector<Withdrawal>& withdrawals,
                                             std::chrono::steady_clock::time_point deadline) {
  const auto tls = client_tls(plan);  // outlives the io_context
  boost::asio::io_context io;
  std::vector<std::optional<WithdrawResult>> results(withdrawals.size());
  std::vector<std::unique_ptr<WithdrawSession>> sessions;
  for (std::size_t i = 0; i < withdrawals.size(); ++i) {
    sessions.push_back(std::make_unique<WithdrawSession>(
        io, tls, plan, plan.oracles.at(withdrawals[i].oracle), withdrawals[i].action_id, deadline,
        [&results, i](WithdrawResult result) { results[i] = std::move(result); }));
  }
  for (const auto& session : sessions) {
    session->start();
  }
  io.run();
  std::vector<WithdrawResult> out;
  out.reserve(results.size());
  for (auto& result : results) {
    out.push_back(result ? std::move(*result)
                         : WithdrawResult{WithdrawOutcome::Failed, "no result (internal error)"});
  }
  return out;
}

std::vector<OracleResult> ask_oracles(const GatePlan& plan,
                                      std::chrono::steady_clock::time_point deadline) {
  const auto tls = client_tls(plan);  // outlives the io_context
  boost::asio::io_context io;
  std::vector<std::optional<OracleResult>> results(plan.oracles.size());
  std::vector<std::unique_ptr<OracleSession>> sessions;
  for (std::size_t i = 0; i < plan.oracles.size(); ++i) {
    sessions.push_back(std::make_unique<OracleSession>(
        io, tls, plan, plan.oracles[i], plan.pubkeys.empty() ? nullptr : &plan.pubkeys[i], deadline,
        [&results, i](OracleResult result) { results[i] = std::move(result); }));
  }
  for (const auto& session : sessions) {
    session->start();
  }
  io.run();
  std::vector<OracleResult> out;
  out.reserve(results.size());
  for (auto& result : results) {
    out.push_back(result ? std::move(*result)
                         : OracleResult{Outcome::Hold, "no result (internal error)"});
  }
  return out;
}

}  // namespace crosscheck::cli::gate
