#include "daemon/run_command.hpp"

#include "daemon/cli.hpp"
#include "daemon/service.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>

#include <ostream>

namespace crosscheck::daemon {
namespace po = boost::program_options;

int run_service_command(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
  po::options_description options("run options");
  std::string config_file;
  std::string level_text;
  options.add_options()("help,h", "show this help")(
      "config,c", po::value(&config_file)->default_value("/etc/crosscheck/crosscheck.yaml"),
      "config file")("log-level", po::value(&level_text)->default_value("info"),
                     "trace, debug, info, warn, error or critical");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).run(), vm);
  po::notify(vm);
  if (vm.count("help") != 0U) {
    out << "usage: crosscheck run --config FILE [--log-level info]\n\n"
        << "Runs the oracle: probes every target from every vantage, judges them by\n"
        << "quorum of failure domains, stores verdicts and serves the REST API on\n"
        << "api.listen. Stops cleanly on SIGTERM or SIGINT; SIGHUP re-validates the config.\n\n"
        << options;
    return k_exit_ok;
  }
  const auto level = spdlog::level::from_str(level_text);
  if (level == spdlog::level::off && level_text != "off") {
    err << "crosscheck run: --log-level '" << level_text
        << "' is not trace, debug, info, warn, error or critical\n";
    return k_exit_usage;
  }
  const auto loaded = config::load_config(config_file);
  for (const auto& diagnostic : loaded.diagnostics) {
    err << diagnostic.to_string() << '\n';
  }
  if (!loaded.ok()) {
    err << "crosscheck run: " << config_file << " has errors; not starting\n";
    return k_exit_usage;
  }
  auto log = spdlog::stderr_color_mt("crosscheck");
  log->set_level(level);
  log->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %v");
  ServiceOptions service_options;
  service_options.config = std::make_shared<const config::Config>(*loaded.config);
  service_options.config_path = config_file;
  service_options.log = log;
  Service service(std::move(service_options));
  const int status = service.run();
  spdlog::drop("crosscheck");
  return status;
}

}  // namespace crosscheck::daemon
