#include "cli/replay.hpp"

#include "cli/replay_input.hpp"
#include "cli/replay_printer.hpp"
#include "consensus/engine.hpp"
#include "consensus/time_format.hpp"
#include "daemon/engine_policy.hpp"

#include <algorithm>
#include <cctype>
#include <istream>
#include <map>
#include <ostream>
#include <set>

namespace crosscheck::cli {
namespace cs = crosscheck::consensus;

namespace {

// Ticks evaluated past the longest time-driven rule before a gap is skipped:
// one for the grid point after a vote goes stale, one after dispute_grace,
// one for the blast-radius guard to settle on what that published, one spare.
constexpr int k_settle_ticks = 4;
// Configured names listed in one message, cut after this many bytes.
constexpr std::size_t k_max_name_list_bytes = 200;

cs::Instant instant_at(cs::WallTime t) {
  return cs::Instant{cs::MonoTime{t.time_since_epoch()}, t};
}

std::string counted(int count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

// "a, b, c" of configured names, cut with "…" past k_max_name_list_bytes.
template <typename Names>
std::string name_list(const Names& names) {
  std::string out;
  for (const auto& name : names) {
    if (out.size() + name.size() > k_max_name_list_bytes) {
      return out + ", …";
    }
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

// What the engine's refusal of a validated observation tells the user;
// nullopt when it was counted. Every status is a case and there is no
// default on purpose: a status the engine adds breaks the build here
// (-Wswitch, warnings are errors) until it gets its line. Such a refusal
// has no effect either: a refused line's time equals the current one
// (times never go backwards), so the clock did not move, and its vantage
// was registered by the line it repeats.
std::optional<std::string> observe_refusal(cs::ObserveStatus status) {
  switch (status) {
    case cs::ObserveStatus::Accepted:
      return std::nullopt;
    case cs::ObserveStatus::UnknownTarget:
    case cs::ObserveStatus::UnknownVantage:
    case cs::ObserveStatus::OutOfOrder:
    case cs::ObserveStatus::Duplicate:
    case cs::ObserveStatus::Conflict:
      break;
  }
  return "observation refused: " + std::string(cs::to_string(status));
}

// One replay: the engine on simulated time, what the input registered
// (peers' vantages, overrides) and the clock. A line is first checked
// (refusal), then the clock moves to it (advance_to), then it is applied
// (apply); a line refused at the first step has no effect at all.
class Replayer {
 public:
  Replayer(const config::Config& config, const ReplayOptions& options, std::ostream& out,
           ReplayStats& stats)
      : config_(config),
        options_(options),
        engine_(daemon::make_policy(config)),
        printer_(config, options, out),
        stats_(stats) {
    for (const auto& vantage : config.vantages) {
      local_domains_.emplace(vantage.name, vantage.domain);
    }
    std::vector<std::string> peer_names;
    for (const auto& peer : config.peers) {
      peers_.insert(peer.name);
      peer_names.push_back(peer.name);
    }
    peer_names_ = name_list(peer_names);
    std::vector<std::string> vantage_names;
    for (const auto& vantage : config.vantages) {
      vantage_names.push_back(vantage.name);
    }
    vantage_names_ = name_list(vantage_names);
    cs::Duration stale_after{0};
    cs::Duration dispute_grace{0};
    for (const auto& target : engine_.policy().targets) {
      stale_after = std::max(stale_after, target.stale_after);
      dispute_grace = std::max(dispute_grace, target.dispute_grace);
    }
    settle_ = stale_after + dispute_grace + k_settle_ticks * options_.tick;
    printer_.header();
  }

  // Why `record` cannot be applied, checked before it has any effect (on the
  // clock, the engine or the registered vantages); nullopt when it can.
  std::optional<std::string> refusal(const ReplayRecord& record) const {
    if (current_ && record.t < *current_) {
      return "time goes backwards: " + cs::format_rfc3339(record.t) + " after " +
             cs::format_rfc3339(*current_);
    }
    if (const auto* observation = std::get_if<cs::Observation>(&record.body)) {
      return observation_refusal(*observation, record.domain);
    }
    if (const auto* set = std::get_if<OverrideRecord>(&record.body)) {
      if (engine_.verdict(set->target) == nullptr) {
        return "override: unknown target '" + echo_input(set->target) + "'";
      }
      return std::nullopt;
    }
    if (const auto* action = std::get_if<ActionRecord>(&record.body)) {
      if (!config_.names(action->request.target)) {
        return "action: unknown target '" + echo_input(action->request.target) + "'";
      }
      return std::nullopt;
    }
    if (const auto* ack = std::get_if<AckActionRecord>(&record.body)) {
      const auto* known = ledger_.find(ack->id);
      if (known == nullptr) {
        return "ack_action: no action '" + echo_input(ack->id) +
               "' (ids are replay-1, replay-2, "
               "... in input order)";
      }
      if (known->ack) {
        return "ack_action: action '" + echo_input(ack->id) + "' is already acknowledged";
      }
      return std::nullopt;
    }
    const auto& clear = std::get<ClearOverrideRecord>(record.body);
    const auto found = overrides_.find(clear.target);
    if (found == overrides_.end()) {
      return "clear_override: no override in force for '" + echo_input(clear.target) + "'";
    }
    if (found->second <= record.t) {
      return "clear_override: the override for '" + echo_input(clear.target) + "' expired at " +
             cs::format_rfc3339(found->second);
    }
    return std::nullopt;
  }

  // Moves the simulated clock to `t` (never backwards): closes the current
  // moment, then evaluates the gap as the daemon would have.
  void advance_to(cs::WallTime t) {
    if (current_ && t > *current_) {
      evaluate_at(*current_);
      step_through_gap(t);
    }
    current_ = t;
  }

  // Applies a record refusal() accepted; a reason when the engine refused it.
  std::optional<std::string> apply(const ReplayRecord& record) {
    if (const auto* observation = std::get_if<cs::Observation>(&record.body)) {
      if (!register_remote(observation->vantage, record.domain)) {
        return "vantage '" + echo_input(observation->vantage) +
               "' refused by the engine (not a configured peer's, or in a domain its domains: "
               "does not list)";
      }
      const auto status = engine_.observe(*observation);
      if (status == cs::ObserveStatus::Duplicate) {
        // At-least-once delivery (logs merged, pulls retried) is normal:
        // the copy counts once, and is neither a record nor an error.
        ++stats_.duplicates;
        return std::nullopt;
      }
      return observe_refusal(status);
    }
    if (const auto* set = std::get_if<OverrideRecord>(&record.body)) {
      if (!engine_.set_override(set->target, set->value)) {
        return "override: refused by the engine for '" + echo_input(set->target) + "'";
      }
      overrides_[set->target] = set->value.expires_at;
      return std::nullopt;
    }
    if (const auto* action = std::get_if<ActionRecord>(&record.body)) {
      const auto& target = action->request.target;
      ledger_.record(action->request, record.t,
                     config_.cooldown_of(target).value_or(config_.gate.cooldown));
      daemon::apply_cooldowns(engine_, ledger_, config_, target, record.t);
      return std::nullopt;
    }
    if (const auto* ack = std::get_if<AckActionRecord>(&record.body)) {
      ledger_.ack(ack->id, cs::ActionAck{"replay", "", record.t, "replay"});
      const auto target = ledger_.find(ack->id)->target;
      daemon::apply_cooldowns(engine_, ledger_, config_, target, record.t);
      return std::nullopt;
    }
    const auto& clear = std::get<ClearOverrideRecord>(record.body);
    overrides_.erase(clear.target);
    if (!engine_.clear_override(clear.target)) {
      return "clear_override: no override in force for '" + echo_input(clear.target) + "'";
    }
    return std::nullopt;
  }

  // Closes the last moment.
  void finish() {
    if (current_) {
      evaluate_at(*current_);
    }
  }

  const cs::Engine& engine() const { return engine_; }

 private:
  std::optional<std::string> observation_refusal(const cs::Observation& observation,
                                                 const std::optional<std::string>& domain) const {
    if (engine_.verdict(observation.target) == nullptr) {
      return "unknown target '" + echo_input(observation.target) + "' (not in " +
             config_.source.string() + ")";
    }
    const auto& name = observation.vantage;
    if (const auto local = local_domains_.find(name); local != local_domains_.end()) {
      if (domain && *domain != local->second) {
        return "vantage '" + name + "' is this node's, in domain '" + local->second +
               "' (--config), not '" + echo_input(*domain) + "'";
      }
      return std::nullopt;
    }
    const auto slash = name.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == name.size()) {
      return "unknown vantage '" + echo_input(name) + "': expected one of " + vantage_names_ +
             ", or NODE/VANTAGE for a peer's";
    }
    const std::string_view node = std::string_view(name).substr(0, slash);
    if (!peers_.contains(node)) {
      return "vantage '" + echo_input(name) + "': its node is not a configured peer (" +
             (peer_names_.empty() ? "no peers in " + config_.source.string()
                                  : "peers: " + peer_names_) +
             ")";
    }
    const auto registered = remote_domains_.find(name);
    if (registered != remote_domains_.end() && domain && *domain != registered->second) {
      constexpr auto k_third = k_replay_max_echo_bytes / 3;  // three values echoed
      return "vantage '" + echo_input(name, k_third) + "' was first seen in domain '" +
             echo_input(registered->second, k_third) + "'; a later line cannot move it to '" +
             echo_input(*domain, k_third) + "'";
    }
    return std::nullopt;
  }

  // Registers a peer's vantage the first time a line names it, in the
  // line's domain or else its node's. Later lines keep that domain (one
  // that names another was refused). A map, so many distinct vantages
  // cost log(n) each here.
  bool register_remote(const std::string& name, const std::optional<std::string>& domain) {
    if (local_domains_.contains(name) || remote_domains_.contains(name)) {
      return true;
    }
    const auto node = name.substr(0, name.find('/'));
    const auto assigned = domain.value_or(node);
    if (!engine_.add_remote_vantage({name, node, assigned})) {
      return false;
    }
    remote_domains_.emplace(name, assigned);
    return true;
  }

  void evaluate_at(cs::WallTime t) {
    ++stats_.evaluations;
    last_evaluated_ = t;
    const auto now = instant_at(t);
    for (const auto& event : engine_.evaluate(now).events) {
      printer_.event(event, stats_);
    }
    printer_.gates(engine_.verdicts(), now);
    printer_.gates(engine_.groups(), now);
  }

  // Evaluates the open gap (current_, t) on the grid current_ + k * tick, as
  // the daemon would, but only while something can still change.
  //
  // Why stopping early is equivalent to evaluating every tick: between
  // records nothing comes in, and the engine's time-driven rules settle in
  // a fixed order. Each vote goes stale at most stale_after after its last
  // observation (all at or before current_); a disagreement that appears
  // then is confirmed or cleared dispute_grace later; the blast-radius
  // guard settles one evaluation after what that published. So from
  // current_ + max stale_after + max dispute_grace (+ k_settle_ticks for
  // grid alignment) every evaluation returns the same verdicts and no
  // events, and its only state changes (flap-window expiry, a reset grace
  // clock) are recomputed from `now` by the next evaluation anyway. Two
  // rules reach further and are waited for: a flapping hold ends up to
  // flap_window after its last change (only while a verdict is flapping),
  // and an override expires at its own time (stepped to on the same grid,
  // then settled again). Example, defaults (30s + 10s, tick 1s): a day-long
  // gap costs 44 evaluations instead of 86,400, and every event in it fires
  // at the same simulated time.
  void step_through_gap(cs::WallTime t) {
    const auto start = *current_;
    const auto tick = options_.tick;
    auto settled_at = start + settle_;
    bool waited_for_flapping = false;
    for (auto at = start + tick; at < t; at += tick) {
      if (at > settled_at && options_.skip_settled_gaps) {
        if (!waited_for_flapping && flapping()) {
          waited_for_flapping = true;
          settled_at = at + engine_.policy().flap_window + k_settle_ticks * tick;
        } else if (const auto expiry = next_override_expiry()) {
          // The first grid point at or after the expiry: when the daemon's
          // evaluation at that tick would have seen it.
          const auto ticks = (*expiry - start + tick - cs::Duration{1}) / tick;
          at = std::max(at, start + ticks * tick);
          if (at >= t) {
            break;
          }
          settled_at = at + settle_;
          waited_for_flapping = false;
        } else {
          break;
        }
      }
      evaluate_at(at);
    }
  }

  bool flapping() const {
    const auto& verdicts = engine_.verdicts();
    return std::any_of(verdicts.begin(), verdicts.end(), [](const cs::Verdict& verdict) {
      return verdict.reason_code == cs::ReasonCode::Flapping;
    });
  }

  // The earliest expiry of an override still in force in the engine.
  std::optional<cs::WallTime> next_override_expiry() const {
    std::optional<cs::WallTime> next;
    for (const auto& [target, expires_at] : overrides_) {
      if (expires_at > last_evaluated_ && (!next || expires_at < *next)) {
        next = expires_at;
      }
    }
    return next;
  }

  const config::Config& config_;
  const ReplayOptions& options_;
  cs::Engine engine_;
  detail::ReplayPrinter printer_;
  ReplayStats& stats_;
  std::optional<cs::WallTime> current_;  // time of the records applied last
  cs::WallTime last_evaluated_{};
  cs::Duration settle_{0};                                          // see step_through_gap
  std::map<std::string, std::string, std::less<>> local_domains_;   // vantage -> domain
  std::set<std::string, std::less<>> peers_;                        // configured peer nodes
  std::map<std::string, std::string, std::less<>> remote_domains_;  // NODE/VANTAGE -> domain
  std::map<std::string, cs::WallTime, std::less<>> overrides_;      // target -> expires_at
  cs::ActionLedger ledger_{"replay"};  // action lines: ids replay-1, replay-2, ...
  std::string vantage_names_;
  std::string peer_names_;
};

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

ReplayStats run_replay(std::istream& input, const std::string& input_name,
                       const config::Config& config, const ReplayOptions& options,
                       std::ostream& out, std::ostream& err) {
  ReplayStats stats;
  Replayer replayer(config, options, out, stats);
  auto skip = [&](const std::string& reason) {
    ++stats.skipped;
    err << input_name << ':' << stats.lines << ": " << reason << " (line skipped)\n";
  };

  LineReader reader(input);
  std::string_view line;
  std::size_t length = 0;
  for (auto status = reader.next(line, length); status != LineStatus::End;
       status = reader.next(line, length)) {
    ++stats.lines;
    if (status == LineStatus::TooLong) {
      skip("line of " + std::to_string(length) + " bytes is longer than the limit of " +
           std::to_string(k_replay_max_line_bytes));
      continue;
    }
    if (blank(line)) {
      continue;
    }
    const auto record = parse_replay_line(line);
    if (!record) {
      skip(record.error());
      continue;
    }
    if (auto why = replayer.refusal(*record)) {
      skip(*why);
      continue;
    }
    replayer.advance_to(record->t);
    const int duplicates = stats.duplicates;
    if (auto why = replayer.apply(*record)) {
      skip(*why);
      continue;
    }
    stats.records += stats.duplicates == duplicates ? 1 : 0;
  }
  replayer.finish();
  if (!options.json) {
    out << "\n"
        << counted(stats.records, "record") << " replayed, " << stats.skipped << " skipped, "
        << counted(stats.duplicates, "duplicate") << " ignored; "
        << counted(stats.changes, "verdict change") << ", "
        << counted(stats.escalations, "escalation") << '\n';
    for (const auto* verdicts : {&replayer.engine().verdicts(), &replayer.engine().groups()}) {
      for (const auto& verdict : *verdicts) {
        out << "final: " << verdict.target << ' ' << cs::to_string(verdict.kind);
        if (verdict.held) {
          out << " (holding " << cs::to_string(*verdict.held) << ')';
        }
        out << ", generation " << verdict.generation << '\n';
      }
    }
  }
  return stats;
}

}  // namespace crosscheck::cli
