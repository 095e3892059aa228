// libFuzzer target: bytes as `replay` input, one JSON object per line, each
// through cli::parse_replay_line. A bad line is refused with a one-line
// reason; no line throws or crashes. The accepted observations and overrides
// then drive the quorum engine through the invariant checker of
// tests/consensus/invariant_world.hpp (a fixed world of three domains and
// four targets, one a canary), with an evaluation at every record: an
// evaluation that publishes what the votes do not support aborts.
#include "cli/replay_input.hpp"
#include "invariant_world.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

using namespace crosscheck::cli;
namespace cs = crosscheck::consensus;
using crosscheck::testing::Step;
using crosscheck::testing::Trace;

namespace {

Trace fixed_world() {
  Trace trace;
  for (const auto* name : {"cloudflare", "quad9", "google"}) {
    trace.policy.vantages.push_back(cs::VantagePolicy{name, "", name});
  }
  for (const auto* name : {"dynamodb-use1", "db-primary", "api-gateway", "root-zone"}) {
    cs::TargetPolicy target;
    target.name = name;
    target.canary = std::string_view(name) == "root-zone";
    target.fall = std::string_view(name) == "db-primary" ? 2 : 3;
    trace.policy.targets.push_back(target);
  }
  trace.policy.blast_radius_min_targets = 2;
  return trace;
}

bool known(const Trace& trace, const cs::Observation& observation) {
  bool target = false;
  bool vantage = false;
  for (const auto& item : trace.policy.targets) {
    target = target || item.name == observation.target;
  }
  for (const auto& item : trace.policy.vantages) {
    vantage = vantage || item.name == observation.vantage;
  }
  return target && vantage;
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(*-reinterpret-cast): libFuzzer hands bytes, the code under test reads text
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  auto trace = fixed_world();
  std::optional<cs::WallTime> now;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    const auto record = parse_replay_line(line);
    if (!record && record.error().empty()) {
      std::abort();  // a refusal always says why
    }
    if (!record || (now && record->t < *now)) {
      continue;
    }
    now = record->t;
    const cs::Instant at{cs::MonoTime{record->t.time_since_epoch()}, record->t};
    Step step;
    step.at = at;
    if (const auto* observation = std::get_if<cs::Observation>(&record->body)) {
      if (!known(trace, *observation)) {
        continue;
      }
      step.kind = Step::Kind::Observe;
      step.observation = *observation;
    } else if (const auto* set = std::get_if<OverrideRecord>(&record->body)) {
      step.kind = Step::Kind::SetOverride;
      step.target = set->target;
      step.override_value = set->value;
    } else {
      step.kind = Step::Kind::ClearOverride;
      step.target = std::get<ClearOverrideRecord>(record->body).target;
    }
    trace.steps.push_back(step);
    Step evaluate;
    evaluate.kind = Step::Kind::Evaluate;
    evaluate.at = at;
    trace.steps.push_back(evaluate);
  }
  if (run_trace(trace).violation) {
    std::abort();  // the engine published what the votes did not support
  }
  return 0;
}
