#include "gate_test_support.hpp"
#include "support/child_process.hpp"

#include "consensus/time_format.hpp"
#include "support/fake_http_server.hpp"
#include "support/test_pki.hpp"

#include "support/scoped_env.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

namespace fs = std::filesystem;

using namespace gate_test;  // NOLINT(google-build-using-namespace): the tests' shared vocabulary

TEST_CASE("a confirmed healthy answer exits 0 and prints proceed", "[gate]") {
  const auto server = oracle(200, healthy().json());
  const auto run = gate(args_for({server.get()}));
  CHECK(run.status == 0);
  CHECK(run.out == "oracle " + base(*server) +
                       ": proceed: healthy (generation 7, since 2025-10-20T06:00:00Z)\n"
                       "gate: PROCEED (1 of 1 oracle confirms healthy)\n");
  CHECK(run.err.empty());
  REQUIRE(server->last_request());
  CHECK(server->last_request()->method == "GET");
  CHECK(server->last_request()->target == "/v1/verdicts/db-primary?expect=healthy");
  CHECK(server->last_request()->header("Authorization").empty());
}

TEST_CASE("a confirmed unhealthy answer exits 1 when healthy is expected", "[gate]") {
  const auto server = oracle(409, unhealthy().json());
  const auto run = gate(args_for({server.get()}));
  CHECK(run.status == 1);
  CHECK(run.out == "oracle " + base(*server) +
                       ": otherwise: unhealthy (generation 8, since 2025-10-20T06:00:00Z): 3 of 3 "
                       "domains down (dns: NOERROR, empty answer)\n"
                       "gate: OTHERWISE (1 of 1 oracle confirms unhealthy, not healthy)\n");
}

TEST_CASE("a disputed verdict holds with exit 3 and names the held verdict", "[gate]") {
  const auto server = oracle(423, disputed().json());
  const auto run = gate(args_for({server.get()}));
  CHECK(run.status == 3);
  CHECK(run.out == "oracle " + base(*server) +
                       ": hold: disputed (holding healthy), generation 7: 1 of 3 domains down "
                       "(quad9); verdict disputed\n"
                       "gate: HOLD (0 of 1 oracle confirm healthy, 1 required; 1 hold, 0 "
                       "unreachable)\n");
}

