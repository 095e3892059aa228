// A timeout is a down vote only when this oracle was awake to see it: the
// stall log (pure, injected times), the rule that discounts a timing failure,
// and the Prober on a real event loop that stands still while a probe waits
// on a resolver that never answers.
#include "probes/stall.hpp"

#include "config/config.hpp"
#include "net/system_clock.hpp"
#include "probes/prober.hpp"
#include "support/fake_dns_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

using namespace crosscheck;
using namespace std::chrono_literals;
using consensus::Duration;
using consensus::Layer;
using consensus::MonoTime;
using consensus::Outcome;
using probes::ReachFailure;
using probes::StallLog;

namespace {

MonoTime at(std::int64_t ms) {
  return MonoTime{Duration{ms}};
}

// Ticks on time from `from` to `to` (every k_period).
void tick_on_time(StallLog& log, std::int64_t from, std::int64_t to) {
  for (auto t = from; t <= to; t += StallLog::k_period.count()) {
    log.tick(at(t));
  }
}

probes::ProbeReport down(Layer layer, ReachFailure failure,
                         std::optional<probes::DnsStatus> dns = std::nullopt) {
  probes::ProbeReport report;
  report.observation.outcome = Outcome::Down;
  report.observation.layer = layer;
  report.observation.detail = "what the probe saw";
  report.reach_failure = failure;
  report.dns_failure = dns;
  return report;
}

}  // namespace

