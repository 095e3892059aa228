// The peer wire format (GET /v1/peer/votes): what one node exports of its
// own votes and how a puller decodes it. Pure: no I/O, no clock reads; a
// decoder that validates every field and never throws on what a peer sent.
#pragma once

#include "consensus/types.hpp"
#include "consensus/window_book.hpp"
#include "snapshot/snapshot.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::peers {

constexpr std::string_view k_peer_votes_path = "/v1/peer/votes";
// What a puller asks for: the votes, the origin's maintenance windows and
// protocol version 2. Why a query and not always: a node before windows
// refuses an export with a key it does not know, so a newer node sends
// "windows" only to a puller that asks; an older node ignores the query and
// sends none (no windows). The same for the version (docs/peers.md
// "Protocol versions"): an older node ignores version=2 and answers 1.
constexpr std::string_view k_peer_votes_request = "/v1/peer/votes?windows=1&version=2";
// POST /v1/peer/recheck?target=T&timeout=D: signed like a pull (the signed
// path is this whole request target); the reply is a signed export holding
// only T's votes, once the answering node re-probed T (docs/api.md).
constexpr std::string_view k_peer_recheck_path = "/v1/peer/recheck";
// Every path under it is a peer's: the server verifies its signature.
constexpr std::string_view k_peer_path_prefix = "/v1/peer/";
// Version 2 adds the vote "degraded" (docs/degraded.md). A node answers a
// puller in the version it asked for (version=2 in the query), else in 1,
// where a degraded vote is written "up": a version 1 node has no degraded,
// and the check did pass (slowly); never "down", which would be a false
// down vote, nor "unknown", which would take the domain out of the quorum.
// Version 2 also carries layer "app" (protocol checks), written "http" in 1.
constexpr int k_peer_protocol_version = 2;
constexpr int k_peer_protocol_version_1 = 1;
// Largest export a puller reads; larger is refused, not truncated.
constexpr std::size_t k_peer_body_limit = std::size_t{1024} * 1024;
// Deepest nesting a puller parses (Boost.JSON's default is 32): an entry
// nested deeper than a vote needs but within this is one malformed entry;
// deeper refuses the export (not JSON).
constexpr std::size_t k_peer_max_depth = 128;
// Per-vote bounds (a vote's detail is one line, answers a handful of records).
constexpr std::size_t k_peer_max_name_bytes = 128;
constexpr std::size_t k_peer_max_detail_bytes = 1024;
constexpr std::size_t k_peer_max_answers = 64;
constexpr std::size_t k_peer_max_answer_bytes = 256;
// An age past this is nonsense from a broken peer (a day).
constexpr std::chrono::milliseconds k_peer_max_age{24LL * 60 * 60 * 1000};
// Action ledger entries one export carries at most (the newest live ones).
constexpr std::size_t k_peer_max_actions = 500;

// One of the origin's local votes, as exported.
struct PeerVote {
  std::string target;
  std::string vantage;  // the origin's local name (the puller prefixes NODE/)
  std::string domain;
  consensus::Vote vote = consensus::Vote::Unknown;
  // Age of the vote's last real observation on the origin's clock; nullopt
  // when it never observed.
  std::optional<std::chrono::milliseconds> age;
  consensus::Layer layer = consensus::Layer::None;
  // When `layer` is dns: whether the origin reached the last-known-good
  // addresses (decides the verdict's scope). Optional on the wire.
  consensus::LastKnownGood last_known_good = consensus::LastKnownGood::NotTried;
  std::string detail;
  std::vector<std::string> answers;
  double latency_ms = 0;
};

