// The router's reads: the verdict list, one verdict and its gate, history,
// the watch, vantages, escalations, health, /metrics, the peer export, and
// ETags. Every path returns a value; nothing reads a clock or a socket.
#include "api/route.hpp"

#include "api/metrics.hpp"
#include "config/types.hpp"
#include "peers/auth.hpp"
#include "peers/protocol.hpp"
#include "snapshot/json_views.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <memory>

namespace crosscheck::api {

using namespace detail;

namespace {

namespace cs = consensus;
namespace json = boost::json;

json::array summaries(const snapshot::Snapshot& snapshot) {
  json::array out;
  out.reserve(snapshot.targets.size());
  for (const auto& view : snapshot.targets) {
    out.emplace_back(snapshot::verdict_summary_json(view.verdict));
  }
  return out;
}

ApiResponse watch_body(const snapshot::Snapshot& snapshot) {
  json::object out;
  out["revision"] = snapshot.revision;
  out["verdicts"] = summaries(snapshot);
  return json_response(out);
}

ApiResponse verdict_read(net::QueryParams& query, const snapshot::Snapshot& snapshot,
                         const std::string& target, const cs::Instant& now) {
  auto parsed = parse_gate_query(query);
  if (auto* refused = std::get_if<ApiResponse>(&parsed)) {
    return std::move(*refused);
  }
  const auto& ask = std::get<GateQuery>(parsed).ask;
  const snapshot::TargetView* view = snapshot.find(target);
  if (view == nullptr) {
    return unknown_target(target);
  }
  if (!ask) {
    return make_response(200, view->body->get([&] {
      return snapshot::to_body(snapshot::verdict_json(*view, snapshot.node));
    }));
  }
  const auto gate = cs::decide_gate(view->verdict, ask->expect, ask->generation, ask->stable_for,
                                    now, ask->for_, ask->allow_degraded);
  return gate_response(*view, snapshot.node, *ask, gate, nullptr);
}

ApiResponse history_read(net::QueryParams& query, const snapshot::Snapshot& snapshot,
                         const std::string& target) {
  const auto limit_text = query.take("limit");
  if (auto why = query.leftover("limit"); !why.empty()) {
    return bad_query(why);
  }
  std::size_t limit = k_max_history_limit;
  if (auto refused = read_limit(limit_text, k_max_history_limit, limit)) {
    return *std::move(refused);
  }
  const snapshot::TargetView* view = snapshot.find(target);
  if (view == nullptr) {
    return unknown_target(target);
  }
  json::array items;
  const auto& history = view->transitions();
  for (std::size_t i = 0; i < history.size() && i < limit; ++i) {
    items.emplace_back(snapshot::transition_json(history[i]));
  }
  json::object out;
  out["target"] = target;
  out["history"] = std::move(items);
  return json_response(out);
}

ApiOutcome watch_read(net::QueryParams& query, const snapshot::Snapshot& snapshot) {
  const auto since_text = query.take("since");
  const auto timeout_text = query.take("timeout");
  if (auto why = query.leftover("since, timeout"); !why.empty()) {
    return bad_query(why);
  }
  WatchRequest watch;
  if (timeout_text) {
    const auto timeout = config::parse_duration(*timeout_text);
    if (!timeout) {
      return bad_query("timeout must be a duration such as 30s, not '" + *timeout_text + "'");
    }
    watch.wait = std::min(*timeout, k_max_watch_wait);
  }
  if (!since_text) {
    return watch_body(snapshot);  // no revision yet: everything, at once
  }
  const auto since = net::parse_count(*since_text);
  if (!since) {
    return bad_query("since must be a revision number, not '" + *since_text + "'");
  }
  watch.since = *since;
  if (snapshot.revision > watch.since || watch.wait <= config::Duration::zero()) {
    return watch_response(snapshot, watch.since);
  }
  return watch;
}

}  // namespace

ApiResponse watch_response(const snapshot::Snapshot& snapshot, std::uint64_t since) {
  if (snapshot.revision <= since) {
    return make_response(204, {});
  }
  return watch_body(snapshot);
}

namespace detail {

ApiOutcome read(const Route& route, net::QueryParams& query, const snapshot::Snapshot& snapshot,
                const cs::Instant& now) {
  switch (route.kind) {
    case RouteKind::Verdict:
      return verdict_read(query, snapshot, route.subject, now);
    case RouteKind::History:
      return history_read(query, snapshot, route.subject);
    case RouteKind::Watch:
      return watch_read(query, snapshot);
    case RouteKind::Audit:
      return audit_read(query, snapshot);
    case RouteKind::Actions:
      return actions_read(query, snapshot);
    default:
      break;
  }
  if (auto why = query.leftover(""); !why.empty()) {
    return bad_query(why);
  }
  json::object out;
  switch (route.kind) {
    case RouteKind::Verdicts:
      out["revision"] = snapshot.revision;
      out["node"] = snapshot.node;
      out["verdicts"] = summaries(snapshot);
      break;
    case RouteKind::Vantages: {
      json::array items;
      for (const auto& vantage : snapshot.vantages) {
        items.emplace_back(snapshot::vantage_json(vantage));
      }
      out["vantages"] = std::move(items);
      break;
    }
    case RouteKind::Escalations: {
      json::array items;
      for (const auto& escalation : snapshot.escalations) {
        items.emplace_back(snapshot::escalation_json(escalation));
      }
      out["escalations"] = std::move(items);
      break;
    }
    case RouteKind::Healthz:
      // Alive is alive: degraded storage is reported, not a failed probe.
      out["status"] = "ok";
      out["storage"] = snapshot.storage.ok ? "ok" : "degraded";
      if (!snapshot.storage.ok) {
        out["storage_reason"] = snapshot.storage.reason;
      }
      break;
    default:  // Readyz
      if (!snapshot.ready) {
        return error_response(503, "not_ready", "no evaluation has completed yet");
      }
      out["status"] = "ready";
      break;
  }
  return json_response(out);
}

// Prometheus scrapes unconditionally, and the counters move between any two
// scrapes: no ETag. With the request's own snapshot the body is made in
// parts while it is sent (the server writes them as HTTP/1.1 chunks), never
// held whole. Without server figures (router tests) they read zero.
ApiResponse metrics_read(const ApiRequest& request, net::QueryParams& query,
                         const snapshot::Snapshot& snapshot) {
  if (auto why = query.leftover(""); !why.empty()) {
    return bad_query(why);
  }
  const MetricsSources sources = request.metrics ? request.metrics() : MetricsSources{};
  ApiResponse response = make_response(200, "");
  response.content_type = std::string(k_metrics_content_type);
  if (request.snapshot) {  // owned: the parts are made after this returns
    response.source =
        std::make_shared<MetricsRender>(request.snapshot, sources.api, sources.process);
  } else {
    response.body = render_metrics(snapshot, sources.api, sources.process);
  }
  return response;
}

// A 64-bit hash over revision, target and body, quoted. The body is in
// the hash because vantages, escalations and gate answers change without the
// verdict revision moving (a gate turns 423 -> 200 as stable_for elapses).
// Why eight bytes a step: every 200 is hashed, and FNV-1a a byte at a time
// was 5 % of the daemon under the 1,000-connection siege (bench row 6). A
// tag only has to change when the body does; it is no secret.
std::string etag_for(std::uint64_t revision, std::string_view target, std::string_view body) {
  std::uint64_t hash = 0x9e3779b97f4a7c15ULL ^ revision;
  const auto step = [&hash](std::uint64_t word) {
    hash = std::rotl(hash ^ (word * 0xff51afd7ed558ccdULL), 29) * 0xc4ceb9fe1a85ec53ULL;
  };
  const auto mix = [&](std::string_view bytes) {
    std::size_t at = 0;
    for (; at + 8 <= bytes.size(); at += 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, bytes.data() + at, 8);
      step(word);
    }
    std::uint64_t tail = 0;
    if (at < bytes.size()) {  // never memcpy from an empty view's nullptr
      std::memcpy(&tail, bytes.data() + at, bytes.size() - at);
    }
    step(tail);
    step(bytes.size());  // the length ends the part: ("ab", "c") != ("a", "bc")
  };
  mix(target);
  mix(body);
  hash ^= hash >> 33;  // spread the last words over every bit
  hash *= 0xff51afd7ed558ccdULL;
  hash ^= hash >> 33;
  std::array<char, 20> text{};
  std::snprintf(text.data(), text.size(), "\"%016llx\"", static_cast<unsigned long long>(hash));
  return text.data();
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const std::size_t comma = if_none_match.find(',');
    std::string_view tag = if_none_match.substr(0, comma);
    if_none_match =
        comma == std::string_view::npos ? std::string_view{} : if_none_match.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) {
      tag.remove_prefix(1);
    }
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) {
      tag.remove_suffix(1);
    }
    if (tag.starts_with("W/")) {
      tag.remove_prefix(2);  // weak comparison, as If-None-Match requires
    }
    if (tag == "*" || tag == etag) {
      return true;
    }
  }
  return false;
}

// GET /v1/peer/votes: the server verified the signature (request.peer); a
// refusal says why but never carries a vote; a 200 carries the reply's signature.
ApiResponse peer_votes(const ApiRequest& request, const snapshot::Snapshot& snapshot,
                       const cs::Instant& now) {
  if (auto refused = refuse_peer(request, "GET", peers::k_peer_votes_path)) {
    return *std::move(refused);
  }
  ApiResponse response =
      make_response(200, peers::export_votes(snapshot, now, peers::asks_for_windows(request.target),
                                             peers::asked_version(request.target)));
  // Signed for the request it answers: a recorded reply replayed to another
  // pull, or a body changed on the way, fails the puller's check.
  const auto& peer = *request.peer;
  response.headers.emplace_back(
      peers::k_peer_reply_signature_header,
      peers::sign_peer_reply(peer.key, {snapshot.node, peer.node, peer.timestamp, peer.nonce},
                             response.body));
  return response;
}

}  // namespace detail
}  // namespace crosscheck::api
