// What `crosscheck status` and `status --watch` print: the verdict table and
// one line per verdict change, from verdicts read off the REST API. Pure:
// values and `now` in, text out; no I/O, no clock.
#pragma once

#include "consensus/types.hpp"
#include "snapshot/verdict_reader.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::cli {

struct FormatOptions {
  bool colour = false;    // ANSI colours and symbols (a terminal)
  bool wide = false;      // more columns: generation, absolute since
  std::size_t width = 0;  // terminal columns to fit the REASON into; 0: no limit
};

// ANSI styling that is a no-op when colour is off.
struct Paint {
  bool on = false;
  std::string operator()(std::string_view text, std::string_view code) const;
};

// "12s", "4m12s", "3h04m", "2d03h": a duration at a glance (never negative).
std::string format_age(consensus::Duration age);

// "4m12s ago", "in 30s", "just now" for `at` seen from `now`.
std::string relative_time(consensus::WallTime at, consensus::WallTime now);

// "healthy", or with colour a green "✔ healthy" (✖ red unhealthy, ⚠ yellow
// disputed, ? grey unknown). `upper` spells it "HEALTHY".
std::string verdict_word(consensus::VerdictKind kind, const Paint& paint, bool upper = false);

// The status table: a header line (node, revision, counts per verdict), one
// row per target (TARGET VERDICT HELD SINCE VOTES LAYER REASON; --wide adds
// GEN and AT), and a warning naming verdicts past their valid_until.
std::string format_status(const snapshot::VerdictList& list, consensus::WallTime now,
                          const FormatOptions& options);

// One line per target whose verdict, held verdict or generation moved from
// `before` to `after` (targets that appear or disappear too), e.g.
// "2026-11-25T15:00:03Z shop  healthy -> disputed (held healthy)  gen 3  1 of
// 3 domains down (beta), 2 up; down quorum 2".
std::vector<std::string> format_changes(const snapshot::VerdictList& before,
                                        const snapshot::VerdictList& after,
                                        const FormatOptions& options);

// Pads `text` with spaces to `width` terminal columns (UTF-8 aware, ANSI
// escapes not counted).
std::string pad(std::string_view text, std::size_t width);
std::size_t display_width(std::string_view text);

}  // namespace crosscheck::cli
