// The real escalation transports (webhook and Alertmanager over HTTP(S),
// exec through posix_spawn without a shell) and the SinkSpecs a config asks
// for. Each transport delivers synchronously within its own timeout, on its
// sink's worker thread.
#pragma once

#include "config/config.hpp"
#include "escalation/dispatcher.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace crosscheck::escalation {

// A delivery attempt over HTTP or exec never takes longer than this.
constexpr std::chrono::milliseconds k_sink_timeout{5'000};
constexpr std::chrono::milliseconds k_exec_timeout{10'000};

// Runs `argv` (no shell) with `environment` added to ours and `input` on its
// stdin; kills it after `timeout`. ok when it exits with status 0; detail
// holds the exit status and the start of its output.
DeliveryResult run_command(const std::vector<std::string>& argv,
                           const std::vector<std::string>& environment, const std::string& input,
                           std::chrono::milliseconds timeout);

// One SinkSpec per configured sink, each with its state file in
// node.data_dir. Throws std::runtime_error when the webhook's secret_file
// cannot be read, or a sink's `tls:` files cannot be used.
std::vector<SinkSpec> make_sinks(const config::Config& config);

// The running dispatcher for `sinks` (from make_sinks, which reads the
// secrets and starts nothing, so a caller can check them before stopping a
// running dispatcher); null when there are none.
std::unique_ptr<EscalationDispatcher> make_dispatcher(std::vector<SinkSpec> sinks,
                                                      const consensus::Clock& clock,
                                                      const std::shared_ptr<spdlog::logger>& log);

}  // namespace crosscheck::escalation
