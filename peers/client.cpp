#include "peers/client.hpp"

#include "net/tls_client.hpp"

#include "base/ascii.hpp"

#include "config/secret_file.hpp"
#include "consensus/time_format.hpp"
#include "net/api_client.hpp"
#include "net/http_client.hpp"
#include "net/system_clock.hpp"
#include "net/tls_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <deque>
#include <random>
#include <set>

namespace crosscheck::peers {
namespace {

namespace cs = crosscheck::consensus;
using std::chrono::milliseconds;

cs::Outcome outcome_of(cs::Vote vote) {
  switch (vote) {
    case cs::Vote::Up:
    case cs::Vote::Degraded:  // the check passed, slowly
      return cs::Outcome::Up;
    case cs::Vote::Down:
      return cs::Outcome::Down;
    case cs::Vote::Unknown:
      return cs::Outcome::ObserverError;
  }
  return cs::Outcome::ObserverError;
}

cs::RemoteVote remote_vote(const std::string& node, const PeerVote& vote, milliseconds transfer,
                           const cs::Instant& now) {
  cs::RemoteVote out;
  out.target = vote.target;
  out.vantage = node + "/" + vote.vantage;
  out.vote = vote.vote;
  if (vote.age) {
    out.observed_at = now + (-(*vote.age + transfer));
  }
  cs::Observation last;
  last.target = vote.target;
  last.vantage = out.vantage;
  last.at = out.observed_at.value_or(now);
  last.outcome = outcome_of(vote.vote);
  last.layer = vote.layer;
  last.last_known_good = vote.last_known_good;
  last.latency_ms = vote.latency_ms;
  last.detail = vote.detail;
  last.answers = vote.answers;
  out.last = std::move(last);
  return out;
}

// The GET of `peer`'s votes signed with `signature`, due by `deadline`.
net::HttpRequest pull_request(const config::PeerConfig& peer, const PeerSignature& signature,
                              std::chrono::steady_clock::time_point deadline) {
  net::HttpRequest request;
  request.url = peer.url;
  request.target = net::api_target(peer.url, k_peer_votes_request);
  request.headers = {{"Accept", "application/json"},
                     {std::string(k_peer_node_header), signature.node},
                     {std::string(k_peer_timestamp_header), signature.timestamp},
                     {std::string(k_peer_nonce_header), signature.nonce},
                     {std::string(k_peer_signature_header), signature.signature}};
  // The peer's body cap while reading, not after: a huge answer stops at 1 MiB.
  request.body_limit = k_peer_body_limit;
  request.deadline = deadline;
  return request;
}

// The signed POST asking `peer` to re-probe: `signature` covers `target`.
net::HttpRequest recheck_request(const config::PeerConfig& peer, const PeerSignature& signature,
                                 const std::string& target,
                                 std::chrono::steady_clock::time_point deadline) {
  auto request = pull_request(peer, signature, deadline);
  request.method = "POST";
  request.target = target;
  return request;
}

// What a peer's own re-probe may take of the caller's timeout: the rest
// carries its answer back. 5 s -> 4 s; 1 s -> 800 ms.
milliseconds peer_recheck_budget(milliseconds timeout) {
  return std::max(milliseconds{1}, timeout - std::min(milliseconds{1'000}, timeout / 5));
}

}  // namespace

PullAnswer read_pull(const net::HttpResult& result, const config::PeerConfig& peer,
                     const PeerReplyCheck& check, milliseconds timeout) {
  if (!result.ok()) {
    return fail(net::describe_failure(result, peer.url, timeout, k_peer_body_limit));
  }
  if (result.status != 200) {
    // Unauthenticated: quoted printable only, so it cannot forge a log line.
    return fail("answered " + std::to_string(result.status) + ": " +
                ascii::printable(result.body, 200));
  }
  // Why before decoding: an unauthenticated body is not read at all, so
  // nothing in it (votes, names, sizes) reaches the decoder or the engine.
  const PeerReplyBinding binding{peer.name, check.requester, check.request.timestamp,
                                 check.request.nonce};
  const auto status = verify_peer_reply(check.key, binding, result.body,
                                        result.header(k_peer_reply_signature_header));
  if (status != PeerReplyStatus::Ok) {
    return PeerRefusal{peer.name, status};
  }
  std::string why;
  auto votes = decode_export(result.body, peer.name, why);
  if (!votes) {
    return fail("bad export: " + why);
  }
  const auto round_trip = std::chrono::duration_cast<milliseconds>(result.latency);
  return PeerPull{std::move(*votes), round_trip / 2};
}

std::string describe(const PeerRefusal& refusal) {
  std::string why;
  switch (refusal.status) {
    case PeerReplyStatus::Missing:
      why = "the reply carries no X-Crosscheck-Reply-Signature (forged, or a node too old to sign)";
      break;
    case PeerReplyStatus::Malformed:
      why = "the reply's X-Crosscheck-Reply-Signature is not 64 hex digits";
      break;
    default:
      why =
          "the reply's signature does not match its body and this pull's nonce (forged, "
          "tampered, replayed from another pull, or signed with another key)";
      break;
  }
  return "reply refused (" + std::string(to_string(refusal.status)) + "): " + why +
         "; none of its votes count";
}

milliseconds backoff_delay(int failures, milliseconds base, milliseconds cap, double unit) {
  // Why the shift is bounded: past 2^20 intervals every base is over any cap.
  const int shift = std::clamp(failures, 0, 20);
  const auto ceiling = std::min(cap, base * (std::int64_t{1} << shift));
  const double fraction = std::clamp(unit, 0.0, 1.0);
  return milliseconds(static_cast<std::int64_t>(static_cast<double>(ceiling.count()) * fraction));
}

PeerHealth::PeerHealth(std::string peer, cs::Duration unreachable_after, const cs::Instant& start)
    : peer_(std::move(peer)), unreachable_after_(unreachable_after), last_answer_(start) {}

PeerHealth::PeerHealth(std::string peer, cs::Duration unreachable_after,
                       const PeerHealthState& carried)
    : peer_(std::move(peer)),
      unreachable_after_(unreachable_after),
      last_answer_(carried.last_answer),
      unreachable_(carried.unreachable) {}

PeerHealthState PeerHealth::state(const config::Url& url) const {
  return PeerHealthState{url, last_answer_, unreachable_};
}

PeerHealth resume_health(const config::PeerConfig& peer, const PeerHealthStates& carried,
                         const cs::Instant& now) {
  if (const auto found = carried.find(peer.name);
      found != carried.end() && found->second.url == peer.url) {
    return PeerHealth(peer.name, peer.unreachable_after, found->second);
  }
  return PeerHealth(peer.name, peer.unreachable_after, now);
}

std::optional<PeerReachability> PeerHealth::record(bool answered, const cs::Instant& now,
                                                   const std::string& error) {
  if (answered) {
    const auto since = last_answer_.wall;
    last_answer_ = now;
    if (!unreachable_) {
      return std::nullopt;
    }
    unreachable_ = false;
    return PeerReachability{peer_, true, since, "peer " + peer_ + " answers again"};
  }
  // Why from the last answer: a peer down since start-up is as unreachable
  // as one that stopped answering, and both are escalated once.
  if (unreachable_ || now.mono - last_answer_.mono <= unreachable_after_) {
    return std::nullopt;
  }
  unreachable_ = true;
  return PeerReachability{peer_, false, last_answer_.wall,
                          "peer " + peer_ + " has not answered since " +
                              cs::format_rfc3339(last_answer_.wall) + ": " + error};
}

namespace {

// The first k_peer_names_listed of `names` (sorted), and how many more.
std::size_t list_first(const std::set<std::string>& names, std::vector<std::string>& listed) {
  for (const auto& name : names) {
    if (listed.size() == k_peer_names_listed) {
      break;
    }
    listed.push_back(name);
  }
  return names.size() - listed.size();
}

}  // namespace

PeerImport import_pull(cs::Engine& engine, const PeerPull& pull, const cs::Instant& now) {
  PeerImport out;
  const std::string& node = pull.votes.node;
  std::set<std::string> unlisted;
  std::set<std::string> undeclared;
  for (const auto& vote : pull.votes.votes) {
    if (!cs::listed_peer_vantage(engine.policy(), node, vote.vantage)) {
      ++out.dropped;
      unlisted.insert(vote.vantage);
      continue;
    }
    if (!cs::counted_peer_domain(engine.policy(), node, vote.domain)) {
      ++out.dropped;
      undeclared.insert(vote.domain);
      continue;
    }
    const std::string name = node + "/" + vote.vantage;
    if (!engine.add_remote_vantage(cs::VantagePolicy{name, node, vote.domain})) {
      ++out.dropped;  // a malformed name, or a new vantage past the peer's cap
      continue;
    }
    if (engine.observe_remote(remote_vote(node, vote, pull.transfer, now)) ==
            cs::ObserveStatus::Accepted &&
        std::find(out.vantages.begin(), out.vantages.end(), name) == out.vantages.end()) {
      out.vantages.push_back(name);
    }
  }
  out.undeclared_more = list_first(undeclared, out.undeclared);
  out.unlisted_more = list_first(unlisted, out.unlisted);
  return out;
}

cs::Event reachability_event(const PeerReachability& change, const cs::Instant& now) {
  cs::Event event;
  event.kind = change.reachable ? cs::EventKind::PeerReachable : cs::EventKind::PeerUnreachable;
  // Both ends of one outage share the key: the peer and its last answer.
  event.key = "peer/" + change.peer + "/" + cs::format_rfc3339(change.since);
  event.at = now;
  event.vantage = change.peer;
  event.reason = change.reason;
  return event;
}

std::string_view pull_failure_reason(const net::HttpResult& result) {
  if (!result.ok()) {
    return net::failure_reason(result);
  }
  return result.status == 200 ? "bad_export" : "status";
}

Expected<PeerTlsContexts> load_peer_tls(const std::vector<config::PeerConfig>& peers) {
  PeerTlsContexts contexts;
  for (const auto& peer : peers) {
    if (!peer.tls) {
      contexts.emplace_back();
      continue;
    }
    auto context = net::make_client_tls_context(*peer.tls);
    if (!context) {
      return fail("peer " + peer.name + ": tls: " + context.error());
    }
    contexts.push_back(std::move(*context));
  }
  return contexts;
}

Expected<std::vector<PeerKey>> load_peer_keys(const std::vector<config::PeerConfig>& peers) {
  std::vector<PeerKey> keys;
  for (const auto& peer : peers) {
    auto key = config::read_secret_file("key_file", peer.key_file, config::SecretKind::Key);
    if (!key) {
      return fail("peer " + peer.name + ": " + key.error());
    }
    keys.push_back(PeerKey{peer.name, std::move(*key)});
  }
  return keys;
}

namespace {

// One peer's pulls: a request, then a timer until the next, on the shared
// io_context. Only the pulling thread touches it.
class Puller {
 public:
  Puller(boost::asio::io_context& io, const PeerClientOptions& options, std::size_t index,
         const net::SystemClock& clock, std::uint64_t seed)
      : options_(options),
        peer_(options.peers[index]),
        key_(options.keys[index]),
        sent_{key_.key, options.node, {}},
        clock_(clock),
        client_(io,
                net::HttpClientOptions{index < options.tls.size() ? options.tls[index] : nullptr,
                                       {},
                                       true,
                                       "crosscheck-peer/" CROSSCHECK_VERSION}),
        recheck_client_(
            io, net::HttpClientOptions{index < options.tls.size() ? options.tls[index] : nullptr,
                                       {},
                                       false,
                                       "crosscheck-peer/" CROSSCHECK_VERSION}),
        timer_(io),
        health_(resume_health(peer_, options.carried, clock.now())),
        random_(seed) {}

  void schedule(milliseconds delay) {
    if (stopping_) {
      return;
    }
    timer_.expires_after(delay);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec && !stopping_) {
        pull();
      }
    });
  }

  PeerHealthState health() const { return health_.state(peer_.url); }

  // Queues a recheck of `target`; one runs at a time on its own connection
  // (a pull in flight is not delayed by it).
  void recheck(const std::string& target, milliseconds timeout, const PeerRecheckCallback& done) {
    if (stopping_ || rechecks_.size() >= k_peer_recheck_queue) {
      return done(
          PeerRecheckAnswer{peer_.name, target, fail("too many rechecks waiting for this peer")});
    }
    rechecks_.push_back(
        Recheck{target, timeout, net::real_http_clock().monotonic() + timeout, done, {}});
    if (rechecks_.size() == 1) {
      next_recheck();
    }
  }
  const std::string& name() const { return peer_.name; }

  void stop() {
    stopping_ = true;
    timer_.cancel();
    client_.cancel();
    recheck_client_.cancel();
  }

 private:
  struct Recheck {
    std::string target;
    milliseconds timeout;
    std::chrono::steady_clock::time_point deadline;
    PeerRecheckCallback done;
    PeerReplyCheck sent;
  };

  void next_recheck() {
    if (rechecks_.empty()) {
      return;
    }
    auto& job = rechecks_.front();
    const auto now = net::real_http_clock().monotonic();
    if (stopping_ || now >= job.deadline) {
      return finish_recheck(fail(stopping_ ? "stopped" : "the deadline passed while queued"));
    }
    const auto left = std::chrono::duration_cast<milliseconds>(job.deadline - now);
    const auto path = net::api_target(
        peer_.url, peer_recheck_target(job.target, peer_recheck_budget(left), peer_version_));
    job.sent =
        PeerReplyCheck{key_.key, options_.node,
                       sign_peer_request(options_.node, key_.key, "POST", path, clock_.system())};
    recheck_client_.request(
        recheck_request(peer_, job.sent.request, path, job.deadline),
        [this](const net::HttpResult& result) {
          auto& current = rechecks_.front();
          finish_recheck(read_pull(result, peer_, current.sent, current.timeout));
        });
  }

  void finish_recheck(PullAnswer answer) {
    auto job = std::move(rechecks_.front());
    rechecks_.pop_front();
    job.done(PeerRecheckAnswer{peer_.name, job.target, std::move(answer)});
    next_recheck();
  }

  void pull() {
    const auto deadline = net::real_http_clock().monotonic() + options_.timeout;
    // What gets signed is what is sent; the reply must be bound to it.
    sent_.request =
        sign_peer_request(options_.node, key_.key, "GET",
                          net::api_target(peer_.url, k_peer_votes_request), clock_.system());
    client_.request(pull_request(peer_, sent_.request, deadline),
                    [this](const net::HttpResult& result) { on_result(result); });
  }

  void on_result(const net::HttpResult& result) {
    if (stopping_) {
      return;  // cancelled by stop(): neither a failure nor an answer
    }
    auto answer = read_pull(result, peer_, sent_, options_.timeout);
    auto* pull = std::get_if<PeerPull>(&answer);
    auto* refusal = std::get_if<PeerRefusal>(&answer);
    // Why a refused reply counts as no answer: its evidence never arrived,
    // so the peer is as unreachable to the quorum as a silent one.
    const std::string why = pull      ? std::string()
                            : refusal ? describe(*refusal)
                                      : std::get<Error>(answer).message;
    if (auto change = health_.record(pull != nullptr, clock_.now(), why)) {
      options_.on_reachability(std::move(*change));
    }
    if (pull != nullptr) {
      failures_ = 0;
      peer_version_ = pull->votes.version;
      options_.on_pull(std::move(*pull));
      return schedule(options_.interval);
    }
    if (refusal != nullptr) {
      options_.on_refused(std::move(*refusal));
    } else {
      options_.on_error(PullFailure{peer_.name, why, pull_failure_reason(result)});
    }
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    schedule(backoff_delay(++failures_, options_.interval, k_peer_backoff_cap, unit(random_)));
  }

  const PeerClientOptions& options_;
  const config::PeerConfig& peer_;
  const PeerKey& key_;
  PeerReplyCheck sent_;  // the pull in flight, for its reply's check
  const net::SystemClock& clock_;
  net::HttpClient client_;
  net::HttpClient recheck_client_;
  std::deque<Recheck> rechecks_;
  boost::asio::steady_timer timer_;
  PeerHealth health_;
  std::mt19937_64 random_;
  int failures_ = 0;
  // The protocol version of the peer's last export: a recheck asks for
  // version 2 only from a peer that spoke it (an older one refuses the key).
  int peer_version_ = k_peer_protocol_version_1;
  bool stopping_ = false;
};

}  // namespace

struct PeerClient::Pullers {
  explicit Pullers(PeerClientOptions client_options) : options(std::move(client_options)) {
    std::random_device seed;
    for (std::size_t i = 0; i < options.peers.size(); ++i) {
      pullers.push_back(std::make_unique<Puller>(
          io, options, i, clock, (static_cast<std::uint64_t>(seed()) << 32U) | seed()));
    }
  }

