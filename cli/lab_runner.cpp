#include "cli/lab_runner.hpp"

#include "consensus/time_format.hpp"
#include "daemon/service.hpp"
#include "lab/scenario.hpp"
#include "net/system_clock.hpp"

#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>

namespace crosscheck::cli {
namespace cs = crosscheck::consensus;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto k_poll = 100ms;
constexpr std::size_t k_indent = 10;  // under the "[  12.3s] " stamp

struct Paint {
  bool on = false;
  std::string operator()(const std::string& text, const char* code) const {
    return on ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
  }
};

std::string seconds_text(steady::duration elapsed) {
  const auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "s";
}

// `text` as lines of at most `width` columns, each after `indent`.
std::string wrap(const std::string& text, std::size_t indent, std::size_t width = 78) {
  std::istringstream words(text);
  std::string out(indent, ' ');
  std::size_t column = indent;
  std::string word;
  while (words >> word) {
    if (column > indent && column + 1 + word.size() > width) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
  }
  return out + "\n";
}

std::string verdict_words(const cs::Verdict& verdict) {
  std::string text(cs::to_string(verdict.kind));
  if (verdict.held) {
    text += " (held " + std::string(cs::to_string(*verdict.held)) + ")";
  }
  return text;
}

// Plays one scenario against a running service and narrates it.
class Runner {
 public:
  Runner(daemon::Service& service, lab::LabWorld& world, const LabOptions& options,
         SignalGate& signals, std::ostream& out)
      : service_(service),
        world_(world),
        options_(options),
        signals_(signals),
        out_(out),
        paint_{options.colour},
        started_(steady::now()) {}

  // False when a stop signal interrupted the script.
  bool play(const lab::Scenario& scenario, int& failures) {
    for (std::size_t i = 0; i < scenario.steps.size(); ++i) {
      const auto& step = scenario.steps[i];
      say(paint_("step " + std::to_string(i + 1) + "/" + std::to_string(scenario.steps.size()) +
                     ": " + step.title,
                 "1"));
      out_ << wrap(step.narration, k_indent);
      for (const auto& expectation : step.expect) {
        out_ << wrap("expect: " + lab::describe(expectation), k_indent);
      }
      out_.flush();
      world_.apply(step.world, options_.timing);
      const auto shown = await(step);
      if (!shown) {
        return false;
      }
      if (!*shown) {
        ++failures;
      }
      // After the last step too: whoever follows the API sees the end state.
      if (!linger(i + 1 == scenario.steps.size())) {
        return false;
      }
    }
    return true;
  }

  // Narrates changes until a stop signal (the script is over).
  void idle() {
    while (!signals_.stop_requested(k_poll)) {
      report_changes();
    }
  }

 private:
  void say(const std::string& text) {
    out_ << "[" << std::string(7 - std::min<std::size_t>(7, seconds_text(since()).size()), ' ')
         << seconds_text(since()) << "] " << text << '\n';
    out_.flush();
  }
  steady::duration since() const { return steady::now() - started_; }

  lab::Observed observe() const {
    const auto snapshot = service_.hub().current();
    lab::Observed observed;
    observed.now = clock_.now();
    for (const auto& view : snapshot->targets) {
      observed.verdicts.push_back(view.verdict);
    }
    for (const auto& vantage : snapshot->vantages) {
      if (vantage.suspect) {
        observed.suspects.insert(vantage.name);
      }
    }
    return observed;
  }

  // Every verdict change and suspicion change since the last call, in words.
  void report_changes() {
    const auto snapshot = service_.hub().current();
    for (const auto& view : snapshot->targets) {
      const auto& verdict = view.verdict;
      auto& seen = generations_[verdict.target];
      if (verdict.generation != seen && verdict.kind != cs::VerdictKind::Unknown) {
        seen = verdict.generation;
        say(verdict.target + " is now " + paint_(verdict_words(verdict), colour_of(verdict.kind)) +
            " (generation " + std::to_string(verdict.generation) + "): " + verdict.reason);
      }
    }
    report_escalations(*snapshot);
    for (const auto& vantage : snapshot->vantages) {
      auto& was = suspects_[vantage.name];
      if (vantage.suspect != was) {
        was = vantage.suspect;
        say("vantage " + vantage.name +
            (vantage.suspect ? " is suspect: " + vantage.suspect_reason : " is trusted again"));
      }
    }
  }

