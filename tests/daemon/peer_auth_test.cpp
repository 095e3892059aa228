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

namespace {

using crosscheck::peers::PeerReplyBinding;
using crosscheck::peers::PeerReplyStatus;
using crosscheck::peers::sign_peer_reply;
using crosscheck::peers::verify_peer_reply;

constexpr std::string_view k_body = R"({"node":"oracle-b","version":1,"votes":[]})";

// oracle-a pulled oracle-b with `request`; oracle-b answers.
PeerReplyBinding reply_to(const PeerSignature& request) {
  return PeerReplyBinding{"oracle-b", request.node, request.timestamp, request.nonce};
}

}  // namespace

TEST_CASE(
    "a reply's HMAC is over a label, both nodes, the request's timestamp and nonce, and the body",
    "[peers]") {
  // An independent value, computed with `printf 'crosscheck peer reply
  // v1\noracle-b\noracle-a\n1760940000\n00ff\n{"node":"oracle-b"}' | openssl dgst -sha256 -hmac k`.
  CHECK(sign_peer_reply("k", {"oracle-b", "oracle-a", "1760940000", "00ff"},
                        R"({"node":"oracle-b"})") ==
        "bd037b1ef738446223a98a8d9610a1327d6a9119f836810cae76818ad427c168");
}

TEST_CASE("a reply signed for the request it answers verifies, any change to it does not",
          "[peers]") {
  const auto request = signed_by("oracle-a", "secret-b");
  const auto binding = reply_to(request);
  const auto signature = sign_peer_reply("secret-b", binding, k_body);
  REQUIRE(verify_peer_reply("secret-b", binding, k_body, signature) == PeerReplyStatus::Ok);

  SECTION("a tampered body") {
    std::string body(k_body);
    body.replace(body.find("[]"), 2, R"([{"vote":"down"}])");
    CHECK(verify_peer_reply("secret-b", binding, body, signature) == PeerReplyStatus::BadSignature);
    body = std::string(k_body) + " ";
    CHECK(verify_peer_reply("secret-b", binding, body, signature) == PeerReplyStatus::BadSignature);
  }
  SECTION("a recorded reply replayed to another pull (another nonce)") {
    const auto later = signed_by("oracle-a", "secret-b");
    REQUIRE(later.nonce != request.nonce);
    CHECK(verify_peer_reply("secret-b", reply_to(later), k_body, signature) ==
          PeerReplyStatus::BadSignature);
  }
  SECTION("another timestamp") {
    auto moved = binding;
    const std::string timestamp = std::to_string(std::stoll(request.timestamp) + 1);
    moved.timestamp = timestamp;
    CHECK(verify_peer_reply("secret-b", moved, k_body, signature) == PeerReplyStatus::BadSignature);
  }
  SECTION("another responder or requester") {
    auto other = binding;
    other.responder = "oracle-c";
    CHECK(verify_peer_reply("secret-b", other, k_body, signature) == PeerReplyStatus::BadSignature);
    other = binding;
    other.requester = "oracle-c";
    CHECK(verify_peer_reply("secret-b", other, k_body, signature) == PeerReplyStatus::BadSignature);
  }
  SECTION("a wrong key") {
    CHECK(verify_peer_reply("secret-c", binding, k_body, signature) ==
          PeerReplyStatus::BadSignature);
  }
  SECTION("a missing or malformed header") {
    CHECK(verify_peer_reply("secret-b", binding, k_body, "") == PeerReplyStatus::Missing);
    CHECK(verify_peer_reply("secret-b", binding, k_body, "zz") == PeerReplyStatus::Malformed);
    CHECK(verify_peer_reply("secret-b", binding, k_body, signature.substr(2)) ==
          PeerReplyStatus::Malformed);
    CHECK(verify_peer_reply("secret-b", binding, k_body, signature + "00") ==
          PeerReplyStatus::Malformed);
  }
  SECTION("the upper-case hex of the right signature") {
    std::string upper = signature;
    for (auto& c : upper) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    CHECK(verify_peer_reply("secret-b", binding, k_body, upper) == PeerReplyStatus::Ok);
  }
}

TEST_CASE("a request signature is never accepted as a reply signature, nor the other way round",
          "[peers]") {
  // Someone on the path holds a valid request (its signature) and answers it
  // with that signature as the "reply" signature over an empty body, or over
  // the request's own signed text.
  const auto request = signed_by("oracle-a", "secret-b");
  const auto binding = reply_to(request);
  const std::string request_text =
      "GET\n" + std::string(k_path) + "\n" + request.timestamp + "\n" + request.nonce;
  for (const std::string_view body : {std::string_view{}, std::string_view(request_text)}) {
    CHECK(verify_peer_reply("secret-b", binding, body, request.signature) ==
          PeerReplyStatus::BadSignature);
  }
  // And a reply signature presented as a request's: whatever method and path
  // the forger picks, the request text never starts with the reply's label.
  const auto reply = sign_peer_reply("secret-b", binding, "");
  auto check = PeerVerifier({PeerKey{"oracle-a", "secret-b"}});
  PeerSignature forged = request;
  forged.signature = reply;
  CHECK(check.verify(forged, "GET", k_path, k_now).status == PeerAuthStatus::BadSignature);
  CHECK(check.verify(forged, "crosscheck peer reply v1", "oracle-b", k_now).status ==
        PeerAuthStatus::BadSignature);
}

TEST_CASE("a verified request carries what its reply is signed with", "[peers]") {
  auto check = verifier();
  const auto request = signed_by("oracle-b", "secret-b");
  const auto auth = check.verify(request, "GET", k_path, k_now);
  REQUIRE(auth.ok());
  CHECK(auth.key == "secret-b");
  CHECK(auth.timestamp == request.timestamp);
  CHECK(auth.nonce == request.nonce);
  const auto refused = check.verify(signed_by("oracle-b", "secret-c"), "GET", k_path, k_now);
  CHECK(refused.key.empty());
}
