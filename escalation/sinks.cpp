#include "escalation/sinks.hpp"

#include "config/secret_file.hpp"
#include "net/api_client.hpp"
#include "net/http_client.hpp"
#include "net/tls_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace crosscheck::escalation {
namespace {

// Output of an exec sink kept for the log: enough to see why it failed.
constexpr std::size_t k_output_limit = 4096;

// How much of a receiver's answer is read; only its status matters, so a
// longer body is cut here, not a failure.
constexpr std::size_t k_sink_answer_limit = std::size_t{64} * 1024;

// A JSON POST to an HTTP(S) receiver through net::HttpClient: on the
// dispatcher's io_context, or on a private one for a synchronous deliver().
class HttpTransport : public SinkTransport {
 public:
  HttpTransport(config::Url url, std::shared_ptr<boost::asio::ssl::context> tls)
      : url_(std::move(url)), tls_(std::move(tls)) {}

  std::vector<std::string_view> failure_reasons() const override {
    std::vector<std::string_view> reasons(net::k_http_failure_reasons.begin(),
                                          net::k_http_failure_reasons.end());
    reasons.emplace_back("status");
    return reasons;
  }

  DeliveryResult deliver(const Alert& alert) override {
    boost::asio::io_context io;
    net::HttpClient client(io, client_options());
    std::optional<DeliveryResult> result;
    send(client, alert, [&result](DeliveryResult r) { result = std::move(r); });
    io.run();  // bounded by the request's deadline
    return result.value_or(DeliveryResult{false, "no completion", "transport"});
  }

  void deliver_async(boost::asio::io_context& io, const Alert& alert, DeliveryDone done) override {
    if (!client_) {
      client_ = std::make_unique<net::HttpClient>(io, client_options());
    }
    send(*client_, alert, std::move(done));
  }

 protected:
  // The path below the URL ("" or "/api/v2/alerts"), the body and its headers.
  virtual std::string path() const = 0;
  virtual std::string body(const Alert& alert) const = 0;
  virtual net::HttpHeaders headers(const std::string& /*body*/) const { return {}; }

 private:
  net::HttpClientOptions client_options() const {
    return net::HttpClientOptions{tls_, {}, true, "crosscheck/" CROSSCHECK_VERSION};
  }

  void send(net::HttpClient& client, const Alert& alert, DeliveryDone done) const {
    net::HttpRequest request;
    request.url = url_;
    request.target = net::api_target(url_, path());
    request.method = "POST";
    request.body = body(alert);
    request.headers = {{"Accept", "application/json"}, {"Content-Type", "application/json"}};
    for (auto& header : headers(request.body)) {
      request.headers.push_back(std::move(header));
    }
    request.body_limit = k_sink_answer_limit;
    request.truncate_body = true;
    request.deadline = net::real_http_clock().monotonic() + k_sink_timeout;
    client.request(std::move(request), [this, done = std::move(done)](net::HttpResult answer) {
      if (!answer.ok()) {
        return done({false,
                     net::describe_failure(answer, url_, k_sink_timeout, k_sink_answer_limit),
                     std::string(net::failure_reason(answer))});
      }
      const bool ok = answer.status >= 200 && answer.status < 300;
      done({ok, "HTTP " + std::to_string(answer.status), ok ? "" : "status"});
    });
  }

  config::Url url_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // null: the default client context
  std::unique_ptr<net::HttpClient> client_;         // on the dispatcher's io_context
};

class WebhookTransport final : public HttpTransport {
 public:
  WebhookTransport(const config::Url& url, std::shared_ptr<boost::asio::ssl::context> tls,
                   std::string secret)
      : HttpTransport(url, std::move(tls)), secret_(std::move(secret)) {}

 private:
  std::string path() const override { return ""; }
  std::string body(const Alert& alert) const override { return webhook_body(alert); }
  net::HttpHeaders headers(const std::string& body) const override {
    if (secret_.empty()) {
      return {};
    }
    return {{std::string(k_signature_header), webhook_signature(body, secret_)}};
  }

  std::string secret_;
};

class AlertmanagerTransport final : public HttpTransport {
 public:
  AlertmanagerTransport(const config::Url& url, std::shared_ptr<boost::asio::ssl::context> tls)
      : HttpTransport(url, std::move(tls)) {}