  PeerClientOptions options;
  net::SystemClock clock;
  boost::asio::io_context io;
  std::vector<std::unique_ptr<Puller>> pullers;  // before io goes away
};

PeerClient::PeerClient(PeerClientOptions options)
    : pullers_(std::make_unique<Pullers>(std::move(options))) {}

PeerClient::~PeerClient() {
  stop();
}

void PeerClient::start() {
  if (thread_.joinable() || pullers_->pullers.empty()) {
    return;
  }
  for (auto& puller : pullers_->pullers) {
    puller->schedule(milliseconds{0});
  }
  thread_ = std::thread([this] { pullers_->io.run(); });
}

void PeerClient::stop() {
  if (!thread_.joinable()) {
    return;
  }
  // On the pulling thread: the pullers are only ever touched there. Once
  // every timer and request has completed, run() returns.
  boost::asio::post(pullers_->io, [this] {
    for (auto& puller : pullers_->pullers) {
      puller->stop();
    }
  });
  thread_.join();
}

void PeerClient::recheck(const std::string& target, milliseconds timeout,
                         PeerRecheckCallback done) {
  if (!thread_.joinable()) {
    for (const auto& peer : pullers_->options.peers) {
      done(PeerRecheckAnswer{peer.name, target, fail("peering is not running")});
    }
    return;
  }
  boost::asio::post(pullers_->io, [this, target, timeout, done = std::move(done)] {
    for (auto& puller : pullers_->pullers) {
      puller->recheck(target, timeout, done);
    }
  });
}

PeerHealthStates PeerClient::health() const {
  PeerHealthStates states;
  for (const auto& puller : pullers_->pullers) {
    states.emplace(puller->name(), puller->health());
  }
  return states;
}

}  // namespace crosscheck::peers
