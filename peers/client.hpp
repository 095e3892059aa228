// Pulling peers' votes: one io_context on one thread runs every peer's
// puller, each GETting its peer's signed /v1/peer/votes every interval
// (timers; backoff with full jitter while it fails) through net::HttpClient,
// and hands decoded exports and reachability changes to callbacks, which the
// service posts to its own thread. The decisions (backoff, reachability,
// turning an export into engine input) are pure functions below.
#pragma once

#include "base/expected.hpp"
#include "config/config.hpp"
#include "consensus/engine.hpp"
#include "net/http_client.hpp"
#include "peers/auth.hpp"
#include "peers/protocol.hpp"

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

namespace crosscheck::peers {

constexpr std::chrono::milliseconds k_peer_backoff_cap{60'000};

// A peer's export as received, with half the measured round trip (no clock
// synchronisation: the origin's age plus transfer time dates each vote).
struct PeerPull {
  PeerExport votes;
  std::chrono::milliseconds transfer{0};
};

// A 200 reply whose signature did not verify (peers/auth.hpp): its body was
// never decoded, none of its votes count.
struct PeerRefusal {
  std::string peer;
  PeerReplyStatus status = PeerReplyStatus::Missing;
};
// One line for the log and the escalation: what was refused and why.
std::string describe(const PeerRefusal& refusal);

// What a pull's reply is checked against: the shared key, this node's name
// and the signed request it answers.
struct PeerReplyCheck {
  std::string key;
  std::string requester;
  PeerSignature request;
};

// One pull's answer: the export, the refusal of an unauthenticated reply, or
// why nothing usable came (transport, status, a bad export).
using PullAnswer = std::variant<PeerPull, PeerRefusal, Error>;

// Reads one pull's reply from `peer`: a 200 whose reply signature verifies
// against `check` is decoded; a 200 that does not is refused unread.
PullAnswer read_pull(const net::HttpResult& result, const config::PeerConfig& peer,
                     const PeerReplyCheck& check, std::chrono::milliseconds timeout);

// A pull that brought nothing usable: `reason` is the
// crosscheck_peer_pull_failures_total label (pull_failure_reason()).
struct PullFailure {
  std::string peer;
  std::string why;  // one line for the log
  std::string_view reason;
};

// Every reason pull_failure_reason() gives, for counters that start at 0.
inline constexpr std::array<std::string_view, 8> k_pull_failure_reasons{
    "transport",       "tls_unknown_ca", "tls_expired", "tls_wrong_name",
    "tls_client_cert", "tls_handshake",  "status",      "bad_export"};

// Why a pull that produced `result` failed: the TLS refusal
// (net::to_string(TlsRefusal): "tls_unknown_ca", ...), "transport" for any
// other failure to get an answer (refused, timed out, closed), "status" for
// an answer other than 200, "bad_export" for a 200 whose export did not decode.
std::string_view pull_failure_reason(const net::HttpResult& result);

// A peer crossing its unreachable_after threshold, either way. `since` is
// when it last answered (or when pulling started): it keys the episode.
struct PeerReachability {
  std::string peer;
  bool reachable = false;
  consensus::WallTime since;
  std::string reason;
};

// Full-jitter exponential backoff: uniform in [0, min(cap, base * 2^failures)]
// given `unit` in [0, 1). failures 1, base 300ms -> up to 600ms; 20 -> up to cap.
std::chrono::milliseconds backoff_delay(int failures, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, double unit);

// What a puller knows of its peer's answers, carried across a reload's
// rebuild of the pullers: when it last answered (or when pulling started)
// and whether that is past unreachable_after already, for the peer at `url`.
struct PeerHealthState {
  config::Url url;
  consensus::Instant last_answer;
  bool unreachable = false;
};
// By peer name.
using PeerHealthStates = std::map<std::string, PeerHealthState>;

// Tracks one peer's answers against unreachable_after; reports each crossing once.
class PeerHealth {
 public:
  // `start`: when pulling started, the last answer until one comes.
  PeerHealth(std::string peer, consensus::Duration unreachable_after,
             const consensus::Instant& start);
  // Continues `carried` (a previous puller's state for this peer).
  PeerHealth(std::string peer, consensus::Duration unreachable_after,
             const PeerHealthState& carried);
  // One pull's result at `now`; the crossing to escalate or resolve, if any.
  std::optional<PeerReachability> record(bool answered, const consensus::Instant& now,
                                         const std::string& error);
  // What a rebuilt puller for the peer at `url` continues from.
  PeerHealthState state(const config::Url& url) const;

 private:
  std::string peer_;
  consensus::Duration unreachable_after_;
  consensus::Instant last_answer_;
  bool unreachable_ = false;
};

// The health a (re)built puller for `peer` starts from at `now`: the carried
// state when a peer of that name was pulled at the same url, so its
// unreachable clock keeps running across a reload (a peer down while
// config management reloads more often than unreachable_after was never
// escalated); otherwise a fresh count from `now`.
PeerHealth resume_health(const config::PeerConfig& peer, const PeerHealthStates& carried,
                         const consensus::Instant& now);

// Names one pull reports at most in `undeclared` and in `unlisted` (the
// rest are counted): they go into one log line, and 4,000 votes each
// claiming a domain of its own made it 423 KB (a hostile review).
constexpr std::size_t k_peer_names_listed = 10;

// What import_pull() did with one pull.
struct PeerImport {
  std::vector<std::string> vantages;  // whose vote it set (for last_seen)
  // Votes dropped: claiming a failure domain the peer's `domains:` does not
  // list, a malformed name, or a new vantage past the peer's cap.
  std::size_t dropped = 0;
  // The failure domains those votes claimed: the first k_peer_names_listed
  // in sorted order, and how many more distinct ones there were.
  std::vector<std::string> undeclared;
  std::size_t undeclared_more = 0;
  // The vantages (the peer's own names) its `vantages:` does not list, the
  // same way.
  std::vector<std::string> unlisted;
  std::size_t unlisted_more = 0;
};

// Feeds a pull into the engine at `now`: registers every NODE/VANTAGE with
// its domain and sets its vote, dated now - age - transfer; a vote for a
// domain the peer may not speak for is dropped and reported, not re-labelled.
PeerImport import_pull(consensus::Engine& engine, const PeerPull& pull,
                       const consensus::Instant& now);

// The escalation (PeerUnreachable) or its resolution (PeerReachable).
consensus::Event reachability_event(const PeerReachability& change, const consensus::Instant& now);

// Every peer's key_file, read once (trailing whitespace removed); fails
// naming the peer when one cannot be read or is empty.
Expected<std::vector<PeerKey>> load_peer_keys(const std::vector<config::PeerConfig>& peers);

// Every peer's client TLS context (net::make_client_tls_context): from its
// `tls:` block, null without one (the default context: the system store).
// Fails naming the peer when a block's files cannot be used.
using PeerTlsContexts = std::vector<std::shared_ptr<boost::asio::ssl::context>>;
Expected<PeerTlsContexts> load_peer_tls(const std::vector<config::PeerConfig>& peers);

struct PeerClientOptions {
  std::string node;  // this node's name, signed into every request
  std::chrono::milliseconds interval{10'000};
  std::chrono::milliseconds timeout{2'000};
  std::vector<config::PeerConfig> peers;
  std::vector<PeerKey> keys;              // parallel to peers
  PeerTlsContexts tls;                    // parallel to peers (or empty); null: the default context
  std::function<void(PeerPull)> on_pull;  // called on the pulling thread
  std::function<void(PeerReachability)> on_reachability;  // called on the pulling thread
  std::function<void(const PullFailure&)> on_error;       // called on the pulling thread
  // A reply refused for its signature (instead of on_error), on the pulling thread.
  std::function<void(PeerRefusal)> on_refused;
  // The previous pullers' health (PeerClient::health()), continued per peer
  // by resume_health().
  PeerHealthStates carried;
};

// Recheck requests one peer holds at once (one in flight, the rest
// waiting); past it a recheck completes at once as not answered.
constexpr std::size_t k_peer_recheck_queue = 16;

// What a peer recheck brought back: `answer` as read_pull() reads it (the
// reply is an export of the target's votes, signed for that request).
struct PeerRecheckAnswer {
  std::string peer;
  std::string target;
  PullAnswer answer;
};
using PeerRecheckCallback = std::function<void(PeerRecheckAnswer)>;

class PeerClient {
 public:
  explicit PeerClient(PeerClientOptions options);
  // stop()s.
  ~PeerClient();
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;
  PeerClient(PeerClient&&) = delete;
  PeerClient& operator=(PeerClient&&) = delete;

  // Starts the pulling thread; every peer's first pull is due at once.
  void start();
  // Cancels every pull in flight and every wait, and joins the thread.
  void stop();
  // Asks every peer to re-probe `target` now (POST /v1/peer/recheck, signed
  // like a pull); `done` runs once per peer on the pulling thread, with its
  // verified reply or why there is none, within `timeout` (its own
  // re-probe gets a little less, so its answer can still arrive).
  void recheck(const std::string& target, std::chrono::milliseconds timeout,
               PeerRecheckCallback done);
  // Every peer's health, for the next PeerClient to carry on. Only once
  // stopped (or never started): the pullers are the pulling thread's.
  PeerHealthStates health() const;

 private:
  struct Pullers;
  std::unique_ptr<Pullers> pullers_;
  std::thread thread_;
};

}  // namespace crosscheck::peers
