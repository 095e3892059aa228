// `status`, `status --watch` and `explain`: options, where the API is, the
// requests, exit statuses. Rendering is status_format / explain_format's.
#include "cli/status_command.hpp"

#include "cli/cli.hpp"
#include "cli/explain_audit.hpp"
#include "cli/explain_format.hpp"
#include "cli/options.hpp"
#include "cli/status_format.hpp"
#include "cli/tls_options.hpp"
#include "cli/token_option.hpp"
#include "config/config.hpp"
#include "consensus/time_format.hpp"
#include "net/api_client.hpp"
#include "net/http_target.hpp"
#include "snapshot/verdict_reader.hpp"

#include <sys/ioctl.h>
#include <unistd.h>
#include <boost/program_options.hpp>

#include <algorithm>
#include <cstdlib>
#include <ostream>

namespace crosscheck::cli {
namespace {

namespace cs = consensus;
namespace po = boost::program_options;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Longest single /v1/watch wait asked for (the server caps it at 30s).
constexpr std::chrono::milliseconds k_watch_wait{25'000};
// Reconnect backoff while the API is away: 0.5s doubling up to 10s.
constexpr std::chrono::milliseconds k_first_backoff{500};
constexpr std::chrono::milliseconds k_max_backoff{10'000};

struct StatusPlan {
  config::Url api;
  net::ApiClientOptions client;
  FormatOptions format;
  std::string target;  // explain
  bool json = false;
  bool watch = false;
  std::optional<std::uint64_t> count;             // --count N
  std::optional<std::chrono::milliseconds> for_;  // --for D
};

cs::WallTime wall_now() {
  return std::chrono::time_point_cast<cs::Duration>(std::chrono::system_clock::now());
}

// The terminal's width when printing to one (0: do not cut lines).
std::size_t terminal_width(bool colour) {
  winsize size{};
  if (colour && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  return 0;
}

// The URL of the config's own API: https:// when it serves TLS (api.tls).
std::string listen_url(const config::ApiConfig& api) {
  const config::Endpoint& listen = api.listen;
  config::IpAddress address = listen.address;
  // A wildcard listener is reached on this host's loopback.
  if (address == config::IpAddress{}) {
    address = *config::IpAddress::parse("127.0.0.1");
  } else if (address == config::IpAddress{config::IpAddress::Family::V6, {}}) {
    address = *config::IpAddress::parse("::1");
  }
  return (api.tls ? "https://" : "http://") + config::Endpoint{address, listen.port}.to_string();
}

// The one-line reason for a failed request, with the hint that helps most.
std::string describe_failure(const net::ApiResult& result) {
  if (result.failure == net::ApiFailure::Unreachable) {
    return result.error + " — is `crosscheck run` running? (--api URL)";
  }
  return result.error;
}

// "http://127.0.0.1:9470 answered HTTP 503: overloaded: too many watches".
std::string describe_refusal(const config::Url& api, const net::ApiResult& result) {
  std::string out = api.text + " answered HTTP " + std::to_string(result.status);
  if (const auto body = snapshot::parse_json(result.body); body && body->is_object()) {
    for (const char* key : {"error", "detail"}) {
      if (const auto* value = body->get_object().if_contains(key);
          value != nullptr && value->is_string()) {
        out += ": " + std::string(value->get_string());
      }
    }
  }
  return out;
}

// ---- Options ------------------------------------------------------------------

constexpr const char* k_status_usage =
    "usage: crosscheck status [--api URL | --config FILE] [--timeout D] [--json] [--wide]\n"
    "                         [--token-file F]\n"
    "       crosscheck status --watch [--count N] [--for D] ...\n\n"
    "Prints every target's verdict as a table: TARGET VERDICT HELD SINCE VOTES (up/down/\n"
    "unknown failure domains) LAYER REASON; colour and symbols on a terminal only.\n"
    "--json prints the API's answer (GET /v1/verdicts) as is: one line of compact JSON.\n"
    "--watch prints the table, then one line per verdict change as it happens (with\n"
    "--json: each GET /v1/watch answer as a JSON line); it reconnects when the API goes\n"
    "away and stops on Ctrl-C, after --count N changes or after --for D.\n\n"
    "The API: --api URL, else $CROSSCHECK_API, else api.listen of --config FILE, else\n"
    "http://127.0.0.1:9470. Its token (api.read_requires_token): --token-file F, else\n"
    "$CROSSCHECK_TOKEN_FILE.\n"
    "Exit status: 0 answered (whatever the verdicts), 1 API unreachable or answering an\n"
    "error (or --for ended before --count changes), 2 usage error.\n\n";

constexpr const char* k_explain_usage =
    "usage: crosscheck explain TARGET [--api URL | --config FILE] [--timeout D] [--json]\n"
    "                         [--token-file F]\n\n"
    "Explains TARGET's verdict vote by vote: each vantage's vote and why it counts or\n"
    "not, its last observation, divergent DNS answers, last-known-good addresses, an\n"
    "override in force and what `crosscheck gate` would decide now. --json prints the\n"
    "API's answer (GET /v1/verdicts/TARGET) as is: one line of compact JSON.\n"
    "Exit status: 0 explained, 1 no such target or API unreachable or failing, 2 usage.\n\n";

// --token-file: reads need a token when the daemon sets read_requires_token.
void add_token_option(po::options_description& options, std::string& token_file) {
  options.add_options()("token-file", po::value(&token_file),
                        "bearer token for the API (else $CROSSCHECK_TOKEN_FILE)");
}

std::optional<config::Duration> positive_duration(const std::string& text) {
  const auto value = config::parse_duration(text);
  return value && value->count() > 0 ? value : std::nullopt;
}

// Parses the command's arguments into `plan`; prints help or the usage
// error. Returns the exit status to end with, or nullopt to go on.
std::optional<int> parse_plan(const std::vector<std::string>& args, bool explain, bool colour,
                              StatusPlan& plan, std::ostream& out, std::ostream& err) {
  const std::string name = explain ? "explain" : "status";
  std::string api;
  std::string config_file;
  std::string timeout;
  std::string count;
  std::string for_text;
  std::string token_file;
  TlsFlags tls_flags;
  std::vector<std::string> targets;
  po::options_description options(name + " options");
  options.add_options()("help,h", "show this help")("api", po::value(&api), "the API's base URL")(
      "config,c", po::value(&config_file), "take the API address from this config's api.listen")(
      "timeout", po::value(&timeout)->default_value("5s"), "bound on each request")(
      "json", "print the API's JSON as is");
  add_token_option(options, token_file);
  add_tls_options(options, tls_flags);
  if (!explain) {
    options.add_options()("wide", "add GEN and the absolute SINCE time")(
        "watch", "follow GET /v1/watch and print every change")("count", po::value(&count),
                                                                "--watch: stop after N changes")(
        "for", po::value(&for_text), "--watch: stop after this long (e.g. 30s)");
  }
  const auto vm = parse_with_targets(args, options, targets);
  auto fail = [&](const std::string& why) {
    err << "crosscheck " << name << ": " << why << " (see 'crosscheck " << name << " --help')\n";
    return k_exit_usage;
  };
  if (vm.count("help") != 0U) {
    out << (explain ? k_explain_usage : k_status_usage) << options;
    return k_exit_ok;
  }
  if (explain != (targets.size() == 1) || (!targets.empty() && targets.front().empty())) {
    return fail(explain ? "expected exactly one TARGET"
                        : "unexpected argument '" + targets.front() + "'");
  }
  plan.target = explain ? targets.front() : "";
  plan.json = vm.count("json") != 0U;
  plan.watch = vm.count("watch") != 0U;
  plan.format = FormatOptions{colour, vm.count("wide") != 0U, terminal_width(colour)};
  const auto parsed_timeout = positive_duration(timeout);
  if (!parsed_timeout) {
    return fail("--timeout '" + timeout + "' is not a positive duration like 5s or 500ms");
  }
  plan.client.timeout = *parsed_timeout;
  auto tls = tls_context_from(tls_flags);
  if (!tls) {
    return fail(tls.error());
  }
  plan.client.tls = std::move(*tls);
  plan.client.handle_signals = plan.watch;
  if ((vm.count("count") != 0U || vm.count("for") != 0U) && !plan.watch) {
    return fail("--count and --for need --watch");
  }
  if (vm.count("count") != 0U && !(plan.count = net::parse_count(count)).has_value()) {
    return fail("--count '" + count + "' is not a non-negative integer");
  }
  if (vm.count("for") != 0U && !(plan.for_ = positive_duration(for_text)).has_value()) {
    return fail("--for '" + for_text + "' is not a positive duration like 30s");
  }
  std::string why;
  auto url = locate_api(api, config_file, why);
  if (!url) {
    return fail(why);
  }
  plan.api = std::move(*url);
  auto token =
      read_cli_token(vm.count("token-file") != 0U ? std::optional{token_file} : std::nullopt);
  if (!token) {
    return fail(token.error());
  }
  plan.client.token = std::move(*token);
  return std::nullopt;
}

// ---- Requests ------------------------------------------------------------------

// GET `path` expecting 200; the body, or nullopt after printing why.
std::optional<std::string> fetch(net::ApiClient& client, const std::string& path,
                                 const std::string& name, std::ostream& err) {
  const auto result = client.get(path);
  if (!result.ok()) {
    err << "crosscheck " << name << ": " << describe_failure(result) << '\n';
    return std::nullopt;
  }
  if (result.status != 200) {
    err << "crosscheck " << name << ": " << describe_refusal(client.base(), result) << '\n';
    return std::nullopt;
  }
  return result.body;
}

std::optional<snapshot::VerdictList> read_list(const std::string& body, const std::string& name,
                                               std::ostream& err) {
  auto list = snapshot::read_verdict_list(std::string_view(body));
  if (!list) {
    err << "crosscheck " << name << ": unusable answer: " << list.error() << '\n';
    return std::nullopt;
  }
  return std::move(*list);
}

// Summaries carry their votes; an older oracle's do not, and each
// target's full verdict fills them in (over the same kept-alive
// connection). A target that vanished meanwhile keeps its summary.
void add_votes(net::ApiClient& client, snapshot::VerdictList& list) {
  for (std::size_t i = 0; i < list.targets.size(); ++i) {
    if (list.has_votes[i]) {
      continue;
    }
    const auto result =
        client.get("/v1/verdicts/" + net::percent_encode(list.targets[i].verdict.target));
    if (!result.ok() || result.status != 200) {
      continue;
    }
    if (auto view = snapshot::read_verdict(std::string_view(result.body)); view) {
      list.targets[i] = std::move(*view);
      list.has_votes[i] = true;
    }
  }
}

std::optional<snapshot::VerdictList> fetch_table(net::ApiClient& client, std::ostream& err) {
  const auto body = fetch(client, "/v1/verdicts", "status", err);
  auto list = body ? read_list(*body, "status", err) : std::nullopt;
  if (list) {
    add_votes(client, *list);
  }
  return list;
}

// ---- Watch ---------------------------------------------------------------------

class Watch {
 public:
  Watch(const StatusPlan& plan, net::ApiClient& client, std::ostream& out, std::ostream& err)
      : plan_(plan), client_(client), out_(out), err_(err) {
    if (plan.for_) {
      end_ = Clock::now() + *plan.for_;
    }
  }

  int run(snapshot::VerdictList current) {
    current_ = std::move(current);
    while (!client_.interrupted()) {
      const auto left = remaining();
      if (left <= 0ms) {
        return finish();
      }
      const auto wait = std::min(k_watch_wait, left);
      const auto result = client_.get(watch_path(wait), wait);
      if (result.failure == net::ApiFailure::Interrupted) {
        break;
      }
      if (!result.ok() || result.status >= 500) {
        lost(result.ok() ? describe_refusal(client_.base(), result) : describe_failure(result));
        continue;
      }
      if (result.status != 200 && result.status != 204) {
        err_ << "crosscheck status: " << describe_refusal(client_.base(), result) << '\n';
        return k_exit_failure;
      }
      if (lost_) {
        out_ << "reconnected to " << client_.base().text << '\n' << std::flush;
        lost_ = false;
        backoff_ = k_first_backoff;
      }
      if (result.status == 200 && apply(result.body) && done()) {
        return k_exit_ok;
      }
    }
    return k_exit_ok;  // SIGINT or SIGTERM: a clean stop
  }

 private:
  std::chrono::milliseconds remaining() const {
    if (!end_) {
      return k_watch_wait;
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(*end_ - Clock::now());
  }

  // After reconnecting, ask without `since`: a restarted oracle counts
  // revisions from scratch, and the full answer shows what changed meanwhile.
  std::string watch_path(std::chrono::milliseconds wait) const {
    if (resync_) {
      return "/v1/watch";
    }
    return "/v1/watch?since=" + std::to_string(current_.revision) +
           "&timeout=" + cs::format_duration(wait);
  }

  void lost(const std::string& why) {
    if (!lost_) {
      out_ << "lost the API: " << why << "; reconnecting every "
           << cs::format_duration(k_max_backoff) << " at most\n"
           << std::flush;
      lost_ = true;
    }
    resync_ = true;
    client_.pause(std::min(backoff_, std::max(remaining(), 0ms)));
    backoff_ = std::min(backoff_ * 2, k_max_backoff);
  }

  // Prints what changed; false when the answer is unusable.
  bool apply(const std::string& body) {
    if (plan_.json) {
      out_ << body << '\n' << std::flush;
    }
    auto next = snapshot::read_verdict_list(std::string_view(body));
    if (!next) {
      err_ << "crosscheck status: unusable watch answer: " << next.error() << '\n';
      return false;
    }
    const auto lines = format_changes(current_, *next, plan_.format);
    if (!plan_.json) {
      for (const auto& line : lines) {
        out_ << line << '\n';
      }
      out_ << std::flush;
    }
    changes_ += lines.size();
    resync_ = false;
    current_ = std::move(*next);
    return true;
  }

  bool done() const { return plan_.count && changes_ >= *plan_.count; }

  int finish() const {
    if (lost_) {
      err_ << "crosscheck status: --for ended while the API was unreachable\n";
      return k_exit_failure;
    }
    if (plan_.count && changes_ < *plan_.count) {
      err_ << "crosscheck status: " << changes_ << " of " << *plan_.count
           << " changes seen before --for ended\n";
      return k_exit_failure;
    }
    return k_exit_ok;
  }

  const StatusPlan& plan_;
  net::ApiClient& client_;
  std::ostream& out_;
  std::ostream& err_;
  snapshot::VerdictList current_;
  std::optional<Clock::time_point> end_;
  std::chrono::milliseconds backoff_ = k_first_backoff;
  std::uint64_t changes_ = 0;
  bool lost_ = false;
  bool resync_ = false;
};

int status(const StatusPlan& plan, std::ostream& out, std::ostream& err) {
  net::ApiClient client(plan.api, plan.client);
  if (plan.json && !plan.watch) {
    const auto body = fetch(client, "/v1/verdicts", "status", err);
    if (body) {
      out << *body << '\n';
    }
    return body ? k_exit_ok : k_exit_failure;
  }
  auto list = fetch_table(client, err);
  if (!list) {
    return k_exit_failure;
  }
  if (!plan.json) {
    out << format_status(*list, wall_now(), plan.format) << std::flush;
  }
  return plan.watch ? Watch(plan, client, out, err).run(std::move(*list)) : k_exit_ok;
}

// "no target named 'x' (known: a, b)".
std::string unknown_target(net::ApiClient& client, const std::string& target) {
  std::string out = "no target named '" + target + "'";
  const auto result = client.get("/v1/verdicts");
  if (!result.ok() || result.status != 200) {
    return out;
  }
  if (const auto list = snapshot::read_verdict_list(std::string_view(result.body)); list) {
    std::string names;
    for (const auto& view : list->targets) {
      names += (names.empty() ? "" : ", ") + view.verdict.target;
    }
    out += names.empty() ? " (no targets configured)" : " (known: " + names + ")";
  }
  return out;
}

int explain(const StatusPlan& plan, std::ostream& out, std::ostream& err) {
  net::ApiClient client(plan.api, plan.client);
  const auto result = client.get("/v1/verdicts/" + net::percent_encode(plan.target));
  if (!result.ok()) {
    err << "crosscheck explain: " << describe_failure(result) << '\n';
    return k_exit_failure;
  }
  if (result.status == 404) {
    err << "crosscheck explain: " << unknown_target(client, plan.target) << '\n';
    return k_exit_failure;
  }
  if (result.status != 200) {
    err << "crosscheck explain: " << describe_refusal(client.base(), result) << '\n';
    return k_exit_failure;
  }
  if (plan.json) {
    out << result.body << '\n';
    return k_exit_ok;
  }
  const auto view = snapshot::read_verdict(std::string_view(result.body));
  if (!view) {
    err << "crosscheck explain: unusable answer: " << view.error() << '\n';
    return k_exit_failure;
  }
  out << format_explain(*view, wall_now(), plan.format);
  if (view->verdict.override_in_force) {
    // Who set it, from where: best effort (a token without read sees none).
    const auto audit = client.get(override_audit_target(plan.target));
    if (audit.ok() && audit.status == 200) {
      out << format_override_audit(audit.body);
    }
  }
  return k_exit_ok;
}

int run_command(const std::vector<std::string>& args, bool is_explain, std::ostream& out,
                std::ostream& err, bool colour) {
  StatusPlan plan;
  try {
    if (const auto done = parse_plan(args, is_explain, colour, plan, out, err); done) {
      return *done;
    }
  } catch (const po::error& error) {  // unknown flag, missing value, ...
    const char* name = is_explain ? "explain" : "status";
    err << "crosscheck " << name << ": " << error.what() << " (see 'crosscheck " << name
        << " --help')\n";
    return k_exit_usage;
  }
  return is_explain ? explain(plan, out, err) : status(plan, out, err);
}

}  // namespace

std::optional<config::Url> locate_api(const std::string& api_flag, const std::string& config_file,
                                      std::string& why) {
  std::string text = api_flag;
  std::string source = "--api";
  if (text.empty()) {
    const char* env = std::getenv("CROSSCHECK_API");
    text = env != nullptr ? env : "";
    source = "CROSSCHECK_API";
  }
  if (text.empty() && !config_file.empty()) {
    const auto loaded = config::load_config(config_file);
    if (!loaded.ok()) {
      why = config_file + ": the config has errors (see 'crosscheck check-config " + config_file +
            "')";
      return std::nullopt;
    }
    text = listen_url(loaded.config->api);
    source = config_file + " api.listen";
  }
  if (text.empty()) {
    text = k_default_api;
  }
  auto url = net::parse_api_url(text);
  if (!url) {
    why = source + " '" + text + "': " + url.error();
    return std::nullopt;
  }
  return std::move(*url);
}

int run_status_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                       bool colour) {
  return run_command(args, false, out, err, colour);
}

int run_explain_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                        bool colour) {
  return run_command(args, true, out, err, colour);
}

}  // namespace crosscheck::cli
