// `crosscheck gate`: what to ask an oracle and how to judge its answer.
// Pure: no I/O, no clock reads (`now` comes in).
#include "cli/gate_oracle.hpp"

#include "consensus/time_format.hpp"
#include "net/http_target.hpp"
#include "net/verdict_signature.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace crosscheck::cli::gate {
namespace {

namespace json = boost::json;
using boost::system::error_code;

constexpr std::size_t k_max_quoted = 200;         // server text quoted in an output line
constexpr config::Duration k_gate_reserve{1000};  // kept for the gate after a recheck
constexpr std::string_view k_withdraw_actor = "crosscheck-gate";  // an ack's "by" without --by
constexpr std::string_view k_withdraw_note = "withdrawn: the gate did not proceed";

// The oracle's base path without its trailing slash, then `path`.
std::string oracle_target(const config::Url& oracle, std::string_view path) {
  std::string base = oracle.target;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base + std::string(path);
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
  std::optional<std::string> scope;
  bool in_maintenance = false;  // "maintenance" is an object, not null
  // The action whose cooldown is in force ("cooldown.action"), when any.
  std::optional<std::string> cooldown_action;
  std::optional<std::string> gate_expect;
  std::optional<std::string> gate_for;
  std::optional<std::string> gate_decision;
  std::optional<std::string> gate_reason;
  std::optional<bool> fresh;
  std::optional<std::uint64_t> generation;
  // The "action" an oracle recorded (the POST form's proceed).
  std::optional<std::string> action_id;
  std::optional<std::string> action_target;
  std::optional<std::string> action_what;
  std::optional<std::string> error;  // an error body's "error"
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
  answer.scope = string_at(object, "scope");
  if (const auto* window = object.if_contains("maintenance"); window != nullptr) {
    answer.in_maintenance = window->is_object();
  }
  if (const auto* cooldown = object.if_contains("cooldown");
      cooldown != nullptr && !cooldown->is_null()) {
    answer.cooldown_action = cooldown->is_object()
                                 ? string_at(cooldown->get_object(), "action").value_or("?")
                                 : std::string("?");
  }
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
    answer.gate_for = string_at(gate->get_object(), "for");
    answer.gate_decision = string_at(gate->get_object(), "decision");
    answer.gate_reason = string_at(gate->get_object(), "reason");
  }
  if (const auto* action = object.if_contains("action"); action != nullptr && action->is_object()) {
    answer.action_id = string_at(action->get_object(), "id");
    answer.action_target = string_at(action->get_object(), "target");
    answer.action_what = string_at(action->get_object(), "what");
  }
  answer.error = string_at(object, "error");
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
  // A failover's scope: the oracle must have judged the failover asked for
  // (one that ignored for= judged another), and the verdict's scope must
  // support it (a backstop, like stable_for below).
  if (plan.expect == "unhealthy") {
    if (answer.gate_for != plan.for_) {
      return "the answer's gate is for '" + field(answer.gate_for) + "', not '" + plan.for_ + "'";
    }
    if (proceeding && plan.for_ != "any" && answer.scope != plan.for_) {
      return "scope " + field(answer.scope) + " does not support a " + plan.for_ + " failover";
    }
  }
  // A backstop like scope: an oracle that proceeded inside a maintenance
  // window (a bug, an old build behind a proxy) is not believed.
  if (proceeding && answer.in_maintenance) {
    return std::string("the target is in a maintenance window: every gate holds");
  }
  // The same backstop for a cooldown, except the one the answer's own
  // recorded action (--record) has just started.
  if (proceeding && answer.cooldown_action && answer.cooldown_action != answer.action_id) {
    return "the target is in cooldown after action '" + quote(*answer.cooldown_action) +
           "': a proceeding gate holds until it is acknowledged";
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

}  // namespace

std::string quote(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, k_max_quoted)) {
    const auto byte = static_cast<unsigned char>(c);
    out += byte < 0x20 || byte == 0x7f ? ' ' : c;
  }
  return text.size() > k_max_quoted ? out + "..." : out;
}

std::string record_text_problem(std::string_view text) {
  const bool control = std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
  if (text.empty() || text.size() > k_max_record_text || control) {
    return "must be 1 to " + std::to_string(k_max_record_text) +
           " bytes without control characters (a newline, a tab)";
  }
  return {};
}

std::string record_body(const GatePlan& plan) {
  json::object body;
  body["what"] = plan.record.value_or(plan.record ? "/gate" : "");
  if (!plan.record_by.empty()) {
    body["by"] = plan.record_by;
  }
  return json::serialize(body);
}

std::string withdraw_body(const GatePlan& plan) {
  json::object body;
  body["by"] = plan.record_by.empty() ? std::string(k_withdraw_actor) : plan.record_by;
  body["note"] = k_withdraw_note;
  return json::serialize(body);
}

std::string ack_target(const config::Url& oracle, std::string_view action_id) {
  return oracle_target(oracle, "/v1/actions/" + net::percent_encode(action_id) + "/ack");
}

std::string signed_gate_target(const GatePlan& plan) {
  std::string query = "?expect=" + net::percent_encode(plan.expect);
  if (plan.generation) {
    query += "&generation=" + std::to_string(*plan.generation);
  }
  if (plan.stable_for) {
    query += "&stable_for=" + net::percent_encode(config::format_duration(*plan.stable_for));
  }
  if (plan.expect == "unhealthy") {
    query += "&for=" + net::percent_encode(plan.for_);
    if (plan.allow_degraded) {
      query += "&allow_degraded=true";
    }
  }
  if (!plan.nonce.empty()) {
    query += "&nonce=" + net::percent_encode(plan.nonce);
  }
  // The recording form is its own path: a GET answer signed for
  // /v1/verdicts/web cannot pass for the answer that recorded an action.
  return "/v1/verdicts/" + net::percent_encode(plan.target) + (plan.record ? "/gate" : "") + query;
}

