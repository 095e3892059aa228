#include "cli/lab_command.hpp"
#include "cli/lab_runner.hpp"

#include "cli/cli.hpp"
#include "config/config.hpp"
#include "consensus/time_format.hpp"
#include "daemon/logging.hpp"
#include "daemon/service.hpp"
#include "lab/scenario.hpp"
#include "lab/world.hpp"
#include "net/random.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <thread>

namespace crosscheck::cli {
namespace cs = crosscheck::consensus;
namespace fs = std::filesystem;
namespace po = boost::program_options;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto k_start_deadline = 10s;
constexpr std::string_view k_ack_token_name = "ack.token";

// A fresh token with scope ack for this lab run, readable by its user only.
fs::path write_ack_token(const fs::path& dir) {
  const auto path = dir / k_ack_token_name;
  fs::remove(path);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "create " + path.string());
  }
  const std::string token = net::random_hex(32) + "\n";
  const auto written = ::write(fd, token.data(), token.size());
  const int error = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(token.size())) {
    throw std::system_error(written < 0 ? error : EIO, std::generic_category(),
                            "write " + path.string());
  }
  return path;
}

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
      << "  API      " << api << '\n'
      << "  page     " << api << "/   (the status page: open it in a browser)\n"
      << "  ack token " << (dir / k_ack_token_name).string()
      << " (scope ack: paste it into the page to acknowledge an escalation)\n\n"
      << "Watch the oracle from another terminal:\n"
      << "  " << self << " status --watch --api " << api << '\n'
      << "  " << self << " explain shop --api " << api << '\n'
      << "  curl -s " << api << "/v1/verdicts/shop\n"
      << "  " << self << " gate shop --expect unhealthy --oracle " << api
      << "    # exit 1 while shop is confirmed healthy, 3 (hold) while disputed, 0 once the "
         "outage is confirmed\n"
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
  config_options.ack_token_file = write_ack_token(dir);
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

  const auto played = play_lab(service, world, *scenario, *options, signals, out);
  const int failures = played.failures;
  out << "stopping the lab\n";
  out.flush();
  service.stop();
  thread.join();
  return failures == 0 && service_status <= 0 ? k_exit_ok : k_exit_failure;
}

}  // namespace crosscheck::cli
