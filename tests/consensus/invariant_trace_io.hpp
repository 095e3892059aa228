// Invariant-world traces as JSON lines, so that a shrunk failure can be kept
// in tests/consensus/regressions/ and replayed exactly. Test support: it
// reads and writes text, and never drives an engine.
//
// The format, one JSON object per line ('#' lines and blank lines are
// comments):
//   {"seed": 1, "policy": {"targets": [...], "vantages": [...], ...}}   first
//   {"t": "2025-10-20T06:00:40.553Z", "observe": {"target": ..., ...}}
//   {"t": ..., "remote": {...}}          {"t": ..., "add_remote": {...}}
//   {"t": ..., "set_override": {...}}    {"t": ..., "clear_override": "t3"}
//   {"t": ..., "restart": true}          {"t": ..., "evaluate": true}
// Times are RFC 3339 on both clocks at once; an instant whose monotonic
// reading differs from its wall reading (a wall clock step) is written
// {"wall": "...", "mono_ms": N}. Durations are whole milliseconds in fields
// named *_ms. Fractions are strings holding the shortest exact decimal.
#pragma once

#include "invariant_world.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::testing {

// How a quorum of "majority" (cs::Quorum without a count) is spelled.
inline constexpr std::string_view k_majority_quorum = "majority";

// The trace with its seed, its whole policy and every field of every step
// that run_trace() reads, so that from_jsonl() gives the same trace back.
std::string to_jsonl(const Trace& trace);

// Reads to_jsonl()'s format back exactly; nullopt with `error` set to
// "line N: what is wrong" for a line that is not a trace line, an unknown
// or missing field, or a trace without its policy line.
std::optional<Trace> from_jsonl(std::string_view text, std::string& error);

}  // namespace crosscheck::testing
