// The lab's narrator: plays one scenario against a running service, says
// what each step should show and what the oracle shows, and waits for a stop
// signal. The lab command (lab_command.cpp) parses options, writes the
// lab's config and starts the service; this file tells the story.
#pragma once

#include "consensus/types.hpp"
#include "lab/world.hpp"

#include <chrono>
#include <csignal>
#include <ctime>
#include <iosfwd>
#include <string>

namespace crosscheck::daemon {
class Service;
}  // namespace crosscheck::daemon

namespace crosscheck::lab {
struct Scenario;
}  // namespace crosscheck::lab

namespace crosscheck::cli {

struct LabOptions {
  std::string scenario = "tour";
  lab::LabTiming timing;
  consensus::Duration linger{12'000};
  std::string listen = "127.0.0.1:9470";
  std::string dir;  // empty: a temporary directory, removed at the end
  std::string log_level = "info";
  bool exit_when_done = false;
  bool colour = false;
};

// SIGINT and SIGTERM are taken synchronously (sigtimedwait) by the thread
// that runs the script; every thread started after this inherits the block.
class SignalGate {
 public:
  SignalGate() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  }
  ~SignalGate() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  SignalGate(const SignalGate&) = delete;
  SignalGate& operator=(const SignalGate&) = delete;
  SignalGate(SignalGate&&) = delete;
  SignalGate& operator=(SignalGate&&) = delete;

  // Waits up to `wait`; true when a stop signal arrived.
  bool stop_requested(std::chrono::milliseconds wait) {
    const timespec timeout{static_cast<time_t>(wait.count() / 1000),
                           static_cast<long>((wait.count() % 1000) * 1'000'000)};
    return sigtimedwait(&set_, nullptr, &timeout) > 0;
  }

 private:
  sigset_t set_{};
  sigset_t previous_{};
};

struct LabPlay {
  bool finished = false;  // false when a stop signal interrupted the script
  int failures = 0;       // steps that did not show what they should
};

// Plays `scenario` and narrates it on `out`; once it is done, says how it
// went and, unless options.exit_when_done, idles until a stop signal.
LabPlay play_lab(daemon::Service& service, lab::LabWorld& world, const lab::Scenario& scenario,
                 const LabOptions& options, SignalGate& signals, std::ostream& out);

// The running executable's path, for commands the narration suggests.
std::string program_path();

}  // namespace crosscheck::cli
