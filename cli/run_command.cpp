#include "cli/run_command.hpp"

#include "api/server.hpp"
#include "cli/cli.hpp"
#include "daemon/logging.hpp"
#include "daemon/service.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <variant>

namespace crosscheck::cli {
namespace po = boost::program_options;

namespace {

struct RunOptions {
  std::string config_file;
  spdlog::level::level_enum level = spdlog::level::info;
  daemon::LogFormat format = daemon::LogFormat::Auto;
};

// The options, or an exit status (help shown, or a usage error said on `err`).
std::variant<RunOptions, int> parse_options(const std::vector<std::string>& args, std::ostream& out,
                                            std::ostream& err) {
  po::options_description options("run options");
  RunOptions run;
  std::string level_text;
  std::string format_text;
  options.add_options()("help,h", "show this help")(
      "config,c", po::value(&run.config_file)->default_value("/etc/crosscheck/crosscheck.yaml"),
      "config file")("log-level", po::value(&level_text)->default_value("info"),
                     "trace, debug, info, warn, error or critical")(
      "log-format", po::value(&format_text)->default_value("auto"),
      "auto (journal under systemd, else text), text, journal or json");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).run(), vm);
  po::notify(vm);
  if (vm.count("help") != 0U) {
    out << "usage: crosscheck run --config FILE [--log-level info] [--log-format auto]\n\n"
        << "Runs the oracle: probes every target from every vantage, judges them by\n"
        << "quorum of failure domains, stores verdicts and serves the REST API on\n"
        << "api.listen. Stops cleanly on SIGTERM or SIGINT; SIGHUP reloads the config.\n\n"
        << "Logs to stderr: with timestamps (colour on a terminal) as text; with syslog\n"
        << "priority prefixes (<6>, <5>, <4>, ...) and no timestamps for journald, chosen\n"
        << "by auto when systemd's JOURNAL_STREAM names stderr; one JSON object per line\n"
        << "for log shippers. Verdict changes and escalations are notices (NOTICE, <5>,\n"
        << "\"level\":\"notice\") with key=value fields.\n\n"
        << options;
    return k_exit_ok;
  }
  run.level = spdlog::level::from_str(level_text);
  if (run.level == spdlog::level::off && level_text != "off") {
    err << "crosscheck run: --log-level '" << level_text
        << "' is not trace, debug, info, warn, error or critical\n";
    return k_exit_usage;
  }
  const auto format = daemon::parse_log_format(format_text);
  if (!format) {
    err << "crosscheck run: --log-format '" << format_text
        << "' is not auto, text, journal or json\n";
    return k_exit_usage;
  }
  run.format = *format;
  return run;
}

// The loggers on `err` (stderr when run from main) in the format asked for.
daemon::Loggers stderr_loggers(const RunOptions& run, std::ostream& err) {
  const auto format = daemon::resolve_format(run.format, daemon::read_stream_facts(STDERR_FILENO));
  // Colour only for a terminal, and never when NO_COLOR is set (no-color.org).
  const bool colour = format == daemon::LogFormat::Text && isatty(STDERR_FILENO) == 1 &&
                      std::getenv("NO_COLOR") == nullptr;
  return make_loggers(format, run.level,
                      std::make_shared<spdlog::sinks::ostream_sink_mt>(err, true), colour);
}

// Raises the soft open-files limit to the hard one and says what is in
// force. Why: systemd (and most shells) start a service at a soft 1024,
// while the API alone may hold thousands of idle connections; the hard limit
// is what the administrator granted. Never fails the start: the API server
// bounds its connections by whatever limit is in force (api_connection_cap).
void raise_open_files_limit(spdlog::logger& log) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    log.warn("open files: cannot read the limit: {}", std::strerror(errno));
    return;
  }
  const rlim_t before = limit.rlim_cur;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    } else {
      log.info("open files: cannot raise the soft limit from {} to {}: {}", limit.rlim_cur,
               limit.rlim_max, std::strerror(errno));
    }
  }
  log.info("open files: limit {} (was {}, hard {}); the API takes up to {} connections",
           limit.rlim_cur, before, limit.rlim_max,
           api::api_connection_cap(api::k_default_max_connections, limit.rlim_cur));
}

}  // namespace

int run_service_command(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
  const auto parsed = parse_options(args, out, err);
  if (const auto* status = std::get_if<int>(&parsed); status != nullptr) {
    return *status;
  }
  const auto& run = std::get<RunOptions>(parsed);
  const auto loggers = stderr_loggers(run, err);
  // Through the logger, so that under journald an error has error priority.
  auto loaded = config::load_config(run.config_file);
  for (const auto& diagnostic : loaded.diagnostics) {
    loggers.main->log(
        diagnostic.severity == config::Severity::Error ? spdlog::level::err : spdlog::level::warn,
        diagnostic.to_string());
  }
  if (!loaded.ok()) {
    loggers.main->critical("{} has errors; not starting", run.config_file);
    return k_exit_usage;
  }
  raise_open_files_limit(*loggers.main);
  daemon::ServiceOptions service_options;
  // Moved, not copied: `loaded` lives as long as the daemon runs, and a
  // copy held every target's config twice (13 MB at 10,000 targets).
  service_options.config = std::make_shared<const config::Config>(std::move(*loaded.config));
  service_options.config_path = run.config_file;
  service_options.log = loggers.main;
  service_options.notice_log = loggers.notice;
  daemon::Service service(std::move(service_options));
  return service.run();
}

}  // namespace crosscheck::cli
