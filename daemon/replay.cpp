#include "daemon/replay.hpp"

#include "consensus/engine.hpp"
#include "consensus/time_format.hpp"
#include "daemon/engine_policy.hpp"
#include "daemon/replay_input.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <iomanip>
#include <istream>
#include <ostream>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;
namespace json = boost::json;

namespace {

// Gaps longer than this many ticks are evaluated with a coarser step, so a
// recording with a day-long pause stays fast and bounded.
constexpr long long k_max_ticks_per_gap = 100'000;

cs::Instant instant_at(cs::WallTime t) {
  return cs::Instant{cs::MonoTime{t.time_since_epoch()}, t};
}

json::value held_json(const std::optional<cs::VerdictKind>& held) {
  if (!held) {
    return nullptr;
  }
  return json::string(cs::to_string(*held));
}

std::string escalation_status(const cs::Event& event) {
  return event.is_resolution() ? "resolved" : "firing";
}

class Printer {
 public:
  Printer(const config::Config& config, const ReplayOptions& options, std::ostream& out)
      : options_(options), out_(out) {
    for (const auto& target : config.targets) {
      width_ = std::max(width_, target.name.size());
    }
  }

  void header() {
    if (options_.json) {
      return;
    }
    out_ << std::left << std::setw(22) << "TIME" << std::setw(static_cast<int>(width_) + 2)
         << "TARGET" << std::setw(11) << "VERDICT" << std::setw(11) << "HELD" << std::setw(6)
         << "GEN" << "REASON\n";
  }

  void event(const cs::Event& event, ReplayStats& stats) {
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

 private:
  void change(const cs::Event& event) {
    const auto t = cs::format_rfc3339(event.at.wall);
    if (options_.json) {
      json::object line;
      line["t"] = t;
      line["target"] = event.target;
      line["verdict"] = cs::to_string(event.verdict);
      line["held"] = held_json(event.held);
      line["generation"] = event.generation;
      line["reason"] = event.reason;
      out_ << json::serialize(line) << '\n';
      return;
    }
    out_ << std::left << std::setw(22) << t << std::setw(static_cast<int>(width_) + 2)
         << event.target << std::setw(11) << cs::to_string(event.verdict) << std::setw(11)
         << (event.held ? std::string(cs::to_string(*event.held)) : "-") << std::setw(6)
         << event.generation << event.reason << '\n';
  }

  void escalation(const cs::Event& event) {
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
      out_ << json::serialize(line) << '\n';
      return;
    }
    const auto subject = event.target.empty() ? "vantage " + event.vantage : event.target;
    out_ << std::left << std::setw(22) << t << "! " << cs::to_string(event.kind) << " ["
         << event.key << "] " << subject << ": " << event.reason << '\n';
  }

  void note(const cs::Event& event) {
    const auto t = cs::format_rfc3339(event.at.wall);
    if (options_.json) {
      json::object line;
      line["t"] = t;
      line["event"] = cs::to_string(event.kind);
      line["target"] = event.target;
      line["reason"] = event.reason;
      out_ << json::serialize(line) << '\n';
      return;
    }
    out_ << std::left << std::setw(22) << t << "- " << cs::to_string(event.kind) << ' '
         << event.target << ": " << event.reason << '\n';
  }

  const ReplayOptions& options_;
  std::ostream& out_;
  std::size_t width_ = 6;
};

std::string counted(int count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

std::string vantage_list(const config::Config& config) {
  std::string out;
  for (const auto& vantage : config.vantages) {
    out += (out.empty() ? "" : ", ") + vantage.name;
  }
  return out;
}

}  // namespace

ReplayStats run_replay(std::istream& input, const std::string& input_name,
                       const config::Config& config, const ReplayOptions& options,
                       std::ostream& out, std::ostream& err) {
  ReplayStats stats;
  cs::Engine engine(make_policy(config));
  Printer printer(config, options, out);
  printer.header();
  std::optional<cs::WallTime> current;

  auto evaluate_at = [&](cs::WallTime t) {
    for (const auto& event : engine.evaluate(instant_at(t)).events) {
      printer.event(event, stats);
    }
  };
  auto skip = [&](const std::string& reason) {
    ++stats.skipped;
    err << input_name << ':' << stats.lines << ": " << reason << " (line skipped)\n";
  };

  std::string line;
  while (std::getline(input, line)) {
    ++stats.lines;
    if (std::all_of(line.begin(), line.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; })) {
      continue;
    }
    std::string error;
    auto record = parse_replay_line(line, error);
    if (!record) {
      skip(error);
      continue;
    }
    if (current && record->t < *current) {
      skip("time goes backwards: " + cs::format_rfc3339(record->t) + " after " +
           cs::format_rfc3339(*current));
      continue;
    }
    if (current && record->t > *current) {
      // Close the previous moment, then step through the gap so staleness,
      // grace and expiries fire when they would have in the daemon.
      evaluate_at(*current);
      const auto gap = record->t - *current;
      const cs::Duration step = std::max<cs::Duration>(options.tick, gap / k_max_ticks_per_gap);
      for (auto t = *current + step; t < record->t; t += step) {
        evaluate_at(t);
      }
    }
    current = record->t;

    if (auto* observation = std::get_if<cs::Observation>(&record->body)) {
      const auto slash = observation->vantage.find('/');
      if (slash != std::string::npos && slash > 0) {
        const auto node = observation->vantage.substr(0, slash);
        engine.add_remote_vantage({observation->vantage, node, record->domain.value_or(node)});
      }
      const auto status = engine.observe(*observation);
      if (status == cs::ObserveStatus::UnknownTarget) {
        skip("unknown target '" + observation->target + "' (not in " +
             config.source.string() + ")");
        continue;
      }
      if (status == cs::ObserveStatus::UnknownVantage) {
        skip("unknown vantage '" + observation->vantage + "': expected one of " +
             vantage_list(config) + ", or NODE/VANTAGE for a peer's");
        continue;
      }
      if (status != cs::ObserveStatus::Accepted) {
        skip(std::string(cs::to_string(status)));
        continue;
      }
    } else if (auto* set = std::get_if<OverrideRecord>(&record->body)) {
      if (!engine.set_override(set->target, set->value)) {
        skip("override: unknown target '" + set->target + "'");
        continue;
      }
    } else if (auto* clear = std::get_if<ClearOverrideRecord>(&record->body)) {
      if (!engine.clear_override(clear->target)) {
        skip("clear_override: no override in force for '" + clear->target + "'");
        continue;
      }
    }
    ++stats.records;
  }
  if (current) {
    evaluate_at(*current);
  }
  if (!options.json) {
    out << "\n"
        << counted(stats.records, "record") << " replayed, " << stats.skipped << " skipped; "
        << counted(stats.changes, "verdict change") << ", "
        << counted(stats.escalations, "escalation") << '\n';
    for (const auto& verdict : engine.verdicts()) {
      out << "final: " << verdict.target << ' ' << cs::to_string(verdict.kind);
      if (verdict.held) {
        out << " (holding " << cs::to_string(*verdict.held) << ')';
      }
      out << ", generation " << verdict.generation << '\n';
    }
  }
  return stats;
}

}  // namespace crosscheck::daemon
