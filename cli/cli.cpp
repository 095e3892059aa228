#include "cli/cli.hpp"

#include "cli/gate_command.hpp"
#include "cli/lab_command.hpp"
#include "cli/options.hpp"
#include "cli/probe_command.hpp"
#include "cli/replay.hpp"
#include "cli/run_command.hpp"
#include "cli/status_command.hpp"
#include "config/config.hpp"

#include <boost/program_options.hpp>

#include <fstream>
#include <iostream>

namespace crosscheck::cli {
namespace po = boost::program_options;

namespace {

constexpr const char* k_default_config = "/etc/crosscheck/crosscheck.yaml";

constexpr const char* k_usage = R"(usage: crosscheck COMMAND [OPTIONS]

An independent health oracle: a target is unhealthy only when independent
failure domains agree.

commands:
  run --config CONFIG           run the oracle: probe, judge, store, serve the REST API
  check-config FILE             validate a config file; print a summary or every error
  probe TARGET --config CONFIG  probe TARGET once from every vantage, step by step
  status [--watch]              every target's verdict as a table (from the REST API);
                                --watch prints each change as it happens
  explain TARGET                why TARGET's verdict is what it is, vote by vote
  gate TARGET --expect STATE    ask the oracle(s) whether a failover may proceed
                                (exit 0 proceed, 1 confirmed otherwise, 3 hold,
                                4 no oracle reachable)
  replay FILE --config CONFIG   run the quorum engine over recorded observations
                                (JSON lines) and print every verdict change
  lab [--scenario NAME]         the offline demo: a simulated world on loopback, the
                                oracle judging it, and a scripted incident
  help                          this text
  --version                     print the version

Run 'crosscheck COMMAND --help' for a command's options.
Exit status: 0 success, 1 failure (see the command), 2 usage or config error.
)";

void print_diagnostics(const std::vector<config::Diagnostic>& diagnostics, std::ostream& err) {
  for (const auto& diagnostic : diagnostics) {
    err << diagnostic.to_string() << '\n';
  }
}

int count_errors(const std::vector<config::Diagnostic>& diagnostics) {
  int errors = 0;
  for (const auto& diagnostic : diagnostics) {
    errors += diagnostic.severity == config::Severity::Error ? 1 : 0;
  }
  return errors;
}

int run_replay_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::options_description options("replay options");
  std::string config_file;
  std::string input_file;
  std::string tick_text;
  options.add_options()("help,h", "show this help")(
      "config,c", po::value(&config_file)->default_value(k_default_config),
      "config file with the vantages and targets")("json", "print one JSON object per change")(
      "tick", po::value(&tick_text)->default_value("1s"), "evaluation step between observations");
  po::options_description hidden;
  hidden.add_options()("input", po::value(&input_file));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("input", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help") != 0U) {
    out << "usage: crosscheck replay OBSERVATIONS.jsonl --config FILE [--json] [--tick D]\n\n"
        << "Replays recorded observations through the quorum engine on simulated time and\n"
        << "prints every verdict change: would this config have failed over during that\n"
        << "incident? Input: one JSON object per line, in time order, e.g.\n"
        << R"(  {"t": "2025-10-20T06:48:00Z", "target": "dynamodb-use1", "vantage": "quad9",)"
        << "\n"
        << R"(   "outcome": "down", "detail": "dns: NOERROR, empty answer"})"
        << "\n\nExit status: 0 all lines replayed, 1 some lines were skipped (reported on\n"
        << "stderr), 2 usage or config error.\n\n"
        << options;
    return k_exit_ok;
  }
  if (input_file.empty()) {
    err << "crosscheck replay: missing OBSERVATIONS.jsonl (see 'crosscheck replay --help')\n";
    return k_exit_usage;
  }
  ReplayOptions replay_options;
  replay_options.json = vm.count("json") != 0U;
  const auto tick = config::parse_duration(tick_text);
  if (!tick || tick->count() <= 0) {
    err << "crosscheck replay: --tick '" << tick_text << "' is not a positive duration\n";
    return k_exit_usage;
  }
  replay_options.tick = *tick;

  const auto loaded = config::load_config(config_file);
  print_diagnostics(loaded.diagnostics, err);
  if (!loaded.ok()) {
    err << "crosscheck replay: " << config_file << ": config has "
        << count_errors(loaded.diagnostics) << " error(s)\n";
    return k_exit_usage;
  }
  std::ifstream input(input_file);
  if (!input) {
    err << "crosscheck replay: cannot read " << input_file << '\n';
    return k_exit_usage;
  }
  const auto stats = run_replay(input, input_file, *loaded.config, replay_options, out, err);
  return stats.skipped > 0 ? k_exit_failure : k_exit_ok;
}

}  // namespace

int run_check_config(const std::string& file, std::ostream& out, std::ostream& err) {
  const auto loaded = config::load_config(file);
  print_diagnostics(loaded.diagnostics, err);
  if (!loaded.ok()) {
    const int errors = count_errors(loaded.diagnostics);
    err << file << ": " << errors << (errors == 1 ? " error" : " errors") << '\n';
    return k_exit_usage;
  }
  out << file << ": ok: " << config::summarize(*loaded.config) << '\n';
  return k_exit_ok;
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            bool colour) {
  if (args.empty()) {
    err << k_usage;
    return k_exit_usage;
  }
  const auto& command = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "help" || command == "--help" || command == "-h") {
      out << k_usage;
      return k_exit_ok;
    }
    if (command == "--version" || command == "version") {
      out << "crosscheck " << CROSSCHECK_VERSION << '\n';
      return k_exit_ok;
    }
    if (command == "check-config") {
      if (rest.size() != 1 || rest.front().starts_with('-')) {
        err << "usage: crosscheck check-config FILE\n";
        return rest.size() == 1 && (rest.front() == "--help" || rest.front() == "-h")
                   ? k_exit_ok
                   : k_exit_usage;
      }
      return run_check_config(rest.front(), out, err);
    }
    if (command == "replay") {
      return run_replay_command(rest, out, err);
    }
    if (command == "run") {
      return run_service_command(rest, out, err);
    }
    if (command == "gate") {
      return run_gate_command(rest, out, err);
    }
    if (command == "lab") {
      return run_lab_command(rest, out, err, colour);
    }
    if (command == "status") {
      return run_status_command(rest, out, err, colour);
    }
    if (command == "explain") {
      return run_explain_command(rest, out, err, colour);
    }
    if (command == "probe") {
      return run_probe_command(rest, out, err, colour);
    }
  } catch (const po::error& error) {
    err << "crosscheck " << command << ": " << error.what() << '\n';
    return k_exit_usage;
  }
  err << "crosscheck: unknown command '" << command << "'\n\n" << k_usage;
  return k_exit_usage;
}

po::variables_map parse_with_targets(const std::vector<std::string>& args,
                                     const po::options_description& options,
                                     std::vector<std::string>& targets) {
  po::options_description all;
  all.add(options).add_options()("target", po::value(&targets));
  po::positional_options_description positional;
  positional.add("target", -1);
  const auto style =
      po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).style(style).run(),
            vm);
  po::notify(vm);
  return vm;
}

}  // namespace crosscheck::cli
