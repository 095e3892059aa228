// Tests config/config.cpp: quorum resolution, lookups, diagnostic text, the
// check-config summary line, and the scheduler's jitter bound that
// stale_after is validated against (pinned, and checked on the real scheduler).
#include "config/config.hpp"

#include "config_test_helpers.hpp"
#include "probes/scheduler.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

using crosscheck::config::Config;
using crosscheck::config::Diagnostic;
using crosscheck::config::Duration;
using crosscheck::config::jitter_window;
using crosscheck::config::max_start_jitter;
using crosscheck::config::min_stale_after;
using crosscheck::config::QuorumSpec;
using crosscheck::config::Severity;
using crosscheck::config::SourcePos;
using crosscheck::config::summarize;
using crosscheck::config::Timing;
using crosscheck::config::test::load_valid;

TEST_CASE("majority resolves to n/2+1 of the known domains", "[config][quorum]") {
  auto [known, quorum] = GENERATE(table<int, int>({
      {0, 1},
      {1, 1},
      {2, 2},
      {3, 2},
      {4, 3},
      {5, 3},
      {6, 4},
      {7, 4},
  }));
  CAPTURE(known);
  CHECK(QuorumSpec{}.resolve(known) == quorum);
}

TEST_CASE("an explicit quorum count resolves to itself", "[config][quorum]") {
  const QuorumSpec two{2};
  CHECK(two.resolve(1) == 2);
  CHECK(two.resolve(5) == 2);
  CHECK_FALSE(two.is_majority());
  CHECK(two.to_string() == "2");
  CHECK(QuorumSpec{}.is_majority());
  CHECK(QuorumSpec{}.to_string() == "majority");
}

TEST_CASE("a diagnostic prints as file:line:column: severity: message", "[config][diagnostic]") {
  const Diagnostic error{Severity::Error, "crosscheck.yaml", SourcePos{12, 5}, "bad"};
  CHECK(error.to_string() == "crosscheck.yaml:12:5: error: bad");
  const Diagnostic warning{Severity::Warning, "c.yaml", SourcePos{1, 1}, "careful"};
  CHECK(warning.to_string() == "c.yaml:1:1: warning: careful");
}

TEST_CASE("a diagnostic about the whole file prints without a position", "[config][diagnostic]") {
  const Diagnostic error{Severity::Error, "/etc/crosscheck/crosscheck.yaml", SourcePos{},
                         "cannot read config file: Permission denied"};
  CHECK(error.to_string() ==
        "/etc/crosscheck/crosscheck.yaml: error: cannot read config file: Permission denied");
}

TEST_CASE("the summary counts targets, vantages, domains in first-seen order, and peers",
          "[config][summary]") {
  const Config config = load_valid(
      "vantages:\n"
      "  - {name: v1, domain: zeta}\n"
      "  - {name: v2, domain: alpha}\n"
      "  - {name: v3, domain: zeta}\n"
      "  - {name: v4, domain: mid}\n"
      "targets:\n"
      "  - {name: t, dns: {name: t.example}}\n"
      "quorum: {down: 3}\n");
  CHECK(summarize(config) ==
        "1 target, 4 vantages, 3 failure domains (zeta, alpha, mid), 0 peers; "
        "quorum down 3, up 2 (majority)");
}

TEST_CASE("the summary counts each peer as one more failure domain", "[config][summary]") {
  crosscheck::config::test::TempDir dir;
  dir.write("peer-key", "secret\n");
  dir.write("peer-key-c", "another secret\n");
  const Config config = load_valid(
      "vantages:\n"
      "  - {name: v1, domain: one}\n"
      "targets:\n"
      "  - {name: t1, dns: {name: t.example}}\n"
      "  - {name: t2, dns: {name: u.example}}\n"
      "peers:\n"
      "  - {name: oracle-b, url: 'http://oracle-b.example:9470', key_file: '" +
      (dir.path() / "peer-key").string() +
      "'}\n"
      "  - {name: oracle-c, url: 'http://oracle-c.example:9470', key_file: '" +
      (dir.path() / "peer-key-c").string() + "'}\n");
  CHECK(config.known_domain_count() == 3);
  CHECK(summarize(config) ==
        "2 targets, 1 vantage, 3 failure domains (one, peer oracle-b, peer oracle-c), 2 peers; "
        "quorum down 2 (majority), up 2 (majority)");
}

