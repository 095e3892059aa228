#include "snapshot/divergence.hpp"

#include <catch2/catch.hpp>

using namespace crosscheck;
using snapshot::find_divergence;

namespace {

consensus::Evidence seen(const std::string& vantage, const std::string& domain,
                         std::vector<std::string> answers, bool stale = false) {
  consensus::Evidence item;
  item.vantage = vantage;
  item.domain = domain;
  item.stale = stale;
  consensus::Observation observation;
  observation.outcome = answers.empty() ? consensus::Outcome::Down : consensus::Outcome::Up;
  observation.answers = std::move(answers);
  item.last = std::make_shared<const consensus::Observation>(observation);
  return item;
}

}  // namespace

TEST_CASE("an empty answer in one domain against addresses in others is a divergence",
          "[divergence]") {
  const auto divergence =
      find_divergence({seen("cloudflare", "cloudflare", {"192.0.2.1"}), seen("quad9", "quad9", {}),
                       seen("google", "google", {"192.0.2.1"})});
  REQUIRE(divergence.size() == 3);
  CHECK(divergence[1].vantage == "quad9");
  CHECK(divergence[1].answers.empty());
  CHECK(divergence[0].answers == std::vector<std::string>{"192.0.2.1"});
}

TEST_CASE("the same answers in another order are not a divergence", "[divergence]") {
  CHECK(find_divergence({seen("a", "a", {"192.0.2.2", "192.0.2.1"}),
                         seen("b", "b", {"192.0.2.1", "192.0.2.2"})})
            .empty());
}

TEST_CASE("disagreement inside one failure domain is not a divergence between domains",
          "[divergence]") {
  CHECK(find_divergence({seen("q1", "quad9", {"192.0.2.1"}), seen("q2", "quad9", {}),
                         seen("g", "google", {"192.0.2.1"}), seen("g2", "google", {})})
            .empty());
}

TEST_CASE("stale and observer-error evidence is left out of the comparison", "[divergence]") {
  auto error = seen("b", "b", {});
  auto failed = *error.last;
  failed.outcome = consensus::Outcome::ObserverError;
  error.last = std::make_shared<const consensus::Observation>(failed);
  CHECK(find_divergence({seen("a", "a", {"192.0.2.1"}), error}).empty());
  CHECK(find_divergence({seen("a", "a", {"192.0.2.1"}), seen("c", "c", {}, true)}).empty());
}
