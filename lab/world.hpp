// The lab's simulated world on loopback: three resolvers (alpha, beta, gamma,
// each its own failure domain) on 127.0.0.91-93 and one web service on
// 127.0.0.94, all on ports the kernel picks. It answers only for *.lab.test
// and sends nothing anywhere; a scenario step reshapes it with apply().
#pragma once

#include "consensus/types.hpp"
#include "lab/scenario.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace crosscheck::lab {

class FakeDnsServer;
class FakeHttpServer;

// The timings of the oracle the lab writes a config for. Everything scales
// from the probe interval, so tests can run a scenario in seconds and a
// human can follow one in about a minute.
struct LabTiming {
  consensus::Duration interval{2000};

  consensus::Duration timeout() const;        // half the interval, at least 100ms
  consensus::Duration dispute_grace() const;  // two intervals
  consensus::Duration stale_after() const;    // five intervals
  consensus::Duration congestion() const;     // how late a congested resolver answers
  consensus::Duration step_deadline() const;  // longest a step may take to show up
};

struct LabConfigOptions {
  LabTiming timing;
  std::filesystem::path data_dir;
  std::string listen = "127.0.0.1:9470";
  // A token file with scope ack (the status page's Ack button); none: the
  // lab's API takes no writes.
  std::optional<std::filesystem::path> ack_token_file;
};

// `listen` ("127.0.0.1:9470", "[::1]:0") with port 0 replaced by a port
// that was free a moment ago (the config requires a real port); nullopt
// when `listen` is not ip:port.
std::optional<std::string> concrete_listen(const std::string& listen);

class LabWorld {
 public:
  // Starts the resolvers and the service (healthy); throws std::system_error
  // when a loopback address cannot be bound.
  LabWorld();
  ~LabWorld();
  LabWorld(const LabWorld&) = delete;
  LabWorld& operator=(const LabWorld&) = delete;
  LabWorld(LabWorld&&) = delete;
  LabWorld& operator=(LabWorld&&) = delete;

  // Makes the world look like `state` from now on (congestion delays by
  // `timing.congestion()`).
  void apply(const WorldState& state, const LabTiming& timing);

  // A crosscheck config (YAML) that judges this world.
  std::string config_text(const LabConfigOptions& options) const;

  // "alpha 127.0.0.91:40123, ..., service http://shop.lab.test:40127/health".
  std::string describe() const;

 private:
  void set_resolver(FakeDnsServer& server, ResolverMode mode, consensus::Duration delay);
  std::string service_url() const;

  std::map<std::string, std::unique_ptr<FakeDnsServer>> resolvers_;
  std::unique_ptr<FakeHttpServer> web_;
};

}  // namespace crosscheck::lab