std::string gate_target(const GatePlan& plan, const config::Url& oracle) {
  return oracle_target(oracle, signed_gate_target(plan));
}

// The recheck must answer in time for the gate to be asked too: it gets the
// run's timeout less a reserve (half of it, at most 1s). Example: --timeout 5s
// sends timeout=4s; the oracle caps it at its own maximum.
std::string recheck_target(const GatePlan& plan, const config::Url& oracle) {
  const auto reserve = std::min(plan.timeout / 2, k_gate_reserve);
  const auto budget = std::max(plan.timeout - reserve, config::Duration{1});
  return oracle_target(oracle, "/v1/verdicts/" + net::percent_encode(plan.target) + "/recheck") +
         "?timeout=" + config::format_duration(budget);
}

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

namespace {

// One answer judged as a verdict, without the recorded action.
OracleResult judge_verdict(const GatePlan& plan, int status, std::string_view body,
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
  // What each answer's verdict may be: proceed on the expected one (or on
  // degraded, expecting unhealthy with --allow-degraded); otherwise on a
  // confirmed other one (degraded is "otherwise" for expect healthy).
  const bool degraded = answer->verdict == "degraded";
  const bool matches =
      ok ? answer->verdict == plan.expect ||
               (degraded && plan.expect == "unhealthy" && plan.allow_degraded)
         : answer->verdict == (plan.expect == "healthy" ? "unhealthy" : "healthy") ||
               (degraded && plan.expect == "healthy");
  if (answer->gate_decision != (ok ? "proceed" : "otherwise")) {
    const std::string note = answer->gate_decision == "hold" ? ""
                             : answer->gate_decision         ? http_status + " but decision '" +
                                                           quote(*answer->gate_decision) + "': "
                                                     : http_status + " without a gate decision: ";
    return {Outcome::Hold, note + describe_hold(*answer, plan.generation)};
  }
  if (!matches) {
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

}  // namespace

OracleResult judge_gate_answer(const GatePlan& plan, int status, std::string_view body,
                               consensus::WallTime now) {
  OracleResult result = judge_verdict(plan, status, body, now);
  if (!plan.record) {
    return result;
  }
  std::string why;
  const auto answer = parse_answer(body, why);
  if (!answer) {
    return result;
  }
  // Only our own action is taken as recorded (and later maybe withdrawn):
  // an id for another target or text is not this run's to acknowledge.
  const bool ours = answer->action_id && !answer->action_id->empty() &&
                    answer->action_target == plan.target && answer->action_what == *plan.record;
  if (ours) {
    result.action_id = *answer->action_id;
  }
  if (status == 503 && answer->error == "storage_unavailable") {
    result.unstored_record = true;
  }
  // Why a proceed without its record holds: the cooldown that guards the
  // next attempt would not be in force on this oracle.
  if (result.outcome == Outcome::Proceed && !ours) {
    result.outcome = Outcome::Hold;
    result.detail = (answer->action_id ? "proceed, but the recorded action is not this one ('" +
                                             quote(*answer->action_id) + "'): "
                                       : std::string("proceed, but no action was recorded: ")) +
                    result.detail;
  }
  return result;
}

OracleResult judge_signed_answer(const GatePlan& plan, const config::Ed25519Key& key, int status,
                                 std::string_view signature, std::string_view body,
                                 consensus::WallTime now) {
  const auto oracle = net::verify_verdict(signature, key, signed_gate_target(plan), body);
  if (!oracle) {
    return {Outcome::Unverified, oracle.error()};
  }
  std::string why;
  const auto answer = parse_answer(body, why);
  const auto decision = answer ? answer->gate_decision : std::nullopt;
  // Why the status must agree: it is not signed, so a proxy could turn 423
  // into 200; the decision comes from the signed body, the status only
  // confirms it. 409 with "hold" is a generation that moved.
  const bool agrees = decision == "proceed"     ? status == 200
                      : decision == "otherwise" ? status == 409
                      : decision == "hold"      ? status == 409 || status == 423
                                                : true;  // no decision: judged as unusable below
  if (!agrees) {
    return {Outcome::Hold, "HTTP " + std::to_string(status) +
                               " disagrees with the signed decision '" + quote(*decision) +
                               "' (changed on the way)"};
  }
  OracleResult result = judge_gate_answer(plan, status, body, now);
  result.detail += " [signed by " + quote(*oracle) + ", key " + net::key_id(key) + "]";
  result.signed_by = *oracle;
  return result;
}

void count_each_signer_once(std::vector<OracleResult>& results) {
  std::vector<std::string> counted;
  for (auto& result : results) {
    const bool confirms =
        result.outcome == Outcome::Proceed || result.outcome == Outcome::Otherwise;
    if (!confirms || result.signed_by.empty()) {
      continue;
    }
    if (std::find(counted.begin(), counted.end(), result.signed_by) != counted.end()) {
      result.outcome = Outcome::Hold;
      result.detail = "oracle '" + quote(result.signed_by) +
                      "' already answered through another --oracle: one oracle counts once (" +
                      result.detail + ")";
      continue;
    }
    counted.push_back(result.signed_by);
  }
}

}  // namespace crosscheck::cli::gate