TEST_CASE("targets and vantages are found by name", "[config][lookup]") {
  const Config config = load_valid(std::string(crosscheck::config::test::k_valid_tail));
  REQUIRE(config.find_target("t") != nullptr);
  CHECK(config.find_target("t")->name == "t");
  CHECK(config.find_target("missing") == nullptr);
  REQUIRE(config.find_vantage("b") != nullptr);
  CHECK(config.find_vantage("b")->domain == "two");
  CHECK(config.find_vantage("z") == nullptr);
}

TEST_CASE("a target's host name comes from dns, then tcp.host, then the URL", "[config][lookup]") {
  const Config config = load_valid(std::string(crosscheck::config::test::k_valid_vantages) +
                                   "targets:\n"
                                   "  - name: both\n"
                                   "    dns: {name: db.example}\n"
                                   "    tcp: {port: 5432, host: other.example}\n"
                                   "  - name: tcp-only\n"
                                   "    tcp: {port: 22, host: ssh.example}\n"
                                   "  - name: http-only\n"
                                   "    http: {url: 'https://api.example.com/healthz'}\n");
  CHECK(config.targets[0].host_name() == "db.example");
  CHECK(config.targets[1].host_name() == "ssh.example");
  CHECK(config.targets[2].host_name() == "api.example.com");
}

TEST_CASE("the jitter bound is a tenth of the interval less one millisecond", "[config][timing]") {
  // Pinned on purpose: probes/scheduler.cpp draws its jitter from the same
  // window, and stale_after validation (config/validate.cpp) relies on it.
  auto [interval_ms, window_ms, jitter_ms] = GENERATE(table<int, int, int>({
      {1, 1, 0},
      {15, 1, 0},
      {19, 1, 0},
      {20, 2, 1},
      {300, 30, 29},
      {1'000, 100, 99},
      {10'000, 1'000, 999},
      {10'009, 1'000, 999},
      {60'000, 6'000, 5'999},
  }));
  CAPTURE(interval_ms);
  CHECK(jitter_window(Duration{interval_ms}) == Duration{window_ms});
  CHECK(max_start_jitter(Duration{interval_ms}) == Duration{jitter_ms});
}

TEST_CASE("the smallest stale_after is interval plus jitter plus timeout", "[config][timing]") {
  Timing timing;
  CHECK(min_stale_after(timing) == Duration{12'999});  // 10s + 999ms + 2s
  timing.interval = Duration{300};
  timing.timeout = Duration{250};
  CHECK(min_stale_after(timing) == Duration{579});  // 300ms + 29ms + 250ms
}

namespace {

// The largest gap between consecutive starts of one pair over `turns` turns,
// each probe finishing at once and no cap in the way.
Duration largest_start_gap(Duration interval, int turns) {
  using crosscheck::consensus::MonoTime;
  crosscheck::probes::Scheduler scheduler({interval}, {1'000'000, 1'000'000}, 42, MonoTime{});
  MonoTime now{};
  std::vector<MonoTime> starts;
  for (int wakeups = 0; static_cast<int>(starts.size()) < turns && wakeups < 4 * turns; ++wakeups) {
    now = scheduler.next_wakeup(now);
    for (const auto pair : scheduler.take_due(now)) {
      starts.push_back(now);
      scheduler.finish(pair);
    }
  }
  REQUIRE(static_cast<int>(starts.size()) == turns);
  Duration largest{0};
  for (std::size_t i = 1; i < starts.size(); ++i) {
    largest = std::max(largest, starts[i] - starts[i - 1]);
  }
  return largest;
}

}  // namespace

TEST_CASE("the real scheduler starts a pair at most interval plus the jitter bound after the last",
          "[config][timing]") {
  // Not looser than the scheduler: over many turns the largest gap comes
  // within a twentieth of the window of the bound (exactly it for small
  // windows), so a scheduler with less jitter fails here too.
  const auto interval = Duration{GENERATE(1, 15, 20, 30, 100, 300, 10'000)};
  CAPTURE(interval.count());
  const Duration largest = largest_start_gap(interval, 20'000);
  CHECK(largest <= interval + max_start_jitter(interval));
  CHECK(largest >= interval + max_start_jitter(interval) - jitter_window(interval) / 20);
}
