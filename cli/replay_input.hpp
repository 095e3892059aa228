// Reading `replay` input: one JSON object per line, an observation or an
// operator override (DESIGN.md "CLI contract"). Bounded line reading from a
// stream it is given and pure parsing of one line; opens no file, reads no clock.
#pragma once

#include "base/expected.hpp"
#include "consensus/action_ledger.hpp"
#include "consensus/types.hpp"

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace crosscheck::cli {

// Longest line kept; a longer one is skipped without ever being held whole.
constexpr std::size_t k_replay_max_line_bytes = std::size_t{64} * 1024;
// An observation's answers: the same bounds as a peer's vote (peer_protocol.hpp).
constexpr std::size_t k_replay_max_answers = 64;
constexpr std::size_t k_replay_max_answer_bytes = 256;
// Input echoed in a message is cut to this many bytes (after escaping).
constexpr std::size_t k_replay_max_echo_bytes = 200;

// {"t": ..., "override": {"target", "verdict", "reason", "ttl", "by"}}
struct OverrideRecord {
  std::string target;
  consensus::Override value;
};

// {"t": ..., "clear_override": "TARGET"}
struct ClearOverrideRecord {
  std::string target;
};

// {"t": ..., "action": {"target", "what", "by"?, "expect"?, "for"?}}: a
// script recorded that it acted (`gate --record`, POST /v1/actions); the
// target's cooldown (config) starts at t.
struct ActionRecord {
  consensus::ActionRequest request;
};

// {"t": ..., "ack_action": "ID"}: a human acknowledged action ID (the
// replay's ids are "replay-1", "replay-2", ... in input order).
struct AckActionRecord {
  std::string id;
};

struct ReplayRecord {
  consensus::WallTime t;
  std::variant<consensus::Observation, OverrideRecord, ClearOverrideRecord, ActionRecord,
               AckActionRecord>
      body;
  // A peer vantage's failure domain from the optional "domain" field.
  std::optional<std::string> domain;
};

enum class LineStatus : std::uint8_t { Read, TooLong, End };

// Reads `input` line by line with memory bounded by `limit`, whatever the
// input: a 200 MB line is read through to its newline, never buffered.
class LineReader {
 public:
  explicit LineReader(std::istream& input, std::size_t limit = k_replay_max_line_bytes);

  // The next line without its '\n': Read with `line` valid until the next
  // call; TooLong (more than `limit` bytes) with `line` empty and `length`
  // its size, the reader then at the following line; End at end of input.
  LineStatus next(std::string_view& line, std::size_t& length);

 private:
  std::istream& input_;
  std::vector<char> buffer_;  // limit + 1: getline stores a terminating NUL
};

// `text` fit to echo in a one-line message: control characters (C0, DEL,
// C1) and invalid UTF-8 escaped (\n, \t, \x1b, \u009b), cut to at most
// `limit` bytes on a character boundary, "…" marking a cut. A message
// echoing several values splits k_replay_max_echo_bytes among them.
std::string echo_input(std::string_view text, std::size_t limit = k_replay_max_echo_bytes);

// Parses one line. On failure returns an Error holding a
// one-line reason ("missing field 'outcome'") echoing at most
// k_replay_max_echo_bytes of any input value.
// Observations: "t", "target", "vantage", "outcome" (up|down|observer_error)
// are required; "detail", "layer", "latency_ms", "answers",
// "last_known_good" and "domain" are optional. Without "layer", a down
// observation's layer comes from its detail prefix ("dns: ..." -> dns).
// Refused: an object naming a key twice, a time with seconds 60 (a leap
// second has no representation here), more than k_replay_max_answers
// answers or one longer than k_replay_max_answer_bytes.
Expected<ReplayRecord> parse_replay_line(std::string_view line);

}  // namespace crosscheck::cli
