// What the gate tests share: running `crosscheck gate` in-process, verdict
// answers as the oracle writes them, and fake oracles answering them.
#pragma once

#include "cli/gate_command.hpp"
#include "consensus/time_format.hpp"
#include "support/fake_http_server.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace gate_test {

using crosscheck::cli::run_gate_command;
using crosscheck::testing::FakeHttpServer;
using crosscheck::testing::FakeResponse;

inline constexpr const char* k_target = "db-primary";
inline constexpr const char* k_gate_path = "/v1/verdicts/db-primary";
inline constexpr const char* k_recheck_path = "/v1/verdicts/db-primary/recheck";

struct Run {
  int status = -1;
  std::string out;
  std::string err;
  std::chrono::milliseconds took{0};
};

inline Run gate(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  Run run;
  const auto started = std::chrono::steady_clock::now();
  run.status = run_gate_command(args, out, err);
  run.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  run.out = out.str();
  run.err = err.str();
  return run;
}

inline std::string wall_text(std::chrono::seconds from_now) {
  return crosscheck::consensus::format_rfc3339(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() +
                                                              from_now));
}

// A verdict answer as the oracle's REST API writes it.
struct Verdict {
  std::string target = k_target;
  std::string verdict = "healthy";
  std::string held = "null";
  bool fresh = true;
  std::uint64_t generation = 7;
  std::string since = "2025-10-20T06:00:00Z";
  std::string valid_until = wall_text(std::chrono::hours(1));
  std::string reason = "3 of 3 domains up";
  std::string expect = "healthy";
  std::string decision = "proceed";
  std::string gate_reason = "confirmed healthy";
  std::string scope;                 // "" leaves the field out
  std::string for_;                  // gate.for; "" leaves it out
  std::string maintenance = "null";  // the "maintenance" field as JSON

  std::string json() const {
    return R"({"target": ")" + target + R"(", "verdict": ")" + verdict + R"(", "held": )" + held +
           R"(, "fresh": )" + (fresh ? "true" : "false") + R"(, "generation": )" +
           std::to_string(generation) + R"(, "since": ")" + since + R"(", "evaluated_at": ")" +
           wall_text(std::chrono::seconds(-1)) + R"(", "valid_until": ")" + valid_until +
           R"(", "reason": ")" + reason + R"(", "maintenance": )" + maintenance +
           (scope.empty() ? "" : R"(, "scope": ")" + scope + "\"") + R"(, "gate": {"expect": ")" +
           expect + "\"" + (for_.empty() ? "" : R"(, "for": ")" + for_ + "\"") +
           R"(, "decision": ")" + decision + R"(", "reason": ")" + gate_reason + R"("}})";
  }
};

inline Verdict healthy() {
  return {};
}

inline Verdict unhealthy() {
  Verdict v;
  v.verdict = "unhealthy";
  v.generation = 8;
  v.reason = "3 of 3 domains down (dns: NOERROR, empty answer)";
  v.decision = "otherwise";
  v.gate_reason = "confirmed unhealthy";
  return v;
}

// A confirmed unhealthy answer to `--expect unhealthy --for FOR` in `scope`.
inline Verdict unhealthy_as_expected(std::string scope, std::string for_ = "service") {
  Verdict v = unhealthy();
  v.expect = "unhealthy";
  v.decision = "proceed";
  v.scope = std::move(scope);
  v.for_ = std::move(for_);
  return v;
}

inline Verdict disputed() {
  Verdict v;
  v.verdict = "disputed";
  v.held = R"("healthy")";
  v.reason = "1 of 3 domains down (quad9)";
  v.decision = "hold";
  v.gate_reason = "verdict disputed";
  return v;
}

// An oracle on 127.0.0.1 answering the gate path with `status` and `body`.
inline std::unique_ptr<FakeHttpServer> oracle(int status, const std::string& body) {
  auto server = std::make_unique<FakeHttpServer>();
  server->set(k_gate_path, FakeResponse::with_status(status, body));
  return server;
}

inline std::string base(const FakeHttpServer& server) {
  return server.url("127.0.0.1", "");
}

inline std::vector<std::string> args_for(const std::vector<const FakeHttpServer*>& servers,
                                         std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {k_target, "--expect", "healthy", "--timeout", "2s"};
  for (const auto* server : servers) {
    args.push_back("--oracle");
    args.push_back(base(*server));
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace gate_test
