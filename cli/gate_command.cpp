// `crosscheck gate`: the command line, and the decision over every oracle's
// result (gate_oracle.hpp asks them) as an exit status. Exit 0 needs K
// answers that check out field by field; anything doubtful is a hold.
#include "cli/gate_command.hpp"

#include "base/ascii.hpp"
#include "cli/token_option.hpp"

#include "cli/gate_oracle.hpp"
#include "cli/options.hpp"
#include "cli/tls_options.hpp"
#include "config/secret_file.hpp"
#include "config/signing_key.hpp"
#include "config/types.hpp"
#include "net/http_client.hpp"
#include "net/random.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <exception>
#include <optional>
#include <ostream>
#include <string_view>
#include <utility>

namespace crosscheck::cli {
namespace {

namespace po = boost::program_options;
using gate::GatePlan;
using gate::OracleResult;
using gate::Outcome;

constexpr std::string_view k_default_oracle = "http://127.0.0.1:9470";
constexpr std::string_view k_default_timeout = "5s";
constexpr std::size_t k_max_oracles = 16;
constexpr std::size_t k_gate_nonce_bytes = 16;  // 128 bits: never the same twice

// ---- Command line -------------------------------------------------------------

constexpr const char* k_usage =
    "usage: crosscheck gate TARGET --expect healthy|unhealthy [--for service|dns|any]\n"
    "         [--allow-degraded] [--stable-for D] [--generation N] [--oracle URL ...] [--require "
    "K] [--recheck]\n"
    "         [--token-file F] [--timeout D] [--pubkey FILE ...] [--record WHAT [--by NAME]]\n\n"
    "Asks the oracle(s) whether TARGET is confirmed as expected. Exit status:\n"
    "0 proceed (at least K oracles confirm), 1 confirmed otherwise, 3 hold,\n"
    "4 no oracle reachable (or, with --pubkey, none answered with a valid\n"
    "signature), 2 usage error. Proceed on 0 and only on 0.\n"
    "With --record, each oracle that proceeds records WHAT, and its gates on\n"
    "TARGET hold (cooldown) until the action is acknowledged or the cooldown\n"
    "ends; when the run does not proceed, those records are withdrawn.\n\n";

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return value;
}

// The plan from the arguments, or the usage error (printed to `err`).
std::optional<GatePlan> parse_plan(const std::vector<std::string>& args, std::ostream& out,
                                   std::ostream& err, bool& help) {
  std::string expect;
  std::string for_;
  std::string stable_for;
  std::string generation;
  std::string require;
  std::string timeout;
  std::string token_file;
  std::string record;
  std::string by;
  std::vector<std::string> targets;
  std::vector<std::string> oracles;
  std::vector<std::string> pubkeys;
  TlsFlags tls_flags;
  po::options_description options("gate options");
  options.add_options()("help,h", "show this help")(
      "expect", po::value(&expect), "healthy or unhealthy: the state the failover needs")(
      "for", po::value(&for_)->default_value("service"),
      "with --expect unhealthy, the failover about to run: service (the default), dns or "
      "any; it proceeds only when the verdict's scope supports it")(
      "allow-degraded",
      "with --expect unhealthy, a degraded verdict (a quorum sees it slow or down, fewer "
      "than down_quorum down) proceeds too; without it, degraded holds")(
      "stable-for", po::value(&stable_for), "the verdict must have held this long (e.g. 30s)")(
      "generation", po::value(&generation), "the verdict's generation must still be N")(
      "oracle", po::value(&oracles), "oracle base URL, repeatable (default http://127.0.0.1:9470)")(
      "require", po::value(&require), "oracles that must confirm (default: all of them)")(
      "recheck", "ask each oracle to probe now (POST .../recheck) before the gate")(
      "pubkey", po::value(&pubkeys),
      "Ed25519 public key (PEM) the answers must be signed with; once for all "
      "oracles, or once per --oracle in the same order")(
      "token-file", po::value(&token_file),
      "bearer token sent with every request (else $CROSSCHECK_TOKEN_FILE)")(
      "timeout", po::value(&timeout)->default_value(std::string(k_default_timeout)),
      "bound on the whole run, all oracles in parallel")(
      "record", po::value(&record),
      "the action about to run (\"promote db-2\", 1 to 256 bytes): asks with POST "
      ".../gate, which records it on each oracle that proceeds (token scope act)")(
      "by", po::value(&by), "with --record, who acts (default: the oracle's \"api\")");
  add_tls_options(options, tls_flags);
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
  if (for_ != "service" && for_ != "dns" && for_ != "any") {
    return fail("--for '" + for_ + "' is not service, dns or any");
  }
  plan.for_ = for_;
  plan.allow_degraded = vm.count("allow-degraded") != 0U;
  if (plan.allow_degraded && expect != "unhealthy") {
    return fail("--allow-degraded goes with --expect unhealthy only");
  }
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
  auto tls = tls_context_from(tls_flags);
  if (!tls) {
    return fail(tls.error());
  }
  plan.tls = std::move(*tls);
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
      if (seen.scheme == url->scheme &&
          ascii::lower(net::authority(seen)) == ascii::lower(net::authority(*url))) {
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
  if (!pubkeys.empty() && pubkeys.size() != 1 && pubkeys.size() != plan.oracles.size()) {
    return fail(std::to_string(pubkeys.size()) + " --pubkey for " +
                std::to_string(plan.oracles.size()) +
                " --oracle: give one key for all, or one per oracle in the same order");
  }
  for (const auto& file : pubkeys) {
    auto key = config::read_public_key("--pubkey", file);
    if (!key) {
      return fail(key.error());
    }
    plan.pubkeys.push_back(*key);
  }
  if (plan.pubkeys.size() == 1) {
    plan.pubkeys.resize(plan.oracles.size(), plan.pubkeys.front());
  }
  if (!plan.pubkeys.empty()) {
    // Signed answers are then bound to this run: a recorded one is for another nonce.
    plan.nonce = net::random_hex(k_gate_nonce_bytes);
  }
  // The bearer token: the file's content without surrounding white space.
  auto token =
      read_cli_token(vm.count("token-file") != 0U ? std::optional{token_file} : std::nullopt);
  if (!token) {
    return fail(token.error());
  }
  plan.token = std::move(*token);
  if (vm.count("record") != 0U) {
    if (auto why = gate::record_text_problem(record); !why.empty()) {
      return fail("--record " + why);
    }
    plan.record = record;
  }
  if (vm.count("by") != 0U) {
    if (!plan.record) {
      return fail("--by names who acts: it needs --record");
    }
    if (auto why = gate::record_text_problem(by); !why.empty()) {
      return fail("--by " + why);
    }
    plan.record_by = by;
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
    case Outcome::Unverified:
      return "unverified";
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
  const std::size_t unverified = count(Outcome::Unverified);
  if (unreachable == total) {
    out << "gate: UNREACHABLE (none of " << total << (total == 1 ? " oracle" : " oracles")
        << " answered)\n";
    return k_gate_unreachable;
  }
  if (unreachable + unverified == total) {
    // An answer that is not signed by the oracle's key is no answer.
    out << "gate: UNREACHABLE (none of " << total << (total == 1 ? " oracle" : " oracles")
        << " answered with a valid signature: " << unverified << " unverified, " << unreachable
        << " unreachable)\n";
    return k_gate_unreachable;
  }
  out << "gate: HOLD (" << confirm_text(proceed, total, plan.expect) << ", " << plan.require
      << " required; " << held << " hold, " << unreachable << " unreachable";
  out << (otherwise > 0 ? ", " + std::to_string(otherwise) + " otherwise" : "");
  out << (unverified > 0 ? ", " + std::to_string(unverified) + " unverified" : "") << ")\n";
  return k_gate_hold;
}

// With --record, after the decision: on PROCEED, where each action was
// recorded; otherwise every record is withdrawn (acknowledged), because the
// script will not act and a record would hold its next attempt.
void settle_records(const GatePlan& plan, const std::vector<OracleResult>& results, bool proceed,
                    std::chrono::steady_clock::time_point deadline, std::ostream& out) {
  std::vector<gate::Withdrawal> withdrawals;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& oracle = plan.oracles[i].text;
    if (!results[i].action_id.empty()) {
      if (proceed) {
        out << "recorded as " << results[i].action_id << " on " << oracle << '\n';
      } else {
        withdrawals.push_back({i, results[i].action_id});
      }
    } else if (!proceed && results[i].unstored_record) {
      out << "oracle " << oracle << " may hold an unstored record of this action: a human "
          << "must find it (GET /v1/actions?target=" << gate::quote(plan.target)
          << ") and ack it\n";
    }
  }
  if (withdrawals.empty()) {
    return;
  }
  const auto withdrawn = gate::withdraw_actions(plan, withdrawals, deadline);
  for (std::size_t i = 0; i < withdrawals.size(); ++i) {
    const auto& oracle = plan.oracles[withdrawals[i].oracle].text;
    const auto& id = withdrawals[i].action_id;
    switch (withdrawn[i].outcome) {
      case gate::WithdrawOutcome::Withdrawn:
        out << "withdrawn " << id << " on " << oracle << " (the gate did not proceed)\n";
        break;
      case gate::WithdrawOutcome::AlreadyAcknowledged:
        out << "withdrawn " << id << " on " << oracle << " (already acknowledged)\n";
        break;
      case gate::WithdrawOutcome::Failed:
        out << "NOT withdrawn " << id << " on " << oracle << ": " << withdrawn[i].detail
            << "; it holds the next gate until a human acks it (POST /v1/actions/" << id
            << "/ack, token scope ack) or its cooldown ends\n";
        break;
    }
  }
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
    // One deadline for the run: the gate and any withdrawal after it.
    const auto deadline = net::real_http_clock().monotonic() + plan->timeout;
    auto results = gate::ask_oracles(*plan, deadline);
    gate::count_each_signer_once(results);
    for (std::size_t i = 0; i < results.size(); ++i) {
      out << "oracle " << plan->oracles[i].text << ": " << outcome_word(results[i].outcome) << ": "
          << results[i].detail << '\n';
    }
    const int status = decide(*plan, results, out);
    if (plan->record) {
      settle_records(*plan, results, status == k_gate_proceed, deadline, out);
    }
    return status;
  } catch (const std::exception& e) {
    err << "crosscheck gate: internal error: " << e.what() << '\n';
    return k_gate_hold;
  }
}

}  // namespace crosscheck::cli
