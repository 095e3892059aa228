#include "cli/lab_command.hpp"

#include "cli/cli.hpp"
#include "config/config.hpp"
#include "consensus/time_format.hpp"
#include "daemon/logging.hpp"
#include "daemon/service.hpp"
#include "lab/scenario.hpp"
#include "lab/world.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>

namespace crosscheck::cli {
namespace cs = crosscheck::consensus;
namespace fs = std::filesystem;
namespace po = boost::program_options;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto k_poll = 100ms;
constexpr auto k_start_deadline = 10s;
constexpr std::size_t k_indent = 10;  // under the "[  12.3s] " stamp

struct LabOptions {
  std::string scenario = "tour";
  lab::LabTiming timing;
  cs::Duration linger{12'000};
  std::string listen = "127.0.0.1:9470";
  std::string dir;  // empty: a temporary directory, removed at the end
  std::string log_level = "info";
  bool exit_when_done = false;
  bool colour = false;
};

struct Paint {
  bool on = false;
  std::string operator()(const std::string& text, const char* code) const {
    return on ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
  }
};

// SIGINT and SIGTERM are taken synchronously (sigtimedwait) by the thread
// that runs the script; every thread started after this inherits the block.
class SignalGate {
 public:
  SignalGate() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  }
  ~SignalGate() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  SignalGate(const SignalGate&) = delete;
  SignalGate& operator=(const SignalGate&) = delete;
  SignalGate(SignalGate&&) = delete;
  SignalGate& operator=(SignalGate&&) = delete;

  // Waits up to `wait`; true when a stop signal arrived.
  bool stop_requested(std::chrono::milliseconds wait) {
    const timespec timeout{static_cast<time_t>(wait.count() / 1000),
                           static_cast<long>((wait.count() % 1000) * 1'000'000)};
    return sigtimedwait(&set_, nullptr, &timeout) > 0;
  }

