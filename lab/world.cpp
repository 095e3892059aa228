#include "lab/world.hpp"

#include "lab/fake_dns_server.hpp"
#include "lab/fake_http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

namespace crosscheck::lab {
namespace cs = crosscheck::consensus;
using namespace std::chrono_literals;

namespace {

// One loopback address per actor, so `ss -unp` and packet captures read
// like a map of the world.
constexpr const char* k_service_address = "127.0.0.94";
const std::map<std::string, std::string> k_resolver_addresses{
    {"alpha", "127.0.0.91"}, {"beta", "127.0.0.92"}, {"gamma", "127.0.0.93"}};
constexpr const char* k_health_path = "/health";

// "2s" or "300ms": the config's own spelling.
std::string duration_text(cs::Duration value) {
  if (value.count() % 1000 == 0) {
    return std::to_string(value.count() / 1000) + "s";
  }
  return std::to_string(value.count()) + "ms";
}

FakeDnsBehaviour service_answer(const std::string& address) {
  return FakeDnsBehaviour::answer({{"A", address, 60, {}}});
}

FakeDnsBehaviour canary_answer() {
  return FakeDnsBehaviour::answer({{"NS", "ns1.lab.test.", 3600, {}}});
}

// The port the kernel gives a TCP socket bound to `address` port 0.
std::optional<std::uint16_t> kernel_port(const config::IpAddress& address) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (address.family == config::IpAddress::Family::V4) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    std::memcpy(&v4->sin_addr, address.bytes.data(), 4);
    length = sizeof(sockaddr_in);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = AF_INET6;
    std::memcpy(&v6->sin6_addr, address.bytes.data(), 16);
    length = sizeof(sockaddr_in6);
  }
  const int fd = socket(storage.ss_family, SOCK_STREAM, 0);
  std::optional<std::uint16_t> port;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&storage), length) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) == 0) {
    port =
        ntohs(storage.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&storage)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  }
  if (fd >= 0) {
    close(fd);
  }
  return port;
}

}  // namespace

std::optional<std::string> concrete_listen(const std::string& listen) {
  // Endpoint::parse refuses port 0: parse the address with a stand-in port.
  const std::string_view text(listen);
  const bool any_port = text.ends_with(":0");
  auto endpoint = config::Endpoint::parse(
      any_port ? std::string(text.substr(0, text.size() - 2)) + ":1" : listen, std::nullopt);
  if (!endpoint) {
    return std::nullopt;
  }
  if (any_port) {
    const auto port = kernel_port(endpoint->address);
    if (!port) {
      return std::nullopt;
    }
    endpoint->port = *port;
  }
  return endpoint->to_string();
}

cs::Duration LabTiming::timeout() const {
  return std::max(cs::Duration{100}, interval / 2);
}

cs::Duration LabTiming::dispute_grace() const {
  return interval * 2;
}

cs::Duration LabTiming::stale_after() const {
  return interval * 5;
}

cs::Duration LabTiming::congestion() const {
  return timeout() * 3;
}

// Enough for fall/rise turns plus the dispute grace plus jitter, with room
// for a slow (sanitizer) build.
cs::Duration LabTiming::step_deadline() const {
  return std::max(cs::Duration{10'000}, interval * 15);
}

LabWorld::LabWorld() {
  for (const auto& [name, address] : k_resolver_addresses) {
    resolvers_[name] = std::make_unique<FakeDnsServer>(address);
  }
  FakeHttpServerOptions web_options;
  web_options.address = k_service_address;
  web_ = std::make_unique<FakeHttpServer>(web_options);
  apply({}, LabTiming{});
}

LabWorld::~LabWorld() = default;

void LabWorld::set_resolver(FakeDnsServer& server, ResolverMode mode, cs::Duration delay) {
  auto service = service_answer(k_service_address);
  auto canary = canary_answer();
  switch (mode) {
    case ResolverMode::Healthy:
      break;
    case ResolverMode::EmptyAnswer:
      service = FakeDnsBehaviour::empty();
      break;
    case ResolverMode::ServFail:
      service = FakeDnsBehaviour::servfail();
      break;
    case ResolverMode::Congested:
      service = service.delayed(delay);
      canary = canary.delayed(delay);
      break;
  }
  server.set(std::string(k_service_name), service);
  server.set(std::string(k_canary_name), canary);
}

void LabWorld::apply(const WorldState& state, const LabTiming& timing) {
  for (auto& [name, server] : resolvers_) {
    const auto mode = state.resolvers.find(name);
    set_resolver(*server, mode == state.resolvers.end() ? ResolverMode::Healthy : mode->second,
                 timing.congestion());
  }
  web_->set(k_health_path, state.service_up
                               ? FakeResponse::with_status(200, "ok\n")
                               : FakeResponse::with_status(503, "service unavailable\n"));
}

std::string LabWorld::service_url() const {
  return web_->url(k_service_name, k_health_path);
}

std::string LabWorld::config_text(const LabConfigOptions& options) const {
  const auto& timing = options.timing;
  std::ostringstream out;
  out << "# Written by `crosscheck lab`: an oracle judging the lab's simulated world.\n"
      << "node:\n  name: lab\n  data_dir: " << options.data_dir.string() << "\n"
      << "api:\n  listen: " << options.listen << "\n";
  if (options.ack_token_file) {
    out << "  tokens:\n    - name: lab-oncall\n      file: " << options.ack_token_file->string()
        << "\n      scopes: [ack]\n";
  }
  out << "defaults:\n"
      << "  interval: " << duration_text(timing.interval) << "\n"
      << "  timeout: " << duration_text(timing.timeout()) << "\n"
      << "  rise: 2\n  fall: 2\n"
      << "  stale_after: " << duration_text(timing.stale_after()) << "\n"
      << "quorum:\n  down: majority\n  up: majority\n"
      << "  dispute_grace: " << duration_text(timing.dispute_grace()) << "\n"
      << "  # The lab squeezes a whole incident into a minute; with the default\n"
      << "  # flap limit that many changes would read as flapping.\n"
      << "  flap_limit: 20\n"
      << "vantages:\n";
  for (const auto& [name, server] : resolvers_) {
    out << "  - { name: " << name << ", domain: " << name
        << ", resolver: " << server->endpoint().to_string() << " }\n";
  }
  out << "targets:\n"
      << "  - name: " << k_service_target << "\n"
      << "    dns: { name: " << k_service_name << ", type: A, min_answers: 1 }\n"
      << "    http: { url: \"" << service_url() << "\", expect_status: [200] }\n"
      << "  - name: " << k_canary_target << "\n"
      << "    canary: true\n"
      << "    dns: { name: " << k_canary_name << ", type: NS }\n"
      << "storage:\n  retention: 1d\n";
  return out.str();
}

std::string LabWorld::describe() const {
  std::string text;
  for (const auto& [name, server] : resolvers_) {
    text += "resolver " + name + " " + server->endpoint().to_string() + " (domain " + name + ")\n";
  }
  text += "service  " + service_url() + " (" + k_service_address + ")\n";
  return text;
}

}  // namespace crosscheck::lab