TEST_CASE("the stall log finds the loop standing still inside a probe's window only", "[stall]") {
  StallLog log;
  tick_on_time(log, 0, 10'000);
  CHECK(log.total(at(0), at(10'000)) == 0ms);

  log.tick(at(13'000));  // 3 s without a tick: stood still 2.9 s beyond the period
  tick_on_time(log, 13'100, 20'000);
  CHECK(log.total(at(9'000), at(14'000)) == 2900ms);   // the probe waited through it
  CHECK(log.total(at(11'000), at(14'000)) == 1900ms);  // only the part in the window
  // Launched as the loop woke, a few handlers before the ticker's: not its stall.
  CHECK(log.total(at(12'990), at(13'500)) == 0ms);
  CHECK(log.total(at(13'500), at(20'000)) == 0ms);  // after it
  CHECK(log.total(at(5'000), at(9'900)) == 0ms);    // before it
}

TEST_CASE("a gap still open at the probe's end counts, before the ticker has run again",
          "[stall]") {
  // After a resume, a probe's deadline can run before the ticker's.
  StallLog log;
  tick_on_time(log, 0, 1'000);
  CHECK(log.total(at(500), at(1'050)) == 0ms);
  CHECK(log.total(at(500), at(4'000)) == 2900ms);
}

TEST_CASE(
    "a deadline that came while the loop stood still is seen however little of the wait it took",
    "[stall]") {
  StallLog log;
  tick_on_time(log, 0, 1'000);
  // Open: stood still since the tick at 1000 (the next was due at 1100).
  CHECK(log.stood_still_at(at(2'000), at(4'000)));
  CHECK(log.stood_still_at(at(1'050), at(4'000)));        // before the ticker was due again, too
  CHECK_FALSE(log.stood_still_at(at(1'000), at(1'300)));  // a gap too short to be a stall
  log.tick(at(4'000));
  tick_on_time(log, 4'100, 6'000);
  CHECK(log.stood_still_at(at(1'500), at(6'000)));  // logged now
  CHECK_FALSE(log.stood_still_at(at(4'050), at(6'000)));
  CHECK_FALSE(log.stood_still_at(at(5'000), at(6'000)));

  // A probe of 2 s started at 0: its deadline at 2000 came in the stall;
  // the stall is counted up to the probe's end, not only up to its deadline.
  const auto late = log.seen(at(0), at(2'000), at(4'010));
  CHECK(late.at_deadline);
  CHECK(late.total == 2900ms);
  // One that started at 700 with 500 ms: its deadline at 1200, in the stall.
  CHECK(log.seen(at(700), at(1'200), at(4'005)).at_deadline);
  // A probe that ended before it, and one that started after it.
  const auto before = log.seen(at(0), at(1'000), at(990));
  CHECK_FALSE(before.at_deadline);
  CHECK(before.total == 0ms);
  const auto after = log.seen(at(4'100), at(5'100), at(5'100));
  CHECK_FALSE(after.at_deadline);
  CHECK(after.total == 0ms);
  // A deadline standing still discounts a timeout whatever the threshold.
  auto report = down(Layer::Dns, ReachFailure::None, probes::DnsStatus::Timeout);
  CHECK(probes::discount_stall(report, {100ms, true}, 30s));
  CHECK(report.observation.outcome == Outcome::ObserverError);
  auto told = down(Layer::Dns, ReachFailure::None, probes::DnsStatus::NxDomain);
  CHECK_FALSE(probes::discount_stall(told, {10s, true}, 30s));
}

TEST_CASE("the stall log forgets old stalls and stays bounded", "[stall]") {
  StallLog log;
  log.tick(at(0));
  log.tick(at(5'000));
  tick_on_time(log, 5'100, 5'000 + StallLog::k_keep.count() + 1'000);
  CHECK(log.total(at(0), at(5'000 + StallLog::k_keep.count() + 1'000)) == 0ms);

  // Ticks late every time: one stall a tick, never more than k_max_stalls kept.
  std::int64_t t = 1'000'000;
  for (std::size_t i = 0; i < StallLog::k_max_stalls * 2; ++i) {
    log.tick(at(t));
    t += 400;
  }
  CHECK(log.total(at(1'000'000), at(t - 400)) == 300ms * StallLog::k_max_stalls);
  CHECK(log.total(at(0), at(1'000'000 + 400 * 100)) == 0ms);  // the oldest were dropped

  // A log for probes of an hour keeps its stalls two hours.
  StallLog patient(std::chrono::hours(2));
  patient.tick(at(0));
  patient.tick(at(5'000));
  tick_on_time(patient, 5'100, 5'000 + 3'600'000);
  CHECK(patient.total(at(0), at(5'000 + 3'600'000)) == 4900ms);
}

TEST_CASE("gaps too short to reach any threshold are not kept", "[stall]") {
  // A busy loop runs its ticker a little late all the time: 200 ms beyond
  // the period is below every threshold, and keeping each one would fill
  // the log with them (pushing out a real stall from a long probe's window).
  StallLog log;
  log.tick(at(0));
  log.tick(at(5'000));  // a real stall
  std::int64_t t = 5'000;
  for (std::size_t i = 0; i < StallLog::k_max_stalls + 500; ++i) {
    t += 300;
    log.tick(at(t));
  }
  CHECK(log.total(at(6'000), at(t)) == 0ms);
  CHECK(log.total(at(0), at(t)) == 4900ms);  // still there
}

namespace {

// `report` with one more address that failed with `failure` (and `status`).
probes::ProbeReport with_address(probes::ProbeReport report, ReachFailure failure, int status = 0) {
  probes::AddressResult address;
  address.reach.failure = failure;
  address.reach.http_status = status;
  report.addresses.push_back(address);
  return report;
}

// A down report whose reach failure is an HTTP status.
probes::ProbeReport http_status(int status) {
  return with_address(down(Layer::Http, ReachFailure::HttpStatus), ReachFailure::HttpStatus,
                      status);
}

}  // namespace

TEST_CASE(
    "under a stall only what the target said stays a down vote, the rest is an observer error",
    "[stall]") {
  using probes::DnsStatus;
  const auto [report, stall_may_explain] = GENERATE(table<probes::ProbeReport, bool>({
      // Time passing on either side: our timeouts, a handshake or
      // connection the server gave up on, a retry that may have timed out.
      {down(Layer::Dns, ReachFailure::None, DnsStatus::Timeout), true},
      {down(Layer::Dns, ReachFailure::None, DnsStatus::Truncated), true},
      {down(Layer::Dns, ReachFailure::None), true},  // no status: nothing says who failed
      {down(Layer::Connect, ReachFailure::ConnectTimeout), true},
      {down(Layer::Tls, ReachFailure::TlsHandshake), true},
      {down(Layer::Http, ReachFailure::HttpTimeout), true},
      {down(Layer::Http, ReachFailure::HttpOther), true},  // closed by an idle timeout
      {http_status(408), true},                            // the server tired of waiting
      {down(Layer::App, ReachFailure::AppTimeout), true},
      {down(Layer::App, ReachFailure::AppError), true},          // a database that gave up on us
      {down(Layer::Connect, ReachFailure::ConnectOther), true},  // a reset, among others
      {down(Layer::Connect, ReachFailure::None), true},          // nothing says who failed
      // Every address failed: one refused (a stale record), the live one
      // timed out while we stood still.
      {with_address(with_address(down(Layer::Connect, ReachFailure::ConnectRefused),
                                 ReachFailure::ConnectRefused),
                    ReachFailure::ConnectTimeout),
       true},
      {with_address(http_status(503), ReachFailure::HttpTimeout), true},
      // DNS failed and the last-known-good addresses' reach timed out.
      {with_address(down(Layer::Dns, ReachFailure::None, DnsStatus::ServFail),
                    ReachFailure::ConnectTimeout),
       true},
      // What only the target or its resolver could have said.
      {down(Layer::Dns, ReachFailure::None, DnsStatus::NxDomain), false},
      {down(Layer::Dns, ReachFailure::None, DnsStatus::ServFail), false},
      {down(Layer::Dns, ReachFailure::None, DnsStatus::Refused), false},
      {down(Layer::Dns, ReachFailure::None, DnsStatus::EmptyAnswer), false},
      {down(Layer::Dns, ReachFailure::None, DnsStatus::UnexpectedAddress), false},
      {down(Layer::Dns, ReachFailure::None, DnsStatus::Malformed), false},
      {down(Layer::Dns, ReachFailure::None, DnsStatus::NetworkError), false},
      {down(Layer::Dns, ReachFailure::None, DnsStatus::DnssecBogus), false},
      {down(Layer::Dns, ReachFailure::None, DnsStatus::OtherRcode), false},
      {down(Layer::Dns, ReachFailure::None, DnsStatus::TooFewAnswers), false},
      {with_address(down(Layer::Dns, ReachFailure::None, DnsStatus::ServFail),
                    ReachFailure::ConnectRefused),
       false},
      {down(Layer::Connect, ReachFailure::ConnectRefused), false},
      {with_address(with_address(down(Layer::Connect, ReachFailure::ConnectRefused),
                                 ReachFailure::ConnectRefused),
                    ReachFailure::ConnectRefused),
       false},
      {with_address(http_status(503), ReachFailure::HttpStatus, 502), false},
      {down(Layer::Tls, ReachFailure::TlsSetup), false},
      {down(Layer::Tls, ReachFailure::TlsCertificate), false},
      {down(Layer::Tls, ReachFailure::TlsExpired), false},
      {down(Layer::Tls, ReachFailure::TlsWrongName), false},
      {down(Layer::Tls, ReachFailure::TlsUnknownCa), false},
      {http_status(503), false},
      {http_status(504), false},  // a gateway's own timeout, not ours
      {down(Layer::Http, ReachFailure::HttpBody), false},
      {down(Layer::Http, ReachFailure::HttpRedirect), false},
      {down(Layer::App, ReachFailure::AppRole), false},
      {down(Layer::App, ReachFailure::AppReadOnly), false},
      {down(Layer::App, ReachFailure::AppLag), false},
  }));
  CAPTURE(static_cast<int>(report.reach_failure), static_cast<int>(report.observation.layer));
  CHECK(probes::stall_may_explain(report) == stall_may_explain);

  auto below = report;  // a stall shorter than the threshold changes nothing
  CHECK_FALSE(probes::discount_stall(below, {499ms}, 2s));
  CHECK(below.observation.outcome == Outcome::Down);
  CHECK(below.stalled == 0ms);
  auto at_floor = report;  // a short timeout: the floor, 250 ms
  CHECK(probes::discount_stall(at_floor, {250ms}, 1s) == stall_may_explain);

  auto stalled = report;
  stalled.observation.latency_ms = 1900;
  CHECK(probes::discount_stall(stalled, {1800ms}, 2s) == stall_may_explain);
  if (stall_may_explain) {
    CHECK(stalled.observation.outcome == Outcome::ObserverError);
    CHECK(stalled.observation.layer == Layer::None);
    CHECK(stalled.observation.latency_ms == 0);
    CHECK(stalled.reach_failure == ReachFailure::Observer);
    CHECK_FALSE(stalled.dns_failure);
    CHECK(stalled.stalled == 1800ms);
    CHECK(stalled.observation.detail ==
          "observer: this oracle stood still for 1800ms while the probe ran (a stopped "
          "process, or a loop too busy to run its timers), so its failure says nothing "
          "about the target: what the probe saw");
  } else {
    CHECK(stalled.observation.outcome == Outcome::Down);
    CHECK(stalled.observation.detail == "what the probe saw");
    CHECK(stalled.stalled == 0ms);
  }
}

TEST_CASE("an up or observer-error result is never changed by a stall", "[stall]") {
  probes::ProbeReport up;
  up.observation.outcome = Outcome::Up;
  CHECK_FALSE(probes::discount_stall(up, {10s, true}, 1s));
  CHECK(up.observation.outcome == Outcome::Up);
}

TEST_CASE("the stall threshold is a quarter of the timeout, at least 250 ms", "[stall]") {
  CHECK(probes::stall_threshold(500ms) == 250ms);
  CHECK(probes::stall_threshold(2s) == 500ms);
  CHECK(probes::stall_threshold(5s) == 1250ms);
  CHECK(probes::stall_threshold(30s) == 7500ms);
}

TEST_CASE("a probe whose deadline passed while the prober's loop stood still is not a down vote",
          "[stall][prober]") {
  // A resolver that never answers: every probe is a DNS timeout (down),
  // except the one that was waiting while the loop was made to stand still.
  testing::FakeDnsServer silent("127.0.0.61");
  silent.set_default(testing::FakeDnsBehaviour::silent());
  const auto yaml =
      "node: { name: a, data_dir: /tmp/crosscheck-stall-test }\n"
      "api: { listen: \"127.0.0.1:9479\" }\n"
      "vantages:\n"
      "  - { name: v, domain: d, resolver: \"127.0.0.61:" +
      std::to_string(silent.endpoint().port) +
      "\" }\n"
      "targets:\n"
      "  - name: t\n"
      "    dns: { name: silent.test }\n"
      "    interval: 1s\n"
      "    timeout: 500ms\n";
  auto loaded = config::load_config_text(yaml, "stall.yaml");
  std::string diagnostics;
  for (const auto& diagnostic : loaded.diagnostics) {
    diagnostics += diagnostic.to_string() + "\n";
  }
  INFO(diagnostics);
  REQUIRE(loaded.ok());
  boost::asio::io_context io;
  net::SystemClock clock;
  std::vector<probes::ProbeReport> reports;
  probes::Prober prober(io, std::make_shared<const config::Config>(*loaded.config), clock, 7,
                        [&](const probes::ProbeReport& report) { reports.push_back(report); });
  prober.start();
  // Bounded: stops after 4 reports or 8 s.
  boost::asio::steady_timer watchdog(io);
  watchdog.expires_after(8s);
  watchdog.async_wait([&](boost::system::error_code) { io.stop(); });
  bool stalled = false;
  while (!io.stopped() && reports.size() < 4) {
    io.run_one_for(50ms);
    if (!stalled && reports.size() == 1) {
      // The second probe starts about 1 s after the first: once its query
      // reached the resolver (its deadline is running), the loop stands
      // still for 1.5 s (three timeouts).
      while (!io.stopped() && silent.udp_queries() < 2) {
        io.run_one_for(20ms);
      }
      std::this_thread::sleep_for(1500ms);
      stalled = true;
    }
  }
  REQUIRE(reports.size() >= 3);
  CHECK(reports[0].observation.outcome == Outcome::Down);
  CHECK(reports[0].dns_failure == probes::DnsStatus::Timeout);
  CAPTURE(reports[1].observation.detail);
  CHECK(reports[1].observation.outcome == Outcome::ObserverError);
  CHECK(reports[1].observation.detail.starts_with("observer: this oracle stood still for "));
  CHECK(reports[1].stalled >= 250ms);
  // After the stall, a timeout is a down vote again.
  CHECK(reports[2].observation.outcome == Outcome::Down);
  CHECK(reports[2].dns_failure == probes::DnsStatus::Timeout);
}
