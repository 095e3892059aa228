// Peer authentication: HMAC signatures, the skew window and the replay cache.
#include "peers/auth.hpp"

#include "consensus/time_format.hpp"

#include <catch2/catch.hpp>

namespace {

namespace cs = crosscheck::consensus;
using crosscheck::peers::PeerAuthStatus;
using crosscheck::peers::PeerKey;
using crosscheck::peers::PeerSignature;
using crosscheck::peers::PeerVerifier;
using crosscheck::peers::ReplayCache;
using crosscheck::peers::sign_peer_request;
using namespace std::chrono_literals;

const cs::WallTime k_now = *cs::parse_rfc3339("2025-10-20T06:00:00Z");
constexpr std::string_view k_path = "/v1/peer/votes";

PeerVerifier verifier() {
  return PeerVerifier({PeerKey{"oracle-b", "secret-b"}, PeerKey{"oracle-c", "secret-c"}});
}

PeerSignature signed_by(std::string_view node, std::string_view key, cs::WallTime at = k_now) {
  return sign_peer_request(node, key, "GET", k_path, at);
}

}  // namespace

TEST_CASE("the HMAC is over method, path, timestamp and nonce", "[peers]") {
  // An independent value, computed with
  // `printf 'GET\n/v1/peer/votes\n1760940000\n00ff' | openssl dgst -sha256 -hmac k`.
  CHECK(crosscheck::peers::peer_hmac("k", "GET", k_path, "1760940000", "00ff") ==
        "36a3c97ec6f0139c90aef98b44f5c3163c3d5755774db2d2f4c693a8f002c3e2");
}

TEST_CASE("a request signed with the peer's key is accepted once", "[peers]") {
  auto check = verifier();
  const auto signature = signed_by("oracle-b", "secret-b");
  CHECK(signature.nonce.size() == 32);
  const auto first = check.verify(signature, "GET", k_path, k_now);
  CHECK(first.ok());
  CHECK(first.node == "oracle-b");
  CHECK(check.verify(signature, "GET", k_path, k_now + 1s).status == PeerAuthStatus::Replayed);
}

TEST_CASE("a wrong key, node, method or path is refused", "[peers]") {
  auto check = verifier();
  CHECK(check.verify(signed_by("oracle-b", "secret-c"), "GET", k_path, k_now).status ==
        PeerAuthStatus::BadSignature);
  CHECK(check.verify(signed_by("oracle-z", "secret-b"), "GET", k_path, k_now).status ==
        PeerAuthStatus::UnknownNode);
  CHECK(check.verify(signed_by("oracle-b", "secret-b"), "POST", k_path, k_now).status ==
        PeerAuthStatus::BadSignature);
  CHECK(check.verify(signed_by("oracle-b", "secret-b"), "GET", "/v1/verdicts", k_now).status ==
        PeerAuthStatus::BadSignature);
  auto tampered = signed_by("oracle-b", "secret-b");
  tampered.signature[0] = tampered.signature[0] == 'a' ? 'b' : 'a';
  CHECK(check.verify(tampered, "GET", k_path, k_now).status == PeerAuthStatus::BadSignature);
}

TEST_CASE("missing or malformed headers are refused", "[peers]") {
  auto check = verifier();
  auto signature = signed_by("oracle-b", "secret-b");
  SECTION("no headers") {
    signature = PeerSignature{};
  }
  SECTION("short nonce") {
    signature.nonce = "abcd";
  }
  SECTION("timestamp not digits") {
    signature.timestamp = "-5";
  }
  SECTION("signature not hex") {
    signature.signature = std::string(64, 'z');
  }
  SECTION("signature truncated") {
    signature.signature.resize(62);
  }
  CHECK(check.verify(signature, "GET", k_path, k_now).status == PeerAuthStatus::Missing);
}

TEST_CASE("a timestamp outside the skew window is refused", "[peers]") {
  auto check = verifier();
  const auto offset = GENERATE(-301s, -300s, 300s, 301s);
  CAPTURE(offset.count());
  const auto status =
      check.verify(signed_by("oracle-b", "secret-b", k_now + offset), "GET", k_path, k_now).status;
  CHECK(status == (std::chrono::abs(offset) <= 300s ? PeerAuthStatus::Ok : PeerAuthStatus::Stale));
}

TEST_CASE("the replay cache forgets nonces past the window", "[peers]") {
  ReplayCache cache(300s, 100);
  CHECK(cache.remember("n1", k_now, k_now));
  CHECK_FALSE(cache.remember("n1", k_now, k_now + 300s));
  CHECK(cache.remember("n2", k_now + 301s, k_now + 301s));
  CHECK(cache.size() == 1);  // n1 expired
}

TEST_CASE("a full replay cache never reopens a forgotten nonce", "[peers]") {
  ReplayCache cache(300s, 2);
  CHECK(cache.remember("n1", k_now, k_now));
  CHECK(cache.remember("n2", k_now + 1s, k_now + 1s));
  CHECK(cache.remember("n3", k_now + 2s, k_now + 2s));  // forgets n1, floor = k_now
  CHECK(cache.size() == 2);
  CHECK_FALSE(cache.remember("n1", k_now, k_now + 2s));  // at the floor: refused
  CHECK(cache.remember("n4", k_now + 3s, k_now + 3s));
}

TEST_CASE("replaced keys take effect for the next request", "[peers]") {
  auto check = verifier();
  check.set_keys({PeerKey{"oracle-b", "rotated"}});
  CHECK(check.verify(signed_by("oracle-b", "secret-b"), "GET", k_path, k_now).status ==
        PeerAuthStatus::BadSignature);
  CHECK(check.verify(signed_by("oracle-b", "rotated"), "GET", k_path, k_now).ok());
}