 private:
  std::string path() const override { return "/api/v2/alerts"; }
  std::string body(const Alert& alert) const override { return alertmanager_body(alert); }
};

// Runs the command on a thread of its own per delivery (the command blocks
// for up to k_exec_timeout; the dispatcher's thread must not), joined before
// the next one and at the end, and posts the result back.
class ExecTransport final : public SinkTransport {
 public:
  explicit ExecTransport(std::vector<std::string> argv) : argv_(std::move(argv)) {}
  ~ExecTransport() override { join(); }
  ExecTransport(const ExecTransport&) = delete;
  ExecTransport& operator=(const ExecTransport&) = delete;
  ExecTransport(ExecTransport&&) = delete;
  ExecTransport& operator=(ExecTransport&&) = delete;

  std::vector<std::string_view> failure_reasons() const override { return {"exec"}; }

  DeliveryResult deliver(const Alert& alert) override {
    return run_command(argv_, exec_environment(alert), webhook_body(alert), k_exec_timeout);
  }

  void deliver_async(boost::asio::io_context& io, const Alert& alert, DeliveryDone done) override {
    join();  // the last one has posted its result already: one delivery at a time
    // The guard keeps the io_context running while nothing of it is pending.
    runner_ = std::thread([this, &io, alert, done = std::move(done),
                           work = boost::asio::make_work_guard(io)]() mutable {
      auto result = deliver(alert);
      boost::asio::post(io, [done = std::move(done), result = std::move(result)] { done(result); });
      work.reset();
    });
  }

 private:
  void join() {
    if (runner_.joinable()) {
      runner_.join();
    }
  }

  std::vector<std::string> argv_;
  std::thread runner_;
};

std::string read_secret(const std::filesystem::path& file) {
  auto secret =
      config::read_secret_file("escalation.webhook.secret_file", file, config::SecretKind::Key);
  if (!secret) {
    throw std::runtime_error(secret.error());
  }
  return std::move(*secret);
}

// Our environment without CROSSCHECK_* (those come from the alert), then the alert's.
std::vector<std::string> child_environment(const std::vector<std::string>& added) {
  std::vector<std::string> out;
  // environ is a C array of C strings: walking it is pointer arithmetic.
  for (char** entry = environ; entry != nullptr && *entry != nullptr;
       ++entry) {  // NOLINT(*-pointer-arithmetic)
    if (std::strncmp(*entry, "CROSSCHECK_", 11) != 0) {
      out.emplace_back(*entry);
    }
  }
  out.insert(out.end(), added.begin(), added.end());
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& text : strings) {
    out.push_back(text.data());
  }
  out.push_back(nullptr);
  return out;
}

// Reads the child's output until it closes it or `deadline` passes.
bool collect_output(int fd, std::chrono::steady_clock::time_point deadline, std::string& output) {
  std::array<char, 1024> buffer{};
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, static_cast<int>(left.count())) <= 0) {
      continue;  // EINTR or timeout: the loop checks the deadline
    }
    const auto n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return true;
    }
    output.append(buffer.data(),
                  std::min(static_cast<std::size_t>(n),
                           k_output_limit - std::min(k_output_limit, output.size())));
  }
}

void write_input(int fd, const std::string& input) {
  // Why: a child that exits without reading must not kill the daemon with
  // SIGPIPE; the signal is blocked on this worker thread and dropped.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
  std::size_t written = 0;
  while (written < input.size()) {
    const auto rest = std::string_view(input).substr(written);
    const auto n = ::write(fd, rest.data(), rest.size());
    if (n <= 0) {
      break;  // the child closed stdin, or the pipe is full (non-blocking)
    }
    written += static_cast<std::size_t>(n);
  }
  const timespec zero{0, 0};
  sigtimedwait(&pipe_signal, nullptr, &zero);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

struct Pipe {
  std::array<int, 2> fds{-1, -1};
  Pipe() {
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
  }
  ~Pipe() { close_both(); }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  Pipe(Pipe&&) = delete;
  Pipe& operator=(Pipe&&) = delete;
  void close_end(int index) {
    if (fds.at(index) >= 0) {
      ::close(fds.at(index));
      fds.at(index) = -1;
    }
  }
  void close_both() {
    close_end(0);
    close_end(1);
  }
};

// True once `pid` has exited (still to be reaped); false at `deadline`. A
// child may close its output and go on running.
bool wait_exit(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  constexpr std::chrono::milliseconds k_poll{10};
  while (std::chrono::steady_clock::now() < deadline) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      return true;
    }
    std::this_thread::sleep_for(k_poll);
  }
  return false;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) {
    return "exit status " + std::to_string(WEXITSTATUS(status));
  }
  return WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                             : "ended abnormally";
}

