// `crosscheck gate` below its command line: the plan, what to ask an oracle,
// how to judge one oracle's answer (pure: gate_answer.cpp), and asking every
// oracle at once over HTTP(S) (gate_session.cpp).
#pragma once

#include "config/signing_key.hpp"
#include "config/types.hpp"
#include "consensus/types.hpp"

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
};

struct GatePlan {
  std::string target;
  std::string expect;  // "healthy" or "unhealthy"
  // --for: the failover about to run ("service", "dns", "any"); sent as
  // `for=` with expect unhealthy only (a healthy verdict has no failing plane).
  std::string for_ = "service";
  std::optional<config::Duration> stable_for;
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
};

// Server text on one line: control characters become spaces, long text is cut.
std::string quote(std::string_view text);
// The request targets: the gate form, and the recheck before it.
std::string gate_target(const GatePlan& plan, const config::Url& oracle);
std::string recheck_target(const GatePlan& plan, const config::Url& oracle);
// The gate request's target below the oracle's base path
// ("/v1/verdicts/web?expect=healthy"): what the oracle received and signed
// when a proxy in front of it strips the base path, and what it received
// anyway when the oracle has none.
std::string signed_gate_target(const GatePlan& plan);
// "HTTP 429: rate_limited: rechecked 3s ago" from an error body, if any.
std::string describe_refusal(int status, std::string_view body);
// One oracle's answer to the gate request (status and body) judged at `now`:
// Proceed only when every field checks out; anything doubtful is a Hold.
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
// Queries every oracle concurrently within plan.timeout; one result each, in
// order (a missing one counts as a hold).
std::vector<OracleResult> ask_oracles(const GatePlan& plan);

}  // namespace crosscheck::cli::gate