TEST_CASE("a generation that moved holds with exit 3", "[gate]") {
  Verdict moved = healthy();
  moved.generation = 9;
  moved.decision = "hold";
  moved.gate_reason = "generation moved from 7 to 9";
  const auto server = oracle(409, moved.json());
  const auto run = gate(args_for({server.get()}, {"--generation", "7"}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("hold: healthy, generation 9 (expected 7)"));
  CHECK_THAT(run.out, Catch::Contains("generation moved from 7 to 9"));
}

TEST_CASE("a proceed answer whose generation differs from --generation holds", "[gate]") {
  const auto server = oracle(200, healthy().json());
  const auto run = gate(args_for({server.get()}, {"--generation", "6"}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("hold: healthy but generation 7, expected 6"));
}

TEST_CASE("a proceed answer past its valid_until holds", "[gate]") {
  Verdict stale = healthy();
  stale.valid_until = wall_text(std::chrono::seconds(-5));
  const auto server = oracle(200, stale.json());
  const auto run = gate(args_for({server.get()}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("hold: healthy but the verdict expired at"));
}

TEST_CASE("a proceed answer whose verdict is not the expected one holds", "[gate]") {
  Verdict lying = disputed();
  lying.decision = "proceed";
  const auto server = oracle(200, lying.json());
  const auto run = gate(args_for({server.get()}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("hold: HTTP 200 (proceed) but the verdict is disputed"));
}

TEST_CASE("a proceed answer about another target holds", "[gate]") {
  Verdict other = healthy();
  other.target = "db-replica";
  const auto server = oracle(200, other.json());
  const auto run = gate(args_for({server.get()}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("the answer is for target 'db-replica'"));
}

TEST_CASE("a proceed answer for a verdict restored but not re-confirmed holds", "[gate]") {
  Verdict restored = healthy();
  restored.fresh = false;
  const auto server = oracle(200, restored.json());
  CHECK(gate(args_for({server.get()})).status == 3);
}

TEST_CASE("a verdict younger than --stable-for holds even when the oracle says proceed", "[gate]") {
  Verdict young = healthy();
  young.since = wall_text(std::chrono::seconds(-10));
  const auto server = oracle(200, young.json());
  const auto run = gate(args_for({server.get()}, {"--stable-for", "30s"}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("the verdict is not stable for 30s"));
}

TEST_CASE("answers that are not a usable verdict hold", "[gate]") {
  const auto [status, body, says] = GENERATE(table<int, std::string, std::string>({
      {200, R"({"target": "db-primary", "verdict": "healthy", )", "hold: HTTP 200: malformed JSON"},
      {200, R"(["healthy"])", "hold: HTTP 200: the answer is not a JSON object"},
      {200, R"({"target": "db-primary", "verdict": "healthy"})",
       "hold: HTTP 200 without a gate decision: healthy"},
      {500, R"({"error": "internal", "detail": "storage degraded"})",
       "hold: HTTP 500: internal: storage degraded\n"},
      {503, "", "hold: HTTP 503\n"},
      {404, R"({"error": "unknown_target", "detail": "no target 'db-primary'"})",
       "hold: HTTP 404: unknown_target: no target 'db-primary'\n"},
  }));
  const auto server = oracle(status, body);
  const auto run = gate(args_for({server.get()}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains(says));
}

TEST_CASE("a body over the size limit holds", "[gate]") {
  FakeHttpServer server;
  server.set(k_gate_path, FakeResponse::huge_body(2 * 1024 * 1024));
  const auto run = gate(args_for({&server}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("body larger than 1048576 bytes"));
}

TEST_CASE("a redirect is not followed and holds", "[gate]") {
  FakeHttpServer server;
  server.set(k_gate_path, FakeResponse::redirect("http://127.0.0.1:1/elsewhere"));
  const auto run = gate(args_for({&server}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("HTTP 302 redirect to 'http://127.0.0.1:1/elsewhere' not"));
}

TEST_CASE("a stalled oracle is unreachable, so two required oracles hold at the timeout",
          "[gate]") {
  const auto answering = oracle(200, healthy().json());
  FakeHttpServer stalled;
  stalled.set(k_gate_path, FakeResponse::stall());
  auto args = args_for({answering.get(), &stalled}, {"--require", "2"});
  args[4] = "500ms";
  const auto run = gate(args);
  CHECK(run.status == 3);
  CHECK_THAT(run.out,
             Catch::Contains("oracle " + base(stalled) + ": unreachable: timed out after 500ms\n"));
  CHECK_THAT(run.out, Catch::Contains("gate: HOLD (1 of 2 oracles confirms healthy, 2 required; "
                                      "0 hold, 1 unreachable)"));
  CHECK(run.took < std::chrono::milliseconds(1500));
}

TEST_CASE("nothing listening exits 4", "[gate]") {
  std::string url;
  {
    const FakeHttpServer closed;
    url = base(closed);
  }
  const auto run = gate({k_target, "--expect", "healthy", "--oracle", url, "--timeout", "2s"});
  CHECK(run.status == 4);
  CHECK(run.out == "oracle " + url + ": unreachable: connection refused\n" +
                       "gate: UNREACHABLE (none of 1 oracle answered)\n");
}

TEST_CASE("every oracle stalling exits 4 within the timeout", "[gate]") {
  FakeHttpServer first;
  FakeHttpServer second;
  first.set(k_gate_path, FakeResponse::stall());
  second.set(k_gate_path, FakeResponse::stall());
  auto args = args_for({&first, &second});
  args[4] = "300ms";
  const auto run = gate(args);
  CHECK(run.status == 4);
  CHECK(run.took < std::chrono::milliseconds(1300));
}

TEST_CASE("two of three oracles proceed with --require 2 and hold with --require 3", "[gate]") {
  const auto a = oracle(200, healthy().json());
  const auto b = oracle(200, healthy().json());
  const auto c = oracle(423, disputed().json());
  const auto two = gate(args_for({a.get(), b.get(), c.get()}, {"--require", "2"}));
  CHECK(two.status == 0);
  CHECK_THAT(two.out, Catch::EndsWith("gate: PROCEED (2 of 3 oracles confirm healthy, 2 "
                                      "required)\n"));
  const auto three = gate(args_for({a.get(), b.get(), c.get()}, {"--require", "3"}));
  CHECK(three.status == 3);
  const auto all = gate(args_for({a.get(), b.get(), c.get()}));
  CHECK(all.status == 3);
}

TEST_CASE("oracles confirming opposite states hold even when enough confirm", "[gate]") {
  const auto yes = oracle(200, healthy().json());
  const auto no = oracle(409, unhealthy().json());
  const auto run = gate(args_for({yes.get(), no.get()}, {"--require", "1"}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::EndsWith("gate: HOLD (oracles disagree: 1 of 2 oracles confirms "
                                      "healthy, 1 confirms unhealthy)\n"));
}

TEST_CASE("the query carries expect, generation and stable_for and the target is encoded",
          "[gate]") {
  Verdict odd = healthy();
  odd.target = "db primary/east";
  odd.expect = "healthy";
  FakeHttpServer server;
  server.set("/v1/verdicts/db%20primary%2Feast", FakeResponse::with_status(200, odd.json()));
  const auto run = gate({"db primary/east", "--expect", "healthy", "--generation", "7",
                         "--stable-for", "30s", "--oracle", base(server) + "/", "--timeout", "2s"});
  CHECK(run.status == 0);
  REQUIRE(server.last_request());
  CHECK(server.last_request()->target ==
        "/v1/verdicts/db%20primary%2Feast?expect=healthy&generation=7&stable_for=30s");
}

TEST_CASE("a recheck is posted before the gate is asked", "[gate]") {
  const auto server = oracle(200, healthy().json());
  server->set(k_recheck_path, FakeResponse::with_status(200, healthy().json()));
  const auto run = gate(args_for({server.get()}, {"--recheck"}));
  CHECK(run.status == 0);
  CHECK(server->request_count() == 2);
  REQUIRE(server->last_request());
  CHECK(server->last_request()->method == "GET");
}

TEST_CASE("a refused recheck holds without asking the gate and sends the bearer token", "[gate]") {
  const auto server = oracle(200, healthy().json());
  server->set(k_recheck_path,
              FakeResponse::with_status(429, R"({"error": "rate_limited", "detail": "wait 9s"})"));
  const crosscheck::testing::TempFile token("token", "s3cret-token\n");
  const auto run = gate(args_for({server.get()}, {"--recheck", "--token-file", token.path()}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("hold: recheck refused: HTTP 429: rate_limited: wait 9s"));
  CHECK(server->request_count() == 1);
  REQUIRE(server->last_request());
  CHECK(server->last_request()->method == "POST");
  CHECK(server->last_request()->target == std::string(k_recheck_path) + "?timeout=1s");
  CHECK(server->last_request()->header("Authorization") == "Bearer s3cret-token");
}

TEST_CASE("the gate sends its token with every request, from --token-file or CROSSCHECK_TOKEN_FILE",
          "[gate][tokens]") {
  const auto server = oracle(200, healthy().json());
  server->set(k_recheck_path, FakeResponse::with_status(200, healthy().json()));
  const crosscheck::testing::TempFile token("token", "f41l0v3r\n");
  SECTION("--token-file") {
    CHECK(gate(args_for({server.get()}, {"--recheck", "--token-file", token.path()})).status == 0);
  }
  SECTION("the environment") {
    const crosscheck::testing::ScopedEnv env("CROSSCHECK_TOKEN_FILE", token.path());
    CHECK(gate(args_for({server.get()}, {"--recheck"})).status == 0);
  }
  // The recheck (scope recheck) and the gate's read (scope read, when the
  // oracle sets read_requires_token): nothing else is asked.
  const auto requests = server->requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].method == "POST");
  CHECK(requests[1].method == "GET");
  for (const auto& request : requests) {
    CHECK(request.header("Authorization") == "Bearer f41l0v3r");
  }
}

TEST_CASE("usage errors exit 2 before any request", "[gate]") {
  const auto args = GENERATE(values<std::vector<std::string>>({
      {},
      {"db-primary"},
      {"db-primary", "--expect", "up"},
      {"db-primary", "other", "--expect", "healthy"},
      {"db-primary", "--expect", "healthy", "--frobnicate"},
      {"db-primary", "--expect", "healthy", "--exp", "healthy"},
      {"db-primary", "--expect", "healthy", "--timeout", "5x"},
      {"db-primary", "--expect", "healthy", "--timeout", "0s"},
      {"db-primary", "--expect", "healthy", "--stable-for", "soon"},
      {"db-primary", "--expect", "healthy", "--generation", "-1"},
      {"db-primary", "--expect", "healthy", "--generation", "7a"},
      {"db-primary", "--expect", "healthy", "--require", "0"},
      {"db-primary", "--expect", "healthy", "--require", "2"},
      {"db-primary", "--expect", "healthy", "--oracle", "ftp://127.0.0.1:1"},
      {"db-primary", "--expect", "healthy", "--oracle", "127.0.0.1:9470"},
      {"db-primary", "--expect", "healthy", "--oracle", "http://127.0.0.1:1/?x=1"},
      {"db-primary", "--expect", "healthy", "--oracle", "http://127.0.0.1:1", "--oracle",
       "http://127.0.0.1:1/"},
      {"db-primary", "--expect", "healthy", "--token-file", "/nonexistent/crosscheck-token"},
      {"-h", "--expect", "healthy"},
  }));
  const auto run = gate(args);
  CHECK(run.status == 2);
  CHECK_FALSE(run.err.empty());
}

TEST_CASE("a lone --help prints the usage and exits 0", "[gate]") {
  const auto run = gate({"--help"});
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Catch::Contains("--require"));
}

TEST_CASE("an https oracle whose certificate the system does not trust is unreachable", "[gate]") {
  crosscheck::testing::FakeHttpServerOptions options;
  options.tls = crosscheck::testing::FakeTlsOptions{};
  FakeHttpServer server(options);
  server.set(k_gate_path, FakeResponse::with_status(200, healthy().json()));
  const auto run = gate(args_for({&server}));
  CHECK(run.status == 4);
  CHECK_THAT(run.out, Catch::Contains(": unreachable: tls: certificate verify failed ("));
  CHECK(server.request_count() == 0);
}

TEST_CASE("an oracle that resets the connection without answering is unreachable", "[gate]") {
  FakeHttpServer server;
  server.set(k_gate_path, FakeResponse::reset());
  const auto run = gate(args_for({&server}));
  CHECK(run.status == 4);
  CHECK_THAT(run.out, Catch::Contains(": unreachable: "));
}

TEST_CASE("an oracle given by host name is resolved and asked", "[gate]") {
  const auto server = oracle(200, healthy().json());
  const auto run = gate({k_target, "--expect", "healthy", "--oracle", server->url("localhost", ""),
                         "--timeout", "2s"});
  CHECK(run.status == 0);
  REQUIRE(server->last_request());
  CHECK(server->last_request()->host == "localhost:" + std::to_string(server->port()));
}

TEST_CASE("gate --cacert trusts that CA alone, a refused handshake says why, bad files exit 2",
          "[gate][tls]") {
  crosscheck::testing::FakeHttpServerOptions options;
  options.tls = crosscheck::testing::FakeTlsOptions{crosscheck::testing::FakeCertificate::CaSigned,
                                                    "127.0.0.1", 90};
  FakeHttpServer server(options);
  server.set(k_gate_path, FakeResponse::with_status(200, healthy().json()));
  const crosscheck::testing::TempDir dir;
  const auto ca = dir.path() / "oracle-ca.crt";
  std::ofstream(ca) << server.ca_pem();
  crosscheck::testing::TestPki pki(dir.path() / "pki");
  const auto other = pki.ca("other-ca");

  const auto trusted = gate(args_for({&server}, {"--cacert", ca.string()}));
  CHECK(trusted.status == 0);

  const auto pinned_elsewhere = gate(args_for({&server}, {"--cacert", other.cert.string()}));
  CHECK(pinned_elsewhere.status == 4);
  CHECK_THAT(pinned_elsewhere.out,
             Catch::Contains(": unreachable: tls: certificate verify failed") &&
                 Catch::Contains("[tls_unknown_ca]"));

  const auto missing = gate(args_for({&server}, {"--cacert", (dir.path() / "absent").string()}));
  CHECK(missing.status == 2);
  CHECK_THAT(missing.err, Catch::Contains("--cacert: cannot read ca_file"));
  const auto half = gate(args_for({&server}, {"--key", other.key.string()}));
  CHECK(half.status == 2);
  CHECK_THAT(half.err, Catch::Contains("--key needs --cert"));
}

TEST_CASE("a failover gate asks for its scope and proceeds only on an answer that supports it",
          "[gate][scope]") {
  auto args = [](const FakeHttpServer& server, std::vector<std::string> extra = {}) {
    std::vector<std::string> out = {k_target, "--expect", "unhealthy", "--timeout",
                                    "2s",     "--oracle", base(server)};
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
  };
  SECTION("the default is a service failover, sent as for=service") {
    const auto server = oracle(200, unhealthy_as_expected("service").json());
    const auto run = gate(args(*server));
    CHECK(run.status == 0);
    REQUIRE(server->last_request());
    CHECK(server->last_request()->target == "/v1/verdicts/db-primary?expect=unhealthy&for=service");
  }
  SECTION("--for dns is sent and proceeds on scope dns") {
    const auto server = oracle(200, unhealthy_as_expected("dns", "dns").json());
    const auto run = gate(args(*server, {"--for", "dns"}));
    CHECK(run.status == 0);
    REQUIRE(server->last_request());
    CHECK(server->last_request()->target == "/v1/verdicts/db-primary?expect=unhealthy&for=dns");
  }
  SECTION("an oracle that proceeds although the scope is dns is not believed") {
    const auto server = oracle(200, unhealthy_as_expected("dns").json());
    const auto run = gate(args(*server));
    CHECK(run.status == 3);
    CHECK_THAT(run.out, Catch::Contains("scope dns does not support a service failover"));
  }
  SECTION("an oracle that proceeds inside a maintenance window is not believed") {
    auto answer = unhealthy_as_expected("service");
    answer.maintenance = R"({"source": "api", "window": "api", "until": "2099-01-01T00:00:00Z"})";
    const auto run = gate(args(*oracle(200, answer.json())));
    CHECK(run.status == 3);
    CHECK_THAT(run.out, Catch::Contains("maintenance window"));
  }
  SECTION("an answer judged for another failover, or for none, holds") {
    const auto other = oracle(200, unhealthy_as_expected("service", "any").json());
    CHECK(gate(args(*other)).status == 3);
    const auto none = oracle(200, unhealthy_as_expected("service", "").json());
    const auto run = gate(args(*none));
    CHECK(run.status == 3);
    CHECK_THAT(run.out, Catch::Contains("the answer's gate is for '?', not 'service'"));
  }
  SECTION("--for any proceeds on every scope") {
    const auto server = oracle(200, unhealthy_as_expected("none", "any").json());
    CHECK(gate(args(*server, {"--for", "any"})).status == 0);
  }
  SECTION("a scope hold prints the oracle's reason and exits 3") {
    auto held = unhealthy_as_expected("dns");
    held.decision = "hold";
    held.gate_reason = "scope is dns: a service failover would not help (--for dns)";
    const auto server = oracle(423, held.json());
    const auto run = gate(args(*server));
    CHECK(run.status == 3);
    CHECK_THAT(run.out, Catch::Contains("(--for dns)"));
  }
  SECTION("--expect healthy sends no for and ignores --for") {
    const auto server = oracle(200, healthy().json());
    CHECK(gate(args_for({server.get()}, {"--for", "dns"})).status == 0);
    REQUIRE(server->last_request());
    CHECK(server->last_request()->target == "/v1/verdicts/db-primary?expect=healthy");
  }
}

TEST_CASE("gate --for takes service, dns or any", "[gate][scope]") {
  const auto run = gate({k_target, "--expect", "unhealthy", "--for", "database"});
  CHECK(run.status == 2);
  CHECK_THAT(run.err, Catch::Contains("--for 'database' is not service, dns or any"));
}
