// `crosscheck replay`: runs the quorum engine over recorded observations on
// simulated time and prints every verdict change and escalation. Reads and
// writes only the streams it is given.
#pragma once

#include "config/config.hpp"
#include "consensus/types.hpp"

#include <iosfwd>
#include <string>

namespace crosscheck::cli {

struct ReplayOptions {
  bool json = false;                // one JSON object per change
  consensus::Duration tick{1'000};  // evaluation step between observations
  // Stop stepping a gap once nothing can change any more (same output, work
  // linear in the records). false evaluates every tick: the reference the
  // skipping is tested against.
  bool skip_settled_gaps = true;
};

struct ReplayStats {
  int lines = 0;
  int records = 0;     // lines applied
  int skipped = 0;     // bad lines, reported and skipped
  int duplicates = 0;  // observations already counted (same target, vantage, time): ignored
  int changes = 0;     // verdict changes printed
  int escalations = 0;
  // Engine evaluations run: linear in the records, whatever the gaps
  // between them (a gap is stepped only while something can change).
  long long evaluations = 0;
};

// Replays `input` (named `input_name` in messages) against `config`.
// Bad lines go to `err` as "NAME:LINE: reason (line skipped)" and have no
// effect at all, on verdicts, known domains or the simulated clock: a line
// is checked whole (target, vantage, a NODE/VANTAGE's node among the
// configured peers, time order) before it is applied. Returns the
// statistics; the caller turns `skipped > 0` into exit status 1.
ReplayStats run_replay(std::istream& input, const std::string& input_name,
                       const config::Config& config, const ReplayOptions& options,
                       std::ostream& out, std::ostream& err);

}  // namespace crosscheck::cli
