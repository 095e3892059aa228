// `explain` in words. Everything is derived from the API's own answer (and
// the server's own gate rule, decide_gate), so the explanation can never
// tell a different story from what a script reading the same JSON acts on.
#include "cli/explain_format.hpp"

#include "consensus/gate.hpp"
#include "consensus/time_format.hpp"

#include <algorithm>
#include <map>
#include <sstream>

namespace crosscheck::cli {
namespace {

namespace cs = consensus;

// "a", "a and b", "a, b and c".
std::string join_words(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  }
  return out;
}

std::string join_answers(const std::vector<std::string>& answers) {
  if (answers.empty()) {
    return "an EMPTY answer";
  }
  std::string out;
  for (const auto& answer : answers) {
    out += (out.empty() ? "" : ", ") + answer;
  }
  return out;
}

// A domain whose own vantages disagree: it counts neither up nor down.
bool is_split(const cs::Verdict& verdict, const std::string& domain) {
  const auto& split = verdict.votes.split_domains;
  return std::find(split.begin(), split.end(), domain) != split.end();
}

// Distinct domains voting `vote`, in evidence order (split domains vote neither way).
std::vector<std::string> domains_voting(const cs::Verdict& verdict, cs::Vote vote) {
  std::vector<std::string> out;
  for (const auto& item : verdict.evidence) {
    if (item.vote == vote && !is_split(verdict, item.domain) &&
        std::find(out.begin(), out.end(), item.domain) == out.end()) {
      out.push_back(item.domain);
    }
  }
  return out;
}

// Known domains: each is up, down, degraded, split or without a vote.
int known_domains(const cs::Verdict& verdict) {
  const auto& votes = verdict.votes;
  return votes.up + votes.down + votes.degraded + votes.split + votes.unknown;
}

// "; 1 split (google: its own vantages disagree)", or "" without a split.
std::string split_text(const cs::Verdict& verdict) {
  if (verdict.votes.split == 0) {
    return {};
  }
  return "; " + std::to_string(verdict.votes.split) + " split (" +
         join_words(verdict.votes.split_domains) + ": its own vantages disagree)";
}

// "; 2 degraded (alpha and beta: the latency objective is broken)", or "".
std::string degraded_text(const cs::Verdict& verdict) {
  if (verdict.votes.degraded == 0) {
    return {};
  }
  return "; " + std::to_string(verdict.votes.degraded) + " degraded (" +
         join_words(verdict.votes.degraded_domains) + ": the latency objective is broken)";
}

// "1 of 3 failure domains down (quad9), 2 needed" (`first`), or
// "2 up (cloudflare and google), 2 needed for healthy".
std::string tally(const cs::Verdict& verdict, cs::Vote vote, bool first) {
  const bool down = vote == cs::Vote::Down;
  const int count = down ? verdict.votes.down : verdict.votes.up;
  const auto names = domains_voting(verdict, vote);
  std::string out =
      std::to_string(count) +
      (first ? " of " + std::to_string(known_domains(verdict)) + " failure domains" : "") +
      (down ? " down" : " up");
  if (!names.empty()) {
    out += " (" + join_words(names) + ")";
  }
  out +=
      ", " + std::to_string(down ? verdict.votes.down_quorum : verdict.votes.up_quorum) + " needed";
  return first ? out : out + (down ? " for unhealthy" : " for healthy");
}

std::string when(cs::WallTime at, cs::WallTime now) {
  return cs::format_rfc3339(at) + " (" + relative_time(at, now) + ")";
}

std::string headline(const cs::Verdict& verdict, cs::WallTime now, const Paint& paint) {
  std::string out = paint(verdict.target, "1") + " is " + verdict_word(verdict.kind, paint, true);
  if (verdict.reason_code == cs::ReasonCode::Override) {
    out += " by operator override";
  } else if (!verdict.confirmed()) {
    out += verdict.held ? ", holding its last confirmed verdict " +
                              verdict_word(*verdict.held, paint, true) + ","
                        : ", with no confirmed verdict to hold,";
  }
  out +=
      " since " + when(verdict.since, now) + ", generation " + std::to_string(verdict.generation);
  const bool down_first =
      verdict.kind == cs::VerdictKind::Unhealthy || verdict.kind == cs::VerdictKind::Disputed ||
      verdict.kind == cs::VerdictKind::Unreachable || verdict.kind == cs::VerdictKind::Degraded;
  const cs::Vote first = down_first ? cs::Vote::Down : cs::Vote::Up;
  const cs::Vote second = down_first ? cs::Vote::Up : cs::Vote::Down;
  return out + ": " + tally(verdict, first, true) + "\n  " + tally(verdict, second, false) + "; " +
         std::to_string(verdict.votes.unknown) + " without a vote" + degraded_text(verdict) +
         split_text(verdict) + "\n";
}

std::string notes(const cs::Verdict& verdict, cs::WallTime now, const Paint& paint) {
  std::string out = "  reason: " + verdict.reason + "\n";
  out += "  evaluated " + when(verdict.evaluated_at, now) + ", valid until " +
         when(verdict.valid_until, now) + "\n";
  if (now > verdict.valid_until) {
    out += "  " + paint("STALE:", "1;33") +
           " past valid_until: the oracle has not re-evaluated it; do not act on it\n";
  }
  if (!verdict.fresh) {
    // Not fresh: carried over, not supported by the votes counted now.
    out += verdict.reason_code == cs::ReasonCode::Restored
               ? "  restored after a restart: not yet confirmed by fresh evidence\n"
               : "  not fresh: kept through dispute_grace, the votes counted now do not confirm "
                 "it\n";
  }
  if (verdict.canary) {
    out += "  canary: must be up everywhere; a vantage failing it becomes suspect\n";
  }
  return out;
}

// Why one vote counts or not. The oracle says `stale`; from an older one
// that does not, staleness is derived: the API says valid_until =
// evaluated_at + stale_after, so a vote whose last observation is older
// than that span before the evaluation went unknown for staleness (e.g.
// evaluated 06:01:00, valid until 06:01:30, last observed 06:00:20: 40s
// old, stale_after 30s).
std::string why_vote(const cs::Verdict& verdict, std::size_t index) {
  const cs::Evidence& item = verdict.evidence[index];
  if (item.suspect) {
    return "does not count: the vantage is suspect (its canaries fail or it alone sees many "
           "targets down; see GET /v1/vantages)";
  }
  if (item.vote != cs::Vote::Unknown && is_split(verdict, item.domain)) {
    return "does not count: failure domain " + item.domain + " is split, its own vantages disagree";
  }
  if (item.vote != cs::Vote::Unknown) {
    for (std::size_t i = 0; i < index; ++i) {
      const auto& other = verdict.evidence[i];
      if (other.domain == item.domain && other.vote == item.vote && !other.suspect) {
        return "counts once with " + other.vantage + ": same failure domain " + item.domain;
      }
    }
    return "counts for failure domain " + item.domain;
  }
  if (!item.last_observed) {
    return "does not count: no observation yet";
  }
  const auto stale_after = verdict.valid_until - verdict.evaluated_at;
  const auto age = verdict.evaluated_at - item.last_observed->wall;
  if (item.stale || (stale_after > cs::Duration::zero() && age > stale_after)) {
    return "does not count: stale, last observed " + format_age(age) +
           " before the evaluation (stale_after " + cs::format_duration(stale_after) + ")";
  }
  return "does not count yet: too few consecutive results (rise/fall), or the vantage could "
         "not observe";
}

std::string vote_word(cs::Vote vote, const Paint& paint) {
  switch (vote) {
    case cs::Vote::Up:
      return paint("UP", "32");
    case cs::Vote::Down:
      return paint("DOWN", "1;31");
    case cs::Vote::Degraded:
      return paint("SLOW", "1;35");
    case cs::Vote::Unknown:
      break;
  }
  return paint("UNKNOWN", "90");
}

// "alpha (node e2e, domain alpha)" or "oracle-b/quad9 (peer oracle-b, domain quad9)".
std::string who(const cs::Evidence& item) {
  const bool remote = item.vantage.find('/') != std::string::npos;
  std::string out = item.vantage + " (";
  if (!item.node.empty()) {
    out += (remote ? "peer " : "node ") + item.node + ", ";
  }
  return out + "domain " + item.domain + ")";
}

std::string evidence_block(const cs::Verdict& verdict, std::size_t index, cs::WallTime now,
                           const Paint& paint) {
  const cs::Evidence& item = verdict.evidence[index];
  std::ostringstream out;
  out << "  " << pad(vote_word(item.vote, paint), 8) << paint(who(item), "1") << "\n"
      << "      why       " << why_vote(verdict, index) << "\n";
  if (!item.last) {
    return out.str();
  }
  const cs::Observation& last = *item.last;
  out << "      observed  "
      << (item.last_observed ? when(item.last_observed->wall, now) : std::string("?"));
  out.setf(std::ios::fixed);
  out.precision(1);
  out << ", latency " << last.latency_ms << "ms";
  if (item.window_latency_ms) {
    out << " (objective's quantile over its window: " << *item.window_latency_ms << "ms)";
  }
  if (last.layer != cs::Layer::None) {
    out << ", failed at " << cs::to_string(last.layer);
  }
  out << "\n      answers   " << (last.answers.empty() ? "(none)" : join_answers(last.answers))
      << "\n";
  if (item.cert_not_after) {
    out << "      cert      " << cs::cert_expiry_words(*item.cert_not_after, now) << " (notAfter "
        << cs::format_rfc3339(*item.cert_not_after) << ")\n";
  }
  if (item.rrsig_expires) {
    out << "      rrsig     signatures " << cs::signature_expiry_words(*item.rrsig_expires, now)
        << " (expiration " << cs::format_rfc3339(*item.rrsig_expires) << ")\n";
  }
  if (!last.detail.empty()) {
    out << "      detail    " << last.detail << "\n";
  }
  return out.str();
}

std::string last_known_good(const cs::Verdict& verdict) {
  switch (verdict.last_known_good) {
    case cs::LastKnownGood::Reachable:
      return "DNS fails from the down vantages, but the addresses they last resolved still "
             "answer: DNS is broken, the service is not. Fix DNS; do not fail the service over.";
    case cs::LastKnownGood::Unreachable:
      return "DNS fails from the down vantages, and the addresses they last resolved do not "
             "answer either: the service looks down, not only its DNS.";
    case cs::LastKnownGood::NotTried:
      break;
  }
  return verdict.failing_layer == cs::Layer::Dns
             ? "DNS fails from the down vantages; no last-known-good addresses were tried (none "
               "resolved before), so whether the service still answers is not known."
             : "";
}

std::string override_text(const cs::Override& value, cs::WallTime now, const Paint& paint) {
  return "  " + verdict_word(value.verdict, paint, true) + " set by " +
         (value.by.empty() ? "an operator" : value.by) + " " + relative_time(value.set_at, now) +
         ", expires " + when(value.expires_at, now) + ": " + value.reason + "\n";
}

std::string maintenance_text(const cs::MaintenanceView& value, cs::WallTime now) {
  const std::string what =
      value.source == cs::MaintenanceSource::Api
          ? "set by " + (value.by.empty() ? std::string("an operator") : value.by) +
                (value.node.empty() ? std::string() : " on node " + value.node) + " " +
                relative_time(value.since, now) + ": " + value.reason
          : "window '" + value.window + "' of the config, since " + relative_time(value.since, now);
  return "  " + what + "; ends " + when(value.until, now) +
         ".\n  Every gate holds until then, and escalations opened meanwhile are silenced (not "
         "sent; closed at the end, and sent then if the trouble outlives the window).\n";
}

// What `crosscheck gate` would decide right now, by the server's own rule:
// a failback (--expect healthy) and each failover (--for service, dns).
std::string gate_lines(const cs::Verdict& verdict, cs::WallTime now, const Paint& paint) {
  struct Ask {
    cs::VerdictKind expect;
    std::optional<cs::GateFor> for_;
  };
  std::string out;
  for (const Ask ask : {Ask{cs::VerdictKind::Healthy, std::nullopt},
                        Ask{cs::VerdictKind::Unhealthy, cs::GateFor::Service},
                        Ask{cs::VerdictKind::Unhealthy, cs::GateFor::Dns}}) {
    // A verdict read from JSON has no monotonic `since`: the rule falls back
    // to the wall clock, which is all a client has.
    const auto gate =
        cs::decide_gate(verdict, ask.expect, std::nullopt, {}, cs::Instant{cs::MonoTime{}, now},
                        ask.for_.value_or(cs::GateFor::Any));
    std::string command =
        "crosscheck gate " + verdict.target + " --expect " + std::string(cs::to_string(ask.expect));
    if (ask.for_) {
      command += " --for " + std::string(cs::to_string(*ask.for_));
    }
    std::string decision =
        gate.answer == cs::GateAnswer::Proceed     ? paint("PROCEED", "32") + " (exit 0)"
        : gate.answer == cs::GateAnswer::Otherwise ? paint("OTHERWISE", "1;31") + " (exit 1)"
                                                   : paint("HOLD", "1;33") + " (exit 3)";
    out += "  " + pad(command, verdict.target.size() + 49) + " would " + decision + ": " +
           gate.reason + "\n";
  }
  return out;
}

// Which failover the evidence supports, in words (the verdict's scope).
std::string failover_text(const cs::Verdict& verdict) {
  if (verdict.reason_code == cs::ReasonCode::Override &&
      verdict.scope == cs::FailureScope::Service) {
    return "scope service: an operator's override says the service is down. A service "
           "failover is supported (--for service) while the override lasts.";
  }
  if (verdict.kind == cs::VerdictKind::Degraded) {
    return "scope service: enough domains see the service slow past its latency objective (or "
           "down) for a quorum, fewer than the down quorum see it down. A service failover is "
           "supported only for a gate that allows it (--allow-degraded).";
  }
  switch (verdict.scope) {
    case cs::FailureScope::Service:
      return "scope service: the service itself fails in enough domains for a quorum. A "
             "service failover is supported (--for service).";
    case cs::FailureScope::Dns:
      return "scope dns: DNS fails in enough domains for a quorum, the service itself is not "
             "confirmed failing. Fix DNS or fail DNS over (--for dns); failing the service over "
             "would not help.";
    case cs::FailureScope::Observer:
      return "scope observer: the failing evidence comes from the observers (suspect "
             "vantages, or too many targets failing at once). Check the observers; no "
             "failover is supported.";
    case cs::FailureScope::None:
      break;
  }
  if (verdict.kind == cs::VerdictKind::Unreachable) {
    return "unreachable: it fails because a target it depends on is confirmed unhealthy (" +
           verdict.reason.substr(0, verdict.reason.find(';')) +
           "). No failover of this target is supported; act on the parent.";
  }
  if (verdict.kind == cs::VerdictKind::Unhealthy) {
    return "scope none: the domains that see it down do not agree on which layer fails. "
           "Neither a service nor a DNS failover is supported; a human decides.";
  }
  return "scope none: no layer is confirmed failing. No failover is called for.";
}

// An empty NOERROR is "an EMPTY answer"; a failure (SERVFAIL, timeout)
// resolved nothing and says which: "no addresses (dns: SERVFAIL)".
std::string no_addresses(const cs::Verdict& verdict,
                         const std::vector<const snapshot::Divergence*>& who) {
  std::string detail;
  for (const auto* item : who) {
    for (const auto& evidence : verdict.evidence) {
      if (evidence.vantage == item->vantage && evidence.last) {
        detail = evidence.last->detail;
      }
    }
  }
  if (detail.empty() || detail.find("empty answer") != std::string::npos) {
    return "an EMPTY answer";
  }
  return "no addresses (" + detail + ")";
}

}  // namespace

