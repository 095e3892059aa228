#include "cli/replay_printer.hpp"

#include "consensus/time_format.hpp"
#include "json/write.hpp"

#include <boost/json/value.hpp>

#include <algorithm>
#include <iomanip>
#include <optional>
#include <utility>

namespace crosscheck::cli::detail {
namespace cs = crosscheck::consensus;
namespace json = boost::json;

namespace {

json::value held_json(const std::optional<cs::VerdictKind>& held) {
  if (!held) {
    return nullptr;
  }
  return json::string(cs::to_string(*held));
}

std::string escalation_status(const cs::Event& event) {
  return event.is_resolution() ? "resolved" : "firing";
}

}  // namespace

ReplayPrinter::ReplayPrinter(const config::Config& config, const ReplayOptions& options,
                             std::ostream& out)
    : options_(options), out_(out) {
  for (const auto& target : config.targets) {
    width_ = std::max(width_, target.name.size());
  }
  for (const auto& group : config.groups) {
    width_ = std::max(width_, cs::k_group_prefix.size() + group.name.size());
  }
}

void ReplayPrinter::header() {
  if (options_.json) {
    return;
  }
  out_ << std::left << std::setw(22) << "TIME" << std::setw(static_cast<int>(width_) + 2)
       << "TARGET" << std::setw(13) << "VERDICT" << std::setw(11) << "HELD" << std::setw(6) << "GEN"
       << "REASON\n";
}

void ReplayPrinter::event(const cs::Event& event, ReplayStats& stats) {
  if (event.kind == cs::EventKind::VerdictChanged) {
    ++stats.changes;
    change(event);
  } else if (event.is_escalation()) {
    ++stats.escalations;
    escalation(event);
  } else {
    note(event);
  }
}

void ReplayPrinter::gates(const std::vector<cs::Verdict>& verdicts, const cs::Instant& now) {
  for (const auto& verdict : verdicts) {
    std::array<cs::GateDecision, 3> decisions;
    std::string key;  // which failovers proceed, e.g. "-PP"
    for (std::size_t i = 0; i < k_gate_fors.size(); ++i) {
      decisions[i] = cs::decide_gate(verdict, cs::VerdictKind::Unhealthy, std::nullopt, {}, now,
                                     k_gate_fors[i]);
      key += decisions[i].answer == cs::GateAnswer::Proceed ? 'P' : '-';
    }
    const auto [last, inserted] = gate_keys_.try_emplace(verdict.target, k_none_proceeds);
    if (last->second == key) {
      continue;
    }
    last->second = key;
    print_gates(verdict, now, decisions);
  }
}

void ReplayPrinter::change(const cs::Event& event) {
  const auto t = cs::format_rfc3339(event.at.wall);
  if (options_.json) {
    json::object line;
    line["t"] = t;
    line["target"] = event.target;
    line["verdict"] = cs::to_string(event.verdict);
    line["held"] = held_json(event.held);
    line["generation"] = event.generation;
    line["reason"] = event.reason;
    out_ << json_text::write(line) << '\n';
    return;
  }
  out_ << std::left << std::setw(22) << t << std::setw(static_cast<int>(width_) + 2) << event.target
       << std::setw(13) << cs::to_string(event.verdict) << std::setw(11)
       << (event.held ? std::string(cs::to_string(*event.held)) : "-") << std::setw(6)
       << event.generation << event.reason << '\n';
}

void ReplayPrinter::escalation(const cs::Event& event) {
  const auto t = cs::format_rfc3339(event.at.wall);
  if (options_.json) {
    json::object line;
    line["t"] = t;
    line["escalation"] = cs::to_string(event.kind);
    line["status"] = escalation_status(event);
    line["key"] = event.key;
    line["target"] = event.target.empty() ? json::value(nullptr) : json::value(event.target);
    if (!event.vantage.empty()) {
      line["vantage"] = event.vantage;
    }
    line["reason"] = event.reason;
    if (event.silenced) {
      line["silenced"] = true;  // a maintenance window kept it from the sinks
    }
    out_ << json_text::write(line) << '\n';
    return;
  }
  const auto subject = event.target.empty() ? "vantage " + event.vantage : event.target;
  out_ << std::left << std::setw(22) << t << "! " << cs::to_string(event.kind) << " [" << event.key
       << "] " << subject << (event.silenced ? " (silenced: maintenance)" : "") << ": "
       << event.reason << '\n';
}

void ReplayPrinter::note(const cs::Event& event) {
  const auto t = cs::format_rfc3339(event.at.wall);
  if (options_.json) {
    json::object line;
    line["t"] = t;
    line["event"] = cs::to_string(event.kind);
    line["target"] = event.target;
    line["reason"] = event.reason;
    out_ << json_text::write(line) << '\n';
    return;
  }
  out_ << std::left << std::setw(22) << t << "- " << cs::to_string(event.kind) << ' '
       << event.target << ": " << event.reason << '\n';
}

void ReplayPrinter::print_gates(const cs::Verdict& verdict, const cs::Instant& now,
                                const std::array<cs::GateDecision, 3>& decisions) {
  const auto t = cs::format_rfc3339(now.wall);
  if (options_.json) {
    json::object gate;
    for (std::size_t i = 0; i < k_gate_fors.size(); ++i) {
      gate[cs::to_string(k_gate_fors[i])] = decisions[i].decision();
    }
    json::object line;
    line["t"] = t;
    line["target"] = verdict.target;
    line["scope"] = cs::to_string(verdict.scope);
    line["gate_unhealthy"] = std::move(gate);
    out_ << json_text::write(line) << '\n';
    return;
  }
  out_ << std::left << std::setw(22) << t << "> gate " << verdict.target << " --expect unhealthy:";
  for (std::size_t i = 0; i < k_gate_fors.size(); ++i) {
    out_ << " --for " << cs::to_string(k_gate_fors[i]) << ' ' << decisions[i].decision();
  }
  out_ << " (scope " << cs::to_string(verdict.scope) << ")\n";
}

}  // namespace crosscheck::cli::detail