  // Escalations opened (a human would be paged) and resolved since last time.
  void report_escalations(const snapshot::Snapshot& snapshot) {
    std::set<std::int64_t> open;
    for (const auto& escalation : snapshot.escalations) {
      open.insert(escalation.id);
      if (!escalations_.contains(escalation.id)) {
        say(paint_("escalation", "1;33") + " #" + std::to_string(escalation.id) + " (" +
            std::string(cs::to_string(escalation.kind)) + "): " + escalation.reason);
      }
    }
    for (const auto id : escalations_) {
      if (!open.contains(id)) {
        say("escalation #" + std::to_string(id) + " resolved");
      }
    }
    escalations_ = std::move(open);
  }

  static const char* colour_of(cs::VerdictKind kind) {
    switch (kind) {
      case cs::VerdictKind::Healthy:
        return "32";
      case cs::VerdictKind::Unhealthy:
        return "31";
      case cs::VerdictKind::Disputed:
      case cs::VerdictKind::Unreachable:
      case cs::VerdictKind::Degraded:
        return "33";
      case cs::VerdictKind::Unknown:
        return "2";
    }
    return "0";
  }

  // Waits until the step's expectations hold: true shown, false not within
  // the step's deadline, nullopt interrupted.
  std::optional<bool> await(const lab::Step& step) {
    const auto begun = steady::now();
    const auto deadline = begun + options_.timing.step_deadline();
    while (true) {
      report_changes();
      const auto observed = observe();
      const bool all = std::all_of(step.expect.begin(), step.expect.end(),
                                   [&](const auto& e) { return lab::met(e, observed); });
      if (all) {
        say(paint_("as expected", "32") + ", after " + seconds_text(steady::now() - begun) + ".");
        out_ << wrap(step.lesson, k_indent);
        out_.flush();
        return true;
      }
      if (steady::now() >= deadline) {
        for (const auto& expectation : step.expect) {
          say(paint_("NOT as expected", "1;31") + ": wanted " + lab::describe(expectation) +
              "; the oracle shows " + lab::describe_observed(expectation, observed));
        }
        return false;
      }
      if (signals_.stop_requested(k_poll)) {
        return std::nullopt;
      }
    }
  }

  bool linger(bool last) {
    if (options_.linger.count() > 0 && !last) {
      out_ << std::string(k_indent, ' ') << "(next step in " << seconds_text(options_.linger)
           << "; meanwhile try the commands above)\n";
      out_.flush();
    }
    const auto until = steady::now() + options_.linger;
    while (steady::now() < until) {
      report_changes();
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now());
      if (signals_.stop_requested(std::clamp(left, 1ms, std::chrono::milliseconds(k_poll)))) {
        return false;
      }
    }
    return true;
  }

  daemon::Service& service_;
  lab::LabWorld& world_;
  const LabOptions& options_;
  SignalGate& signals_;
  std::ostream& out_;
  Paint paint_;
  steady::time_point started_;
  net::SystemClock clock_;  // the daemon's clock, for the gates a step asks
  std::map<std::string, std::uint64_t> generations_;
  std::map<std::string, bool> suspects_;
  std::set<std::int64_t> escalations_;
};

}  // namespace

std::string program_path() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("crosscheck") : self.string();
}

LabPlay play_lab(daemon::Service& service, lab::LabWorld& world, const lab::Scenario& scenario,
                 const LabOptions& options, SignalGate& signals, std::ostream& out) {
  Runner runner(service, world, options, signals, out);
  LabPlay played;
  played.finished = runner.play(scenario, played.failures);
  if (played.finished) {
    out << '\n'
        << (played.failures == 0 ? "The script is done: every step showed what it should.\n"
                                 : "The script is done: " + std::to_string(played.failures) +
                                       " step(s) did NOT show what they should (see above).\n");
    if (!options.exit_when_done) {
      out << "The lab keeps running (healthy); Ctrl-C stops it.\n";
      out.flush();
      runner.idle();
    }
  }
  return played;
}

}  // namespace crosscheck::cli
