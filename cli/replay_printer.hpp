// `crosscheck replay`'s output: one line (text or JSON) per verdict change,
// escalation and note, and one whenever what a failover gate would let
// through changes.
#pragma once

#include "cli/replay.hpp"
#include "consensus/gate.hpp"
#include "consensus/types.hpp"

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::cli::detail {

class ReplayPrinter {
 public:
  ReplayPrinter(const config::Config& config, const ReplayOptions& options, std::ostream& out);

  // The text table's header (nothing for JSON).
  void header();
  // One engine event, counted in `stats`.
  void event(const consensus::Event& event, ReplayStats& stats);
  // A gate line whenever which failover gates (--expect unhealthy, for each
  // --for) proceed for a target changes: with the verdict lines, the replay
  // states at every step what a failover script would be let do. Nothing is
  // printed while no failover gate proceeds from the start.
  void gates(const std::vector<consensus::Verdict>& verdicts, const consensus::Instant& now);

 private:
  static constexpr std::array<consensus::GateFor, 3> k_gate_fors{
      consensus::GateFor::Service, consensus::GateFor::Dns, consensus::GateFor::Any};
  static constexpr std::string_view k_none_proceeds = "---";

  void change(const consensus::Event& event);
  void escalation(const consensus::Event& event);
  void note(const consensus::Event& event);
  void print_gates(const consensus::Verdict& verdict, const consensus::Instant& now,
                   const std::array<consensus::GateDecision, 3>& decisions);

  const ReplayOptions& options_;
  std::ostream& out_;
  std::size_t width_ = 6;
  std::map<std::string, std::string, std::less<>> gate_keys_;  // target -> which gates proceed
};

}  // namespace crosscheck::cli::detail