 private:
  sigset_t set_{};
  sigset_t previous_{};
};

// The lab's files: a directory the user named (kept) or a temporary one
// (removed with everything in it).
class LabDir {
 public:
  explicit LabDir(const std::string& wanted) : keep_(!wanted.empty()) {
    if (keep_) {
      path_ = wanted;
      fs::create_directories(path_);
      return;
    }
    std::string pattern = (fs::temp_directory_path() / "crosscheck-lab-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    path_ = pattern;
  }
  ~LabDir() {
    if (!keep_) {
      std::error_code ignored;
      fs::remove_all(path_, ignored);
    }
  }
  LabDir(const LabDir&) = delete;
  LabDir& operator=(const LabDir&) = delete;
  LabDir(LabDir&&) = delete;
  LabDir& operator=(LabDir&&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  bool keep_;
};

std::string program_path() {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("crosscheck") : self.string();
}

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
  std::map<std::string, std::uint64_t> generations_;
  std::map<std::string, bool> suspects_;
  std::set<std::int64_t> escalations_;
};

void print_banner(const lab::Scenario& scenario, const lab::LabWorld& world, const fs::path& dir,
                  const std::string& api, std::ostream& out) {
  const auto self = program_path();
  out << "crosscheck lab: scenario " << scenario.name << ": " << scenario.summary << "\n\n";
  std::string line;
  std::istringstream world_lines(world.describe());
  while (std::getline(world_lines, line)) {
    out << "  " << line << '\n';
  }
  out << "  config   " << (dir / "crosscheck.yaml").string() << '\n'
      << "  log      " << (dir / "crosscheck.log").string() << '\n'
      << "  API      " << api << "\n\n"
      << "Watch the oracle from another terminal:\n"
      << "  " << self << " status --watch --api " << api << '\n'
      << "  " << self << " explain shop --api " << api << '\n'
      << "  curl -s " << api << "/v1/verdicts/shop\n"
      << "  " << self << " gate shop --expect unhealthy --oracle " << api
      << "    # exit 3 (hold) until the outage is confirmed\n"
      << "Ctrl-C stops the lab and everything it started.\n\n";
  out.flush();
}

std::optional<LabOptions> parse_options(const std::vector<std::string>& args, bool colour,
                                        std::ostream& out, std::ostream& err, int& status) {
  LabOptions options;
  options.colour = colour;
  std::string interval_text;
  std::string linger_text;
  po::options_description described("lab options");
  described.add_options()("help,h", "show this help")("list", "list the scenarios and exit")(
      "scenario,s", po::value(&options.scenario)->default_value("tour"), "the incident to play")(
      "interval", po::value(&interval_text)->default_value("2s"),
      "probe interval; every other timing scales from it")(
      "linger", po::value(&linger_text)->default_value("12s"),
      "how long each step stays before the next one")(
      "listen", po::value(&options.listen)->default_value("127.0.0.1:9470"),
      "the oracle's API address (port 0: any free port)")(
      "dir", po::value(&options.dir), "keep the lab's config, database and log here")(
      "log-level", po::value(&options.log_level)->default_value("info"),
      "the oracle's log level (the log goes to a file in the lab's directory)")(
      "exit-when-done",
      "exit after the script instead of idling until Ctrl-C "
      "(status 0 only when every step showed what it should)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(described).run(), vm);
  po::notify(vm);
  status = k_exit_ok;
  if (vm.count("help") != 0U) {
    out << "usage: crosscheck lab [--scenario NAME] [--list] [OPTIONS]\n\n"
        << "Starts a simulated world on loopback (three resolvers in three failure\n"
        << "domains and one web service, all offline), runs the oracle against it with\n"
        << "its REST API on --listen, and plays a scripted incident step by step.\n\n"
        << described;
    return std::nullopt;
  }
  if (vm.count("list") != 0U) {
    for (const auto& scenario : lab::scenarios()) {
      out << scenario.name << ": " << scenario.summary << '\n';
    }
    return std::nullopt;
  }
  const auto interval = config::parse_duration(interval_text);
  const auto linger = config::parse_duration(linger_text);
  status = k_exit_usage;
  if (lab::find_scenario(options.scenario) == nullptr) {
    err << "crosscheck lab: no scenario '" << options.scenario
        << "' (see 'crosscheck lab --list')\n";
    return std::nullopt;
  }
  if (!interval || *interval < cs::Duration{200} || !linger) {
    err << "crosscheck lab: --interval must be a duration of at least 200ms and --linger a "
           "duration\n";
    return std::nullopt;
  }
  const auto listen = lab::concrete_listen(options.listen);
  if (!listen) {
    err << "crosscheck lab: --listen '" << options.listen
        << "' is not a bindable ip:port such as 127.0.0.1:9470\n";
    return std::nullopt;
  }
  options.listen = *listen;
  status = k_exit_ok;
  options.timing.interval = *interval;
  options.linger = *linger;
  options.exit_when_done = vm.count("exit-when-done") != 0U;
  return options;
}

// Writes and loads the lab's config; nullptr (with the errors on `err`)
// would be a bug in the lab, said as such.
std::shared_ptr<const config::Config> lab_config(const lab::LabWorld& world,
                                                 const LabOptions& options, const fs::path& dir,
                                                 std::ostream& err) {
  lab::LabConfigOptions config_options;
  config_options.timing = options.timing;
  config_options.data_dir = dir / "data";
  config_options.listen = options.listen;
  fs::create_directories(config_options.data_dir);
  const auto path = dir / "crosscheck.yaml";
  std::ofstream(path) << world.config_text(config_options);
  const auto loaded = config::load_config(path);
  for (const auto& diagnostic : loaded.diagnostics) {
    err << diagnostic.to_string() << '\n';
  }
  if (!loaded.ok()) {
    err << "crosscheck lab: the lab's own config is invalid (a bug; see above)\n";
    return nullptr;
  }
  return std::make_shared<const config::Config>(*loaded.config);
}

}  // namespace

int run_lab_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                    bool colour) {
  int status = k_exit_ok;
  const auto options = parse_options(args, colour, out, err, status);
  if (!options) {
    return status;
  }
  const auto level = spdlog::level::from_str(options->log_level);
  SignalGate signals;  // before any thread starts
  LabDir dir(options->dir);
  lab::LabWorld world;
  auto config = lab_config(world, *options, dir.path(), err);
  if (!config) {
    return k_exit_failure;
  }
  const auto loggers = daemon::make_loggers(daemon::LogFormat::Text, level,
                                            std::make_shared<spdlog::sinks::basic_file_sink_mt>(
                                                (dir.path() / "crosscheck.log").string(), true),
                                            false);
  daemon::ServiceOptions service_options;
  service_options.config = config;
  service_options.config_path = dir.path() / "crosscheck.yaml";
  service_options.log = loggers.main;
  service_options.notice_log = loggers.notice;
  service_options.handle_signals = false;
  daemon::Service service(std::move(service_options));
  int service_status = -1;
  std::atomic<bool> service_ended{false};
  std::thread thread([&] {
    service_status = service.run();
    service_ended = true;
  });

  // Serving once the API is bound and the first snapshot is published (the
  // service publishes the restored state before it binds the API).
  const auto serving = [&] {
    return !service.hub().current()->node.empty() && service.api_endpoint().has_value();
  };
  const auto until = steady::now() + k_start_deadline;
  while (!serving() && !service_ended && steady::now() < until && !signals.stop_requested(10ms)) {
  }
  if (!serving()) {
    service.stop();
    thread.join();
    err << "crosscheck lab: the oracle did not start (cannot listen on " << options->listen
        << "? another crosscheck running? try --listen 127.0.0.1:0); its log:\n";
    std::ifstream log_file(dir.path() / "crosscheck.log");
    err << log_file.rdbuf();
    return k_exit_failure;
  }
  const auto* scenario = lab::find_scenario(options->scenario);
  print_banner(*scenario, world, dir.path(), "http://" + service.api_endpoint()->to_string(), out);

  Runner runner(service, world, *options, signals, out);
  int failures = 0;
  const bool finished = runner.play(*scenario, failures);
  if (finished) {
    out << '\n'
        << (failures == 0 ? "The script is done: every step showed what it should.\n"
                          : "The script is done: " + std::to_string(failures) +
                                " step(s) did NOT show what they should (see above).\n");
    if (!options->exit_when_done) {
      out << "The lab keeps running (healthy); Ctrl-C stops it.\n";
      out.flush();
      runner.idle();
    }
  }
  out << "stopping the lab\n";
  out.flush();
  service.stop();
  thread.join();
  return failures == 0 && service_status <= 0 ? k_exit_ok : k_exit_failure;
}

}  // namespace crosscheck::cli
