// `crosscheck gate --pubkey`: answers signed by the oracle's key proceed;
// a missing, foreign or broken signature counts as no oracle (exit 4); the
// unsigned HTTP status cannot overrule the signed decision.
#include "config/signing_key.hpp"
#include "gate_test_support.hpp"
#include "net/verdict_signature.hpp"
#include "support/child_process.hpp"
#include "support/openssl_keys.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <regex>

using crosscheck::net::VerdictSigner;
using crosscheck::testing::KeyFiles;
using crosscheck::testing::make_ed25519_keys;
using crosscheck::testing::TempDir;
using namespace gate_test;  // NOLINT(google-build-using-namespace): the tests' shared vocabulary

namespace {

// An oracle's key: its files and a signer as the oracle named `name` would sign.
struct OracleKey {
  OracleKey(const TempDir& dir, const std::string& name)
      : files(make_ed25519_keys(dir.path(), name)),
        signer(*crosscheck::config::read_signing_key("signing_key", files.private_pem), name) {}
  KeyFiles files;
  VerdictSigner signer;
  std::string pubkey() const { return files.public_pem.string(); }
};

// A fake oracle answering `body` with `status` and the signature header
// `sign` makes for the request target it received (the gate's, with its
// nonce), as a real oracle signs.
using SignFor = std::function<std::string(const std::string& received)>;
std::unique_ptr<FakeHttpServer> signed_oracle(int status, const std::string& body, SignFor sign,
                                              const std::string& path = k_gate_path) {
  auto server = std::make_unique<FakeHttpServer>();
  server->respond_with(path, [status, body, sign = std::move(sign)](
                                 const crosscheck::testing::RecordedRequest& request) {
    auto response = FakeResponse::with_status(status, body);
    response.headers.emplace_back(std::string(crosscheck::net::k_verdict_signature_header),
                                  sign(request.target));
    return response;
  });
  return server;
}

// The gate's target as the oracle received it, below a base path of `prefix`.
std::string below(const std::string& received, const std::string& prefix) {
  return received.substr(prefix.size());
}

// Signed by `key` for the request received (or for `target` when given:
// an answer recorded for another question).
std::unique_ptr<FakeHttpServer> signed_by(const OracleKey& key, int status, const std::string& body,
                                          const std::optional<std::string>& target = {}) {
  return signed_oracle(status, body, [&key, body, target](const std::string& received) {
    return key.signer.sign(target.value_or(received), body);
  });
}

}  // namespace

TEST_CASE("gate --pubkey: a validly signed answer proceeds and names its signer",
          "[gate][signed]") {
  const TempDir dir;
  const OracleKey key(dir, "oracle-a");
  const auto server = signed_by(key, 200, healthy().json());
  const auto run = gate(args_for({server.get()}, {"--pubkey", key.pubkey()}));
  CHECK(run.status == 0);
  CHECK(run.out == "oracle " + base(*server) +
                       ": proceed: healthy (generation 7, since 2025-10-20T06:00:00Z) [signed by "
                       "oracle-a, key " +
                       key.signer.key() +
                       "]\n"
                       "gate: PROCEED (1 of 1 oracle confirms healthy)\n");
  // Signed holds and otherwise answers are judged as before.
  const auto held = signed_by(key, 423, disputed().json());
  CHECK(gate(args_for({held.get()}, {"--pubkey", key.pubkey()})).status == 3);
  const auto down = signed_by(key, 409, unhealthy().json());
  CHECK(gate(args_for({down.get()}, {"--pubkey", key.pubkey()})).status == 1);
}

TEST_CASE("gate --pubkey: missing signature, wrong key, tampered body or replay exit 4",
          "[gate][signed]") {
  const TempDir dir;
  const OracleKey key(dir, "oracle-a");
  const OracleKey other(dir, "oracle-a-impostor");
  const std::string body = healthy().json();
  std::string tampered = body;
  tampered.replace(tampered.find("\"generation\": 7"), 15, "\"generation\": 8");

  const auto unsigned_oracle = oracle(200, body);
  const auto wrong_key = signed_by(other, 200, body);
  const auto changed = signed_oracle(200, tampered, [&key, body](const std::string& received) {
    return key.signer.sign(received, body);
  });
  const auto replayed = signed_by(key, 200, body, "/v1/verdicts/db-replica?expect=healthy");
  // Signed for the very same question, but for an earlier run's nonce.
  const auto recorded = signed_oracle(200, body, [&key, body](const std::string& received) {
    const auto nonce = received.find("&nonce=");
    return key.signer.sign(received.substr(0, nonce) + "&nonce=00112233445566778899aabbccddeeff",
                           body);
  });
  const auto garbled =
      signed_oracle(200, body, [](const std::string&) { return "v1; oracle=oracle-a; key=x"; });
  struct Row {
    const FakeHttpServer* server;
    std::string why;
  };
  const std::vector<Row> rows{
      {unsigned_oracle.get(), "no X-Crosscheck-Verdict-Signature header"},
      {wrong_key.get(),
       "signed by key " + other.signer.key() + ", not by key " + key.signer.key() + " (--pubkey)"},
      {changed.get(), "the signature does not match the answer"},
      {replayed.get(), "the signature does not match the answer"},
      {recorded.get(), "the signature does not match the answer"},
      {garbled.get(), "malformed signature header"},
  };
  for (const Row& row : rows) {
    const auto run = gate(args_for({row.server}, {"--pubkey", key.pubkey()}));
    CHECK(run.status == 4);
    CHECK_THAT(run.out,
               Catch::StartsWith("oracle " + base(*row.server) + ": unverified: " + row.why));
    CHECK_THAT(run.out, Catch::EndsWith("gate: UNREACHABLE (none of 1 oracle answered with a valid "
                                        "signature: 1 unverified, 0 unreachable)\n"));
    // Without --pubkey nothing changes: the same answers proceed.
    CHECK(gate(args_for({row.server})).status == 0);
  }
}