std::string describe_divergence(const snapshot::TargetView& view) {
  const auto& divergence = view.divergence;
  std::map<std::vector<std::string>, std::vector<const snapshot::Divergence*>> groups;
  for (const auto& item : divergence) {
    groups[item.answers].push_back(&item);
  }
  if (groups.size() < 2) {
    return {};
  }
  // The odd one out first: the smallest group, an empty answer before others.
  std::vector<std::pair<std::vector<std::string>, std::vector<const snapshot::Divergence*>>>
      ordered(groups.begin(), groups.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  std::string out;
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    std::vector<std::string> names;
    for (const auto* item : ordered[i].second) {
      names.push_back(i == 0 ? item->vantage + " (domain " + item->domain + ")" : item->vantage);
    }
    out += (i == 0   ? ""
            : i == 1 ? " while "
                     : ", and ") +
           join_words(names) + " resolved " +
           (ordered[i].first.empty() ? no_addresses(view.verdict, ordered[i].second)
                                     : join_answers(ordered[i].first));
  }
  return out;
}

std::string format_explain(const snapshot::TargetView& view, cs::WallTime now,
                           const FormatOptions& options) {
  const Paint paint{options.colour};
  const cs::Verdict& verdict = view.verdict;
  std::string out = headline(verdict, now, paint) + notes(verdict, now, paint);
  out += "\n" + paint("votes", "1") + "\n";
  if (verdict.evidence.empty()) {
    out += "  none: no vantage has reported on this target\n";
  }
  for (std::size_t i = 0; i < verdict.evidence.size(); ++i) {
    out += evidence_block(verdict, i, now, paint);
  }
  if (const auto text = describe_divergence(view); !text.empty()) {
    out += "\n" + paint("divergence", "1") + "\n  " + text + "\n";
  }
  if (const auto text = last_known_good(verdict); !text.empty()) {
    out += "\n" + paint("last-known-good", "1") + "\n  " + text + "\n";
  }
  if (verdict.override_in_force) {
    out += "\n" + paint("override in force", "1") + "\n" +
           override_text(*verdict.override_in_force, now, paint);
  }
  if (verdict.maintenance) {
    out += "\n" + paint("maintenance", "1") + "\n" + maintenance_text(*verdict.maintenance, now);
  }
  out += "\n" + paint("failover", "1") + "\n  " + failover_text(verdict) + "\n";
  return out + "\n" + paint("gate", "1") + "\n" + gate_lines(verdict, now, paint);
}

}  // namespace crosscheck::cli
