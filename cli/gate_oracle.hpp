// `crosscheck gate` below its command line: the plan, what to ask an oracle,
// how to judge one oracle's answer (pure: gate_answer.cpp), and asking every
// oracle at once over HTTP(S) (gate_session.cpp).
#pragma once

#include "config/signing_key.hpp"
#include "config/types.hpp"
#include "consensus/types.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace crosscheck::cli::gate {

// Unverified: with --pubkey, an answer whose signature is missing or wrong;
// it counts as no oracle, like Unreachable.
enum class Outcome : std::uint8_t { Proceed, Otherwise, Hold, Unreachable, Unverified };

struct OracleResult {
  // Not an aggregate: {outcome, detail} leaves signed_by empty without a warning.
  OracleResult(Outcome result = Outcome::Hold, std::string why = {})
      : outcome(result), detail(std::move(why)) {}
  Outcome outcome = Outcome::Hold;
  std::string detail;     // the line after "proceed: ", "hold: ", ...
  std::string signed_by;  // the oracle name a verified signature carries ("" unsigned)
  // With --record: the id of the action this oracle recorded ("" none), read
  // from a believed answer whatever its outcome (a proceed judged a hold here
  // was still recorded there); with --pubkey, only from a verified one.
  std::string action_id;
  // With --record: HTTP 503 storage_unavailable, the oracle recorded the
  // action in memory only and named no id to withdraw.
  bool unstored_record = false;
};

struct GatePlan {
  std::string target;
  std::string expect;  // "healthy" or "unhealthy"
  // --for: the failover about to run ("service", "dns", "any"); sent as
  // `for=` with expect unhealthy only (a healthy verdict has no failing plane).
  std::string for_ = "service";
  std::optional<config::Duration> stable_for;
  // --allow-degraded: a degraded verdict stands for the expected unhealthy
  // (sent as `allow_degraded=true` with expect unhealthy only).
  bool allow_degraded = false;
  std::optional<std::uint64_t> generation;
  std::vector<config::Url> oracles;
  std::size_t require = 0;
  bool recheck = false;
  config::Duration timeout{};
  std::string token;  // empty: no Authorization header
  // --pubkey: one Ed25519 public key per oracle (same order); empty: answers
  // are not checked for a signature.
  std::vector<config::Ed25519Key> pubkeys;
  // With pubkeys: this run's random nonce, sent as `&nonce=` and so covered
  // by every oracle's signature (a replayed answer was signed for another).
  std::string nonce;
  // --cacert/--cert/--key's context; null: the default (system store).
  std::shared_ptr<boost::asio::ssl::context> tls;
  // --record WHAT: ask with POST .../gate, which records the action WHAT on
  // an oracle that proceeds (nullopt: the GET form, nothing recorded).
  std::optional<std::string> record;
  std::string record_by;  // --by; "" leaves "by" out (the oracle says "api")
};

// The longest --record and --by text an oracle accepts, in bytes.
constexpr std::size_t k_max_record_text = 256;

// The action the gate withdraws because the run did not proceed.
struct Withdrawal {
  std::size_t oracle = 0;  // index into plan.oracles
  std::string action_id;
};
enum class WithdrawOutcome : std::uint8_t { Withdrawn, AlreadyAcknowledged, Failed };
struct WithdrawResult {
  WithdrawOutcome outcome = WithdrawOutcome::Failed;
  std::string detail;  // why it failed ("HTTP 403: forbidden: ...", "timed out")
};

// Server text on one line: control characters become spaces, long text is cut.
std::string quote(std::string_view text);
// Why `text` is not a valid --record or --by value (1 to k_max_record_text
// bytes, no control characters), or "" when it is.
std::string record_text_problem(std::string_view text);
// The body of the recording gate: {"what": ..., "by": ...} ("by" only when given).
std::string record_body(const GatePlan& plan);
// The ack that withdraws an action: {"by": --by or "crosscheck-gate", "note": ...}.
std::string withdraw_body(const GatePlan& plan);
// POST {oracle}/v1/actions/{id}/ack.
std::string ack_target(const config::Url& oracle, std::string_view action_id);
// The request targets: the gate form, and the recheck before it.
std::string gate_target(const GatePlan& plan, const config::Url& oracle);
std::string recheck_target(const GatePlan& plan, const config::Url& oracle);
// The gate request's target below the oracle's base path
// ("/v1/verdicts/web?expect=healthy", with --record
// "/v1/verdicts/web/gate?expect=healthy"): what the oracle received and signed
// when a proxy in front of it strips the base path, and what it received
// anyway when the oracle has none.
std::string signed_gate_target(const GatePlan& plan);
// "HTTP 429: rate_limited: rechecked 3s ago" from an error body, if any.
std::string describe_refusal(int status, std::string_view body);
// One oracle's answer to the gate request (status and body) judged at `now`:
// Proceed only when every field checks out; anything doubtful is a Hold.
// With --record a proceed must also carry the action it recorded (for this
// target, with this `what`); its id lands in action_id whatever the outcome.
OracleResult judge_gate_answer(const GatePlan& plan, int status, std::string_view body,
                               consensus::WallTime now);
// With --pubkey: Unverified unless `signature` (the header's value, "" when
// absent) is `key`'s signature over `body` as the answer to
// signed_gate_target(); then judged from the signed body alone: the
// status (not signed) must agree with the signed gate.decision (200
// proceed, 409 otherwise, 409 or 423 hold), or the answer holds.
OracleResult judge_signed_answer(const GatePlan& plan, const config::Ed25519Key& key, int status,
                                 std::string_view signature, std::string_view body,
                                 consensus::WallTime now);
// One oracle reached through two --oracle URLs (a DNS alias, or a path
// rewritten to another oracle) must not count as two confirmations: every
// later confirming answer signed with a name an earlier one carried becomes
// a hold. Why needed: one --pubkey may cover every oracle.
void count_each_signer_once(std::vector<OracleResult>& results);
// Queries every oracle concurrently until `deadline`; one result each, in
// order (a missing one counts as a hold).
std::vector<OracleResult> ask_oracles(const GatePlan& plan,
                                      std::chrono::steady_clock::time_point deadline);
// Acknowledges each withdrawal's action on its oracle, concurrently, until
// `deadline` (the run's own): best effort, one result each, in order.
std::vector<WithdrawResult> withdraw_actions(const GatePlan& plan,
                                             const std::vector<Withdrawal>& withdrawals,
                                             std::chrono::steady_clock::time_point deadline);

}  // namespace crosscheck::cli::gate
