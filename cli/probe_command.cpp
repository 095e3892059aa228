#include "cli/probe_command.hpp"

#include "cli/cli.hpp"
#include "config/config.hpp"
#include "consensus/time_format.hpp"
#include "net/system_clock.hpp"
#include "net/tls_client.hpp"
#include "probes/chain.hpp"
#include "probes/http_client.hpp"
#include "probes/resolv_conf.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/program_options.hpp>

#include <iomanip>
#include <ostream>

namespace crosscheck::cli {
namespace po = boost::program_options;
namespace cs = crosscheck::consensus;

namespace {

constexpr const char* k_default_config = "/etc/crosscheck/crosscheck.yaml";

struct Paint {
  bool on = false;
  std::string operator()(const std::string& text, const char* code) const {
    return on ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
  }
};

std::string outcome_word(cs::Outcome outcome, const Paint& paint) {
  switch (outcome) {
    case cs::Outcome::Up:
      return paint("UP", "1;32");
    case cs::Outcome::Down:
      return paint("DOWN", "1;31");
    case cs::Outcome::ObserverError:
      return paint("OBSERVER ERROR", "1;33");
  }
  return "?";
}

std::string describe_checks(const config::TargetConfig& target) {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  if (target.dns) {
    add("dns " + target.dns->name + " " + std::string(config::to_string(target.dns->type)));
  }
  if (target.tcp) {
    const auto& tcp = *target.tcp;
    std::string how;
    if (tcp.tls) {
      how = " (tls)";
    } else if (tcp.starttls != config::StartTls::None) {
      how = " (starttls " + std::string(config::to_string(tcp.starttls)) + ")";
    }
    add("tcp " + target.host_name() + ":" + std::to_string(tcp.port) + how +
        (tcp.expect ? " expect /" + *tcp.expect + "/" : ""));
  }
  if (target.http) {
    add(target.http->method + " " + target.http->url.text);
  }
  // "postgres db.internal:5432 role primary, writable"
  auto app = [&](std::string_view name, std::uint16_t port, config::ServerRole role,
                 bool writable) {
    add(std::string(name) + " " + target.host_name() + ":" + std::to_string(port) + " role " +
        std::string(config::to_string(role)) + (writable ? ", writable" : ""));
  };
  if (target.redis) {
    app("redis", target.redis->port, target.redis->role, false);
  }
  if (target.postgres) {
    app("postgres", target.postgres->port, target.postgres->role, target.postgres->writable);
  }
  if (target.mysql) {
    app("mysql", target.mysql->port, target.mysql->role, target.mysql->writable);
  }
  return out + "; timeout " + cs::format_duration(target.timing.timeout);
}

void print_report(const probes::ProbeReport& report, const config::VantageConfig& vantage,
                  const probes::VantageEndpoint& endpoint, std::ostream& out, const Paint& paint) {
  out << "\nfrom " << paint(vantage.name, "1") << " (domain " << vantage.domain << ", resolver "
      << (endpoint.resolver ? (endpoint.tls ? "tls://" : "") + endpoint.resolver->to_string()
                            : std::string("none"))
      << (vantage.resolver ? "" : " from resolv.conf");
  if (vantage.source) {
    out << ", source " << vantage.source->to_string();
  }
  out << ")\n";
  for (const auto& line : report.trace) {
    if (line.step == "result") {
      out << "  " << std::left << std::setw(16) << "result"
          << outcome_word(report.observation.outcome, paint) << "  " << report.observation.detail
          << " (" << std::fixed << std::setprecision(1) << report.observation.latency_ms << "ms)\n";
    } else {
      out << "  " << std::left << std::setw(16) << line.step << line.text << '\n';
    }
  }
}

}  // namespace

int run_probe_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                      bool colour) {
  po::options_description options("probe options");
  std::string config_file;
  std::string target_name;
  std::vector<std::string> only;
  options.add_options()("help,h", "show this help")(
      "config,c", po::value(&config_file)->default_value(k_default_config), "config file")(
      "vantage,v", po::value(&only), "probe from this vantage only (repeatable)");
  po::options_description hidden;
  hidden.add_options()("target", po::value(&target_name));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("target", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help") != 0U) {
    out << "usage: crosscheck probe TARGET [--vantage V] --config FILE\n\n"
        << "Runs TARGET's check chain once from every vantage (or only those given) and\n"
        << "prints each step: resolver, query, rcode, answers with TTLs, addresses reached,\n"
        << "TLS and HTTP details, latency and the outcome. Sends real traffic.\n\n"
        << "Exit status: 0 up from every vantage, 1 not up from some, 2 usage or config error.\n\n"
        << options;
    return k_exit_ok;
  }
  if (target_name.empty()) {
    err << "crosscheck probe: missing TARGET (see 'crosscheck probe --help')\n";
    return k_exit_usage;
  }
  const auto loaded = config::load_config(config_file);
  for (const auto& diagnostic : loaded.diagnostics) {
    err << diagnostic.to_string() << '\n';
  }
  if (!loaded.ok()) {
    err << "crosscheck probe: " << config_file << " has errors\n";
    return k_exit_usage;
  }
  const auto& config = *loaded.config;
  const auto* target = config.find_target(target_name);
  if (target == nullptr) {
    err << "crosscheck probe: no target '" << target_name << "' in " << config_file << '\n';
    return k_exit_usage;
  }
  std::vector<const config::VantageConfig*> vantages;
  for (const auto& vantage : config.vantages) {
    if (only.empty() || std::find(only.begin(), only.end(), vantage.name) != only.end()) {
      vantages.push_back(&vantage);
    }
  }
  for (const auto& name : only) {
    if (config.find_vantage(name) == nullptr) {
      err << "crosscheck probe: no vantage '" << name << "' in " << config_file << '\n';
      return k_exit_usage;
    }
  }

  boost::asio::io_context io;
  net::SystemClock clock;
  probes::LastKnownGoodStore last_known_good;
  probes::SystemResolvers system_resolvers;
  probes::ChainContext context{io,
                               net::make_client_tls_context(),
                               last_known_good,
                               config.probing.last_known_good_max_age,
                               clock,
                               true};
  std::vector<probes::VantageEndpoint> endpoints;
  std::vector<std::optional<probes::ProbeReport>> reports(vantages.size());
  for (std::size_t i = 0; i < vantages.size(); ++i) {
    endpoints.push_back(probes::settle_vantage(*vantages[i], system_resolvers));
    probes::run_chain(
        context, *target, endpoints.back(),
        [&reports, i](probes::ProbeReport report) { reports[i] = std::move(report); });
  }
  io.run();

  const Paint paint{colour};
  out << "probe " << paint(target->name, "1") << " (" << describe_checks(*target) << ")\n";
  int up = 0;
  std::string not_up;
  for (std::size_t i = 0; i < vantages.size(); ++i) {
    print_report(*reports[i], *vantages[i], endpoints[i], out, paint);
    if (reports[i]->observation.outcome == cs::Outcome::Up) {
      ++up;
    } else {
      not_up += (not_up.empty() ? "" : "; ") + vantages[i]->name + ": " +
                std::string(cs::to_string(reports[i]->observation.outcome));
    }
  }
  out << "\n" << up << " of " << vantages.size() << " vantages saw " << target->name << " up";
  if (!not_up.empty()) {
    out << " (" << not_up << ")";
  }
  out << '\n';
  return up == static_cast<int>(vantages.size()) ? k_exit_ok : k_exit_failure;
}

}  // namespace crosscheck::cli
