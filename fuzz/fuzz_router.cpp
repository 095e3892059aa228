// libFuzzer target: bytes as an HTTP request for the pure router
// api::handle_request, against a small snapshot built once. Layout:
//   byte 0: scopes some configured token holds (bits 0..3, ApiScope order)
//           and, of those, the scopes the request's token grants (bits 4..7)
//   byte 1: bit 0 a token matched (principal set), bit 1 read_requires_token,
//           bit 2 some token holds scope act, bit 3 (with bit 2) the request's does
//   then "METHOD\nTARGET\n", header lines "Name: value\n" until an empty
//   line (Authorization and If-None-Match are used), then the body.
// The router must answer every request (never throw, never crash), and with
// a status in 1xx..5xx, and hand on a write only for a matched token that
// grants the write's scope.
#include "api/router.hpp"
#include "base/ascii.hpp"
#include "consensus/time_format.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace {

using namespace crosscheck::api;
using namespace crosscheck::snapshot;
namespace cs = crosscheck::consensus;

cs::WallTime at(std::string_view text) {
  return cs::parse_rfc3339(text).value_or(cs::WallTime{});
}

TargetView target_view(std::string name, cs::VerdictKind kind) {
  const cs::WallTime since = at("2025-10-20T06:00:00Z");
  TargetView view;
  cs::Verdict& v = view.verdict;
  v.target = std::move(name);
  v.kind = kind;
  v.fresh = true;
  v.generation = 5;
  v.since = since;
  v.evaluated_at = at("2025-10-20T06:00:40Z");
  v.valid_until = at("2025-10-20T06:01:10Z");
  v.reason_code = cs::ReasonCode::Quorum;
  v.reason = "2 of 2 domains up";
  v.votes = cs::VoteCounts{2, 0, 1, 2, 2, 3, {"quad9", "google"}, {}, {}, 0};
  cs::Evidence local;
  local.vantage = "quad9";
  local.domain = "quad9";
  local.vote = cs::Vote::Up;
  local.last_observed = cs::Instant{cs::MonoTime{}, at("2025-10-20T06:00:39.250Z")};
  cs::Observation observation;
  observation.latency_ms = 12.5;
  observation.detail = "dns: NOERROR, 1 answer";
  observation.answers = {"192.0.2.1"};
  local.last = std::make_shared<const cs::Observation>(observation);
  v.evidence = {local};
  view.divergence = {Divergence{"quad9", "quad9", {"192.0.2.1"}}};
  view.history = std::make_shared<const std::vector<TransitionView>>(std::vector<TransitionView>{
      TransitionView{5, since, kind, std::nullopt, cs::ReasonCode::Quorum, "up"},
      TransitionView{4, at("2025-10-20T05:00:00Z"), cs::VerdictKind::Disputed,
                     cs::VerdictKind::Healthy, cs::ReasonCode::Dispute, "quad9 alone"}});
  return view;
}

const SnapshotPtr& fixed_snapshot() {
  static const SnapshotPtr snapshot = [] {
    Snapshot made;
    made.revision = 7;
    made.taken_at = at("2025-10-20T06:00:40Z");
    made.ready = true;
    made.node = "oracle-a";
    made.version = "0.1.0";
    made.targets.push_back(target_view("dynamodb-use1", cs::VerdictKind::Healthy));
    TargetView disputed = target_view("db primary/1", cs::VerdictKind::Disputed);
    disputed.verdict.held = cs::VerdictKind::Healthy;
    made.targets.push_back(disputed);
    made.vantages = {VantageView{"quad9", "", "quad9", false, "", made.taken_at},
                     VantageView{"oracle-b/cloudflare", "oracle-b", "cloudflare", true,
                                 "canary root-zone fails", std::nullopt}};
    made.escalations = {EscalationView{12, "dispute:db primary/1", cs::EventKind::DisputeOpened,
                                       "db primary/1", "", "quad9 alone sees down",
                                       at("2025-10-20T06:00:00Z"), std::nullopt, ""}};
    return std::make_shared<const Snapshot>(std::move(made));
  }();
  return snapshot;
}