struct PeerExport {
  std::string node;
  std::vector<PeerVote> votes;
  // The origin's action ledger entries still in cooldown, its own and those
  // it learnt from others, acked or not (docs/gate.md "Cooldown"): every
  // oracle enforces every cooldown. Absent on the wire from an older peer.
  std::vector<consensus::RecordedAction> actions;
  // The origin's own ad-hoc maintenance windows, live and recently cleared
  // (docs/gate.md "Maintenance windows"): every oracle holds every window.
  // Absent on the wire from an older peer: none.
  std::vector<consensus::SharedWindow> windows{};
  // The protocol version the export was written in (1 or 2).
  int version{k_peer_protocol_version_1};
  // Entries (votes, ledger entries, windows) left out as malformed, and why
  // the first one was ("votes[3]: unknown vote value"; printable ASCII, at
  // most k_peer_max_malformed_bytes): one bad entry costs only itself.
  std::size_t malformed = 0;
  std::string first_malformed{};
};

// The longest first_malformed kept (it quotes what a peer sent, into a log line).
constexpr std::size_t k_peer_max_malformed_bytes = 300;

// Counts `count` entries left out of `out` as malformed for `why`; the
// first one's `why` is kept, as printable ASCII of bounded length.
void leave_out(PeerExport& out, std::string_view why, std::size_t count = 1);

// How many entries of the export's `list` ("actions", "windows") of `size`
// to read: the first `bound`; the rest are left out as malformed, counted
// one each under one reason ("actions[500] on: 3 entries past ...").
std::size_t keep_first(PeerExport& out, std::string_view list, std::size_t size, std::size_t bound);

// Why an entry holding a key this node does not know is malformed, with
// the key quoted (printable ASCII, at most 40 bytes of it).
std::string unknown_field(std::string_view key);

// The export body at origin time `now`: the snapshot's evidence of local
// vantages only (remote ones are never re-exported, so no echoes), with the
// vote before suspicion (each node judges suspicion itself); and the
// ledger's entries still in cooldown at `now` (at most k_peer_max_actions).
// With `with_windows` (the puller asked, k_peer_votes_request), this
// node's own maintenance windows not over at `now` too (window_codec.hpp).
// `version` is the protocol version the puller asked for (asked_version()).
std::string export_votes(const snapshot::Snapshot& snapshot, const consensus::Instant& now,
                         bool with_windows = false, int version = k_peer_protocol_version_1);

// Whether a pull's request target asks for the windows ("windows=1" in its query).
bool asks_for_windows(std::string_view request_target);
// The protocol version a request target asks for: 2 with "version=2" (or
// higher: this node speaks 2 at most) in its query, else 1.
int asked_version(std::string_view request_target);

// The recheck reply: like export_votes(), but only `target`'s local votes
// and no ledger entries nor windows (the regular pull carries those).
std::string export_target_votes(const snapshot::Snapshot& snapshot, const consensus::Instant& now,
                                std::string_view target, int version = k_peer_protocol_version_1);

// The request target of a peer recheck of `target` ("/v1/peer/recheck?
// target=db-a&timeout=4000ms"): names are [A-Za-z0-9._-], nothing to escape.
// With `version` 2, "&version=2" too: sent only to a peer whose last export
// was version 2 (an older node refuses a query key it does not know).
std::string peer_recheck_target(std::string_view target, std::chrono::milliseconds timeout,
                                int version = k_peer_protocol_version_1);

// Decodes and validates an export from peer `expected_node`. Nullopt with
// `why` only when its envelope is off (size, not a JSON object or nested
// past k_peer_max_depth, an unknown key, node, version, votes/actions/
// windows not an array): then none of it can be trusted. Actions and
// windows past their count are left out (keep_first()). A malformed entry (a vote, a
// ledger entry, a window: a bad name, vote, age, control characters, ...)
// is left out and counted in `malformed`, and the rest is kept: one bad
// entry from a buggy or newer peer must not hide every vote of that node
// (docs/peers.md "One bad entry costs itself"). Versions 1 and 2 are
// accepted; a version 1 vote saying "degraded" or naming layer "app" is
// malformed (version 1 has neither).
std::optional<PeerExport> decode_export(std::string_view body, std::string_view expected_node,
                                        std::string& why);

// Node, vantage, target and domain names: 1..128 of [A-Za-z0-9._-] (config's rule).
bool is_peer_name(std::string_view name);

}  // namespace crosscheck::peers