// Starts argv with `in` as stdin and `out` as stdout and stderr: a clean
// signal state and no other descriptor of ours (the API's listening socket
// must not outlive us in a paging script). Returns 0 or an errno value.
int spawn_child(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
                const Pipe& in, const Pipe& out, pid_t& pid) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fds[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attributes, &signals);
  for (const int number : {SIGPIPE, SIGTERM, SIGINT, SIGHUP}) {
    sigaddset(&signals, number);
  }
  posix_spawnattr_setsigdefault(&attributes, &signals);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  auto args = argv;
  auto env = child_environment(environment);
  auto arg_pointers = pointers(args);
  auto env_pointers = pointers(env);
  const int spawned = ::posix_spawnp(&pid, arg_pointers[0], &actions, &attributes,
                                     arg_pointers.data(), env_pointers.data());
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  return spawned;
}

}  // namespace

DeliveryResult run_command(const std::vector<std::string>& argv,
                           const std::vector<std::string>& environment, const std::string& input,
                           std::chrono::milliseconds timeout) {
  Pipe in;
  Pipe out;
  pid_t pid = -1;
  if (const int spawned = spawn_child(argv, environment, in, out, pid); spawned != 0) {
    return {false, "cannot run " + argv.front() + ": " + std::strerror(spawned), "exec"};
  }
  in.close_end(0);
  out.close_end(1);
  ::fcntl(in.fds[1], F_SETFL, O_NONBLOCK);
  write_input(in.fds[1], input);
  in.close_end(1);
  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const bool finished = collect_output(out.fds[0], deadline, output) && wait_exit(pid, deadline);
  int status = 0;
  if (!finished) {
    ::kill(pid, SIGKILL);
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const bool ok = finished && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::string detail =
      finished ? describe_exit(status) : "killed after " + std::to_string(timeout.count()) + "ms";
  if (!output.empty()) {
    detail += ": " + output;
  }
  return {ok, std::move(detail), ok ? "" : "exec"};
}

namespace {

// The sink's client TLS context from its `tls:` block; null without one.
std::shared_ptr<boost::asio::ssl::context> sink_tls(
    const std::string& sink, const std::optional<config::TlsClientConfig>& tls) {
  if (!tls) {
    return nullptr;
  }
  auto context = net::make_client_tls_context(*tls);
  if (!context) {
    throw std::runtime_error("escalation." + sink + ".tls: " + context.error());
  }
  return std::move(*context);
}

}  // namespace

std::vector<SinkSpec> make_sinks(const config::Config& config) {
  const auto& escalation = config.escalation;
  const auto state_file = [&config](const std::string& name) {
    // A file beside the SQLite database, not in it: storage is another
    // module's, and this state is small and per sink.
    return config.node.data_dir / ("escalations-" + name + ".json");
  };
  std::vector<SinkSpec> sinks;
  if (escalation.webhook) {
    const auto secret = escalation.webhook->secret_file
                            ? read_secret(*escalation.webhook->secret_file)
                            : std::string();
    sinks.push_back(
        {"webhook",
         std::make_unique<WebhookTransport>(escalation.webhook->url,
                                            sink_tls("webhook", escalation.webhook->tls), secret),
         SinkPolicy{}, state_file("webhook")});
  }
  if (escalation.alertmanager) {
    SinkPolicy policy;
    policy.resend_interval = escalation.alertmanager->resend_interval;
    sinks.push_back(
        {"alertmanager",
         std::make_unique<AlertmanagerTransport>(
             escalation.alertmanager->url, sink_tls("alertmanager", escalation.alertmanager->tls)),
         policy, state_file("alertmanager")});
  }
  if (escalation.exec) {
    sinks.push_back({"exec", std::make_unique<ExecTransport>(escalation.exec->command),
                     SinkPolicy{}, state_file("exec")});
  }
  return sinks;
}

std::unique_ptr<EscalationDispatcher> make_dispatcher(std::vector<SinkSpec> sinks,
                                                      const consensus::Clock& clock,
                                                      const std::shared_ptr<spdlog::logger>& log) {
  if (sinks.empty()) {
    return nullptr;
  }
  return std::make_unique<EscalationDispatcher>(std::move(sinks), clock, log);
}

}  // namespace crosscheck::escalation