// Takes the next line (without '\n') off `rest`; the whole rest if no '\n'.
std::string_view take_line(std::string_view& rest) {
  const auto end = rest.find('\n');
  const std::string_view line = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  return line;
}

// The ApiScope values whose bits (ApiScope order) are set in `bits`.
crosscheck::config::ScopeSet scopes_of(unsigned bits) {
  using crosscheck::config::ApiScope;
  crosscheck::config::ScopeSet set;
  for (const ApiScope scope :
       {ApiScope::Read, ApiScope::Recheck, ApiScope::Ack, ApiScope::Override}) {
    if ((bits & (1U << static_cast<unsigned>(scope))) != 0) {
      set.add(scope);
    }
  }
  return set;
}

// The scope docs/api.md requires for each write.
crosscheck::config::ApiScope write_scope(WriteRequest::Kind kind) {
  using crosscheck::config::ApiScope;
  switch (kind) {
    case WriteRequest::Kind::Recheck:
      return ApiScope::Recheck;
    case WriteRequest::Kind::Acknowledge:
    case WriteRequest::Kind::AckAction:
      return ApiScope::Ack;
    case WriteRequest::Kind::GateRecord:
    case WriteRequest::Kind::RecordAction:
      return ApiScope::Act;
    case WriteRequest::Kind::SetOverride:
    case WriteRequest::Kind::ClearOverride:
    case WriteRequest::Kind::SetMaintenance:
    case WriteRequest::Kind::ClearMaintenance:
      break;
    case WriteRequest::Kind::PeerRecheck:
      // Handed on only for a request whose peer signature verified, which
      // this fuzzer never sets (request.peer stays null): a token, whatever
      // its scopes, must never make us probe on a peer's behalf.
      std::abort();
  }
  return ApiScope::Override;
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  const std::span<const std::uint8_t> bytes(data, size);
  ApiRequest request;
  request.configured = scopes_of(bytes[0] & 0x0FU);
  request.granted = scopes_of(bytes[0] & (bytes[0] >> 4U));
  if ((bytes[1] & 4U) != 0) {
    request.configured.add(crosscheck::config::ApiScope::Act);
    if ((bytes[1] & 8U) != 0) {
      request.granted.add(crosscheck::config::ApiScope::Act);
    }
  }
  if ((bytes[1] & 1U) != 0) {
    request.principal = "fuzz";
  }
  request.read_requires_token = (bytes[1] & 2U) != 0;
  // NOLINTNEXTLINE(*-reinterpret-cast): libFuzzer hands bytes, the code under test reads text
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  rest.remove_prefix(2);
  request.method = take_line(rest);
  request.target = take_line(rest);
  while (!rest.empty()) {
    const std::string_view line = take_line(rest);
    if (line.empty()) {
      break;
    }
    const auto colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    if (crosscheck::ascii::iequals(name, "Authorization")) {
      request.authorization = value;
    } else if (crosscheck::ascii::iequals(name, "If-None-Match")) {
      request.if_none_match = value;
    }
  }
  request.body = rest;

  const auto now = at("2025-10-20T06:00:45Z");
  const ApiOutcome outcome = handle_request(request, *fixed_snapshot(),
                                            cs::Instant{cs::MonoTime{now.time_since_epoch()}, now});
  if (const auto* response = std::get_if<ApiResponse>(&outcome)) {
    if (response->status < 100 || response->status > 599) {
      std::abort();
    }
    // A body made in parts (GET /metrics) is made here too, to its end.
    if (response->source) {
      while (!response->source->next(4096).empty()) {
      }
    }
  } else if (const auto* write = std::get_if<WriteRequest>(&outcome)) {
    // Writes are only handed on for a matched token with the write's scope.
    if (request.principal.empty() || !request.granted.has(write_scope(write->kind))) {
      std::abort();
    }
    (void)write_response(*write, ActionResult{200, "", "", fixed_snapshot(), std::nullopt,
                                              std::nullopt, std::nullopt});
  } else if (const auto* watch = std::get_if<WatchRequest>(&outcome)) {
    if (watch->wait > k_max_watch_wait) {
      std::abort();
    }
    (void)watch_response(*fixed_snapshot(), watch->since);
  }
  return 0;
}
