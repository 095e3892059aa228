// The failure scope: which failover the evidence supports (DESIGN.md
// "Layers"), computed from the counted votes' newest observations.
#include "consensus/verdict_detail.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace crosscheck::consensus;

namespace {

// A counted vote of `vantage` in `domain`; a down vote's newest observation
// failed at `layer` (with last-known-good `lkg` when it is DNS).
Evidence vote(std::string vantage, std::string domain, Vote value, Layer layer = Layer::None,
              LastKnownGood lkg = LastKnownGood::NotTried) {
  Evidence item;
  item.vantage = std::move(vantage);
  item.domain = std::move(domain);
  item.vote = value;
  item.raw_vote = value;
  Observation last;
  last.outcome = value == Vote::Down ? Outcome::Down : Outcome::Up;
  last.layer = value == Vote::Down ? layer : Layer::None;
  last.last_known_good = lkg;
  item.last = std::make_shared<const Observation>(last);
  return item;
}

constexpr auto k_reach = LastKnownGood::Reachable;
constexpr auto k_unreach = LastKnownGood::Unreachable;

}  // namespace

TEST_CASE("a quorum of domains failing at the service makes scope service", "[scope]") {
  CHECK(summarize_scope({vote("a", "a", Vote::Down, Layer::Connect),
                         vote("b", "b", Vote::Down, Layer::Http), vote("c", "c", Vote::Up)},
                        2) == FailureScope::Service);
  // DNS fails and the last-known-good addresses do not answer: the service fails.
  CHECK(summarize_scope({vote("a", "a", Vote::Down, Layer::Dns, k_unreach),
                         vote("b", "b", Vote::Down, Layer::Tls)},
                        2) == FailureScope::Service);
}

TEST_CASE("DNS failing while the service is not seen failing makes scope dns", "[scope]") {
  CHECK(summarize_scope({vote("a", "a", Vote::Down, Layer::Dns, k_reach),
                         vote("b", "b", Vote::Down, Layer::Dns, k_reach)},
                        2) == FailureScope::Dns);
  // Nothing to try (no address ever resolved): the service is not known to fail.
  CHECK(summarize_scope(
            {vote("a", "a", Vote::Down, Layer::Dns), vote("b", "b", Vote::Down, Layer::Dns)}, 2) ==
        FailureScope::Dns);
  // One domain reaches the old addresses: DNS is confirmed, the service is not.
  CHECK(summarize_scope({vote("a", "a", Vote::Down, Layer::Dns, k_unreach),
                         vote("b", "b", Vote::Down, Layer::Dns, k_reach)},
                        2) == FailureScope::Dns);
}

TEST_CASE("down domains that see different planes fail confirm neither", "[scope]") {
  CHECK(summarize_scope({vote("a", "a", Vote::Down, Layer::Dns, k_reach),
                         vote("b", "b", Vote::Down, Layer::Connect)},
                        2) == FailureScope::None);
  // Inside one domain: one vantage at the service, one only at DNS.
  CHECK(summarize_scope({vote("a1", "a", Vote::Down, Layer::Connect),
                         vote("a2", "a", Vote::Down, Layer::Dns, k_reach),
                         vote("b", "b", Vote::Down, Layer::Http)},
                        2) == FailureScope::None);
}

TEST_CASE("only counted down domains decide the scope", "[scope]") {
  // A domain with an up vote is not down, whatever its other vantage saw.
  CHECK(summarize_scope({vote("a1", "a", Vote::Down, Layer::Connect), vote("a2", "a", Vote::Up),
                         vote("b", "b", Vote::Down, Layer::Connect)},
                        2) == FailureScope::None);
  CHECK(summarize_scope({vote("a", "a", Vote::Down, Layer::Connect)}, 2) == FailureScope::None);
  CHECK(summarize_scope({}, 2) == FailureScope::None);
  // A down vote whose newest observation is already up says nothing.
  auto recovering = vote("a", "a", Vote::Down, Layer::Connect);
  auto newest = *recovering.last;
  newest.outcome = Outcome::Up;
  newest.layer = Layer::None;
  recovering.last = std::make_shared<const Observation>(newest);
  CHECK(summarize_scope({recovering, vote("b", "b", Vote::Down, Layer::Connect)}, 2) ==
        FailureScope::None);
  // No observation at all (a peer's vote without one) says nothing either.
  auto bare = vote("a", "a", Vote::Down, Layer::Connect);
  bare.last.reset();
  CHECK(summarize_scope({bare, vote("b", "b", Vote::Down, Layer::Connect)}, 2) ==
        FailureScope::None);
}

TEST_CASE("down votes from suspect vantages alone make scope observer", "[scope]") {
  auto liar = vote("a", "a", Vote::Down, Layer::Connect);
  liar.suspect = true;
  liar.vote = Vote::Unknown;
  CHECK(summarize_scope({liar, vote("b", "b", Vote::Up)}, 2) == FailureScope::Observer);
  // The quorum still decides when it is there.
  CHECK(summarize_scope({liar, vote("b", "b", Vote::Down, Layer::Http),
                         vote("c", "c", Vote::Down, Layer::Http)},
                        2) == FailureScope::Service);
}