TEST_CASE("gate --pubkey: an HTTP status that disagrees with the signed decision holds",
          "[gate][signed]") {
  const TempDir dir;
  const OracleKey key(dir, "oracle-a");
  // A proxy turned the oracle's 423 into 200: the signed body still says hold.
  const auto promoted = signed_by(key, 200, disputed().json());
  const auto run = gate(args_for({promoted.get()}, {"--pubkey", key.pubkey()}));
  CHECK(run.status == 3);
  CHECK_THAT(run.out, Catch::Contains("hold: HTTP 200 disagrees with the signed decision 'hold'"));
  const auto demoted = signed_by(key, 423, healthy().json());
  CHECK(gate(args_for({demoted.get()}, {"--pubkey", key.pubkey()})).status == 3);
}

TEST_CASE("gate --pubkey pairs keys with oracles in order, one key serves all", "[gate][signed]") {
  const TempDir dir;
  const OracleKey a(dir, "oracle-a");
  const OracleKey b(dir, "oracle-b");
  const auto first = signed_by(a, 200, healthy().json());
  const auto second = signed_by(b, 200, healthy().json());
  const auto both = args_for({first.get(), second.get()});
  auto with = [&](std::vector<std::string> extra) {
    auto args = both;
    args.insert(args.end(), extra.begin(), extra.end());
    return gate(args).status;
  };
  CHECK(with({"--pubkey", a.pubkey(), "--pubkey", b.pubkey()}) == 0);
  CHECK(with({"--pubkey", b.pubkey(), "--pubkey", a.pubkey()}) == 4);
  // One key for both: oracle-b's answers are unverified, so 1 of 2 is left.
  CHECK(with({"--pubkey", a.pubkey()}) == 3);
  CHECK(with({"--pubkey", a.pubkey(), "--require", "1"}) == 0);
  // A proxy that strips a base path: the oracle signed the path it received.
  const std::string body = healthy().json();
  const auto prefixed = signed_oracle(
      200, body,
      [&a, body](const std::string& received) {
        return a.signer.sign(below(received, "/oracle-a"), body);
      },
      std::string("/oracle-a") + k_gate_path);
  CHECK(gate({k_target, "--expect", "healthy", "--timeout", "2s", "--oracle",
              prefixed->url("127.0.0.1", "/oracle-a/"), "--pubkey", a.pubkey()})
            .status == 0);
}

TEST_CASE(
    "gate --pubkey: one oracle's signed answer served at two --oracle URLs counts once (a "
    "recorded answer replayed for the other oracle, or a DNS alias)",
    "[gate][signed]") {
  const TempDir dir;
  const OracleKey a(dir, "oracle-a");
  // Both URLs answer with oracle-a's answer, validly signed with the one
  // key the script gives for both oracles.
  const auto first = signed_by(a, 200, healthy().json());
  const auto second = signed_by(a, 200, healthy().json());
  auto args = args_for({first.get(), second.get()});
  args.insert(args.end(), {"--pubkey", a.pubkey()});
  const auto twice = gate(args);
  CHECK(twice.status == 3);
  CHECK_THAT(twice.out, Catch::Contains("'oracle-a' already answered through another --oracle"));
  args.insert(args.end(), {"--require", "1"});
  CHECK(gate(args).status == 0);  // one confirmation is all it asked for
}

TEST_CASE("gate --pubkey usage errors exit 2 before any request", "[gate][signed]") {
  const TempDir dir;
  const OracleKey a(dir, "oracle-a");
  const auto first = oracle(200, healthy().json());
  const auto second = oracle(200, healthy().json());
  const auto third = oracle(200, healthy().json());
  auto args = args_for({first.get(), second.get(), third.get()},
                       {"--pubkey", a.pubkey(), "--pubkey", a.pubkey()});
  auto run = gate(args);
  CHECK(run.status == 2);
  CHECK_THAT(run.err, Catch::Contains("2 --pubkey for 3 --oracle: give one key for all, or one "
                                      "per oracle in the same order"));
  run = gate(args_for({first.get()}, {"--pubkey", (dir.path() / "absent.pem").string()}));
  CHECK(run.status == 2);
  CHECK_THAT(run.err, Catch::Contains("cannot read --pubkey '"));
  run = gate(args_for({first.get()}, {"--pubkey", a.files.private_pem.string()}));
  CHECK(run.status == 2);
  CHECK_THAT(run.err, Catch::Contains("does not hold an Ed25519 public key"));
  CHECK_FALSE(first->last_request());
}

TEST_CASE("gate --pubkey asks with a fresh nonce each run, without --pubkey with none",
          "[gate][signed]") {
  const TempDir dir;
  const OracleKey key(dir, "oracle-a");
  const auto server = signed_by(key, 200, healthy().json());
  const std::regex with_nonce(R"(/v1/verdicts/db-primary\?expect=healthy&nonce=[0-9a-f]{32})");
  CHECK(gate(args_for({server.get()}, {"--pubkey", key.pubkey()})).status == 0);
  REQUIRE(server->last_request());
  const std::string first = server->last_request()->target;
  CHECK(std::regex_match(first, with_nonce));
  CHECK(gate(args_for({server.get()}, {"--pubkey", key.pubkey()})).status == 0);
  const std::string second = server->last_request()->target;
  CHECK(std::regex_match(second, with_nonce));
  CHECK(first != second);
  CHECK(gate(args_for({server.get()})).status == 0);
  CHECK(server->last_request()->target == "/v1/verdicts/db-primary?expect=healthy");
}
