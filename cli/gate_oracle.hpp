// `crosscheck gate` below its command line: the plan, what to ask an oracle,
// how to judge one oracle's answer (pure: gate_answer.cpp), and asking every
// oracle at once over HTTP(S) (gate_session.cpp).
#pragma once

#include "config/types.hpp"
#include "consensus/types.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace crosscheck::cli::gate {

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
  // --cacert/--cert/--key's context; null: the default (system store).
  std::shared_ptr<boost::asio::ssl::context> tls;
};

// Server text on one line: control characters become spaces, long text is cut.
std::string quote(std::string_view text);
// The request targets: the gate form, and the recheck before it.
std::string gate_target(const GatePlan& plan, const config::Url& oracle);
std::string recheck_target(const GatePlan& plan, const config::Url& oracle);
// "HTTP 429: rate_limited: rechecked 3s ago" from an error body, if any.
std::string describe_refusal(int status, std::string_view body);
// One oracle's answer to the gate request (status and body) judged at `now`:
// Proceed only when every field checks out; anything doubtful is a Hold.
OracleResult judge_gate_answer(const GatePlan& plan, int status, std::string_view body,
                               consensus::WallTime now);
// Queries every oracle concurrently within plan.timeout; one result each, in
// order (a missing one counts as a hold).
std::vector<OracleResult> ask_oracles(const GatePlan& plan);

}  // namespace crosscheck::cli::gate
