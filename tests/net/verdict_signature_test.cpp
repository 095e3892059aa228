// Signed verdict answers: what the oracle's header says and what the gate's
// check accepts and refuses. Keys are RFC 8032's test vectors (no files).
#include "net/verdict_signature.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

#include <string>

using crosscheck::config::Ed25519Key;
using crosscheck::config::SigningKey;
using crosscheck::net::base64_decode;
using crosscheck::net::base64_encode;
using crosscheck::net::key_id;
using crosscheck::net::VerdictSigner;
using crosscheck::net::verify_verdict;

namespace {

Ed25519Key from_hex(std::string_view hex) {
  Ed25519Key key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<unsigned char>(std::stoi(std::string(hex.substr(i * 2, 2)), nullptr, 16));
  }
  return key;
}

// RFC 8032 section 7.1, TEST 1 and TEST 2.
SigningKey rfc_key_1() {
  return {from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
          from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")};
}
SigningKey rfc_key_2() {
  return {from_hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"),
          from_hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")};
}

constexpr std::string_view k_target = "/v1/verdicts/web?expect=healthy";
constexpr std::string_view k_body =
    R"({"target":"web","verdict":"healthy","fresh":true,"generation":3,)"
    R"("gate":{"expect":"healthy","decision":"proceed","reason":""}})";

std::string error_of(const crosscheck::Expected<std::string>& result) {
  return result ? std::string() : result.error();
}

}  // namespace

TEST_CASE("a signed answer verifies and names its oracle", "[verdict_signature]") {
  const VerdictSigner signer(rfc_key_1(), "oracle-a");
  const std::string header = signer.sign(k_target, k_body);
  CHECK(
      header.starts_with("v1; oracle=oracle-a; key=" + key_id(rfc_key_1().public_key) + "; sig="));
  CHECK(key_id(rfc_key_1().public_key).size() == 16);
  const auto oracle = verify_verdict(header, rfc_key_1().public_key, k_target, k_body);
  REQUIRE(oracle);
  CHECK(*oracle == "oracle-a");
  // Ed25519 is deterministic: the same answer, the same header.
  CHECK(signer.sign(k_target, k_body) == header);
  // Extra spaces around the parts are fine.
  std::string spaced = "  v1 ;oracle = oracle-a ;  key=" + key_id(rfc_key_1().public_key) +
                       " ;sig=  " + header.substr(header.find("sig=") + 4) + "  ";
  CHECK(verify_verdict(spaced, rfc_key_1().public_key, k_target, k_body));
}

TEST_CASE("the signed message is the bytes docs/api.md documents", "[verdict_signature]") {
  // The signed message is a documented format others may verify with their
  // own tools: check it byte for byte.
  CHECK(crosscheck::net::verdict_message("a", "/v1/verdicts/x", "{}") ==
        "crosscheck verdict v1\na\n/v1/verdicts/x\n{}");
}

TEST_CASE("a changed body, target, oracle name or key is refused", "[verdict_signature]") {
  const VerdictSigner signer(rfc_key_1(), "oracle-a");
  const std::string header = signer.sign(k_target, k_body);
  const std::string mismatch = "the signature does not match the answer";
  std::string tampered(k_body);
  tampered.replace(tampered.find("\"fresh\":true"), 12, "\"fresh\":tru ");
  CHECK(error_of(verify_verdict(header, rfc_key_1().public_key, k_target, tampered))
            .starts_with(mismatch));
  CHECK(error_of(verify_verdict(header, rfc_key_1().public_key, "/v1/verdicts/db?expect=healthy",
                                k_body))
            .starts_with(mismatch));
  std::string renamed = header;
  renamed.replace(renamed.find("oracle-a"), 8, "oracle-b");
  CHECK(error_of(verify_verdict(renamed, rfc_key_1().public_key, k_target, k_body))
            .starts_with(mismatch));
  // Signed by another key: named by its id.
  const VerdictSigner other(rfc_key_2(), "oracle-a");
  CHECK(error_of(verify_verdict(other.sign(k_target, k_body), rfc_key_1().public_key, k_target,
                                k_body)) == "signed by key " + key_id(rfc_key_2().public_key) +
                                                ", not by key " + key_id(rfc_key_1().public_key) +
                                                " (--pubkey)");
  // Another key claiming our key's id still fails the signature check.
  std::string forged = other.sign(k_target, k_body);
  forged.replace(forged.find(key_id(rfc_key_2().public_key)), 16, key_id(rfc_key_1().public_key));
  CHECK(error_of(verify_verdict(forged, rfc_key_1().public_key, k_target, k_body))
            .starts_with(mismatch));
}

TEST_CASE("an absent or malformed signature header is refused", "[verdict_signature]") {
  const VerdictSigner signer(rfc_key_1(), "oracle-a");
  const std::string header = signer.sign(k_target, k_body);
  const auto& key = rfc_key_1().public_key;
  CHECK(error_of(verify_verdict("", key, k_target, k_body)) ==
        "no X-Crosscheck-Verdict-Signature header");
  CHECK(error_of(verify_verdict("v2; oracle=a; key=b; sig=c", key, k_target, k_body)) ==
        "the signature header is not version v1");
  const std::string sig = header.substr(header.find("sig=") + 4);
  const std::string id = key_id(key);
  CHECK(error_of(verify_verdict("v1; oracle=oracle-a; key=" + id, key, k_target, k_body)) ==
        "malformed signature header (oracle, key and sig are required)");
  CHECK(error_of(verify_verdict("v1; oracle=oracle-a; key=" + id + "; sig=" + sig + "; sig=" + sig,
                                key, k_target, k_body))
            .starts_with("malformed signature header (part"));
  CHECK(error_of(verify_verdict("v1; oracle=oracle-a; key=" + id + "; sig=" + sig + "; x=1", key,
                                k_target, k_body))
            .starts_with("malformed signature header (part"));
  const std::string bad_sig = "malformed signature header (sig is not 64 bytes of base64)";
  CHECK(error_of(verify_verdict("v1; oracle=oracle-a; key=" + id + "; sig=" + sig.substr(0, 84),
                                key, k_target, k_body)) == bad_sig);
  CHECK(error_of(verify_verdict("v1; oracle=oracle-a; key=" + id + "; sig=" + sig.substr(4), key,
                                k_target, k_body)) == bad_sig);
  CHECK(error_of(verify_verdict("v1; oracle=oracle-a; key=" + id + "; sig=*" + sig.substr(1), key,
                                k_target, k_body)) == bad_sig);
  // A 64-byte signature is 86 digits and "==": the last digit's low 4 bits
  // are padding and must be zero, so one signature has one spelling.
  REQUIRE(sig.size() == 88);
  std::string other_spelling = sig;
  const auto last =
      std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  other_spelling[85] = last[last.find(sig[85]) ^ 1U];
  CHECK(error_of(verify_verdict("v1; oracle=oracle-a; key=" + id + "; sig=" + other_spelling, key,
                                k_target, k_body)) == bad_sig);
}

TEST_CASE("header text quoted in a refusal is printable ASCII only", "[verdict_signature]") {
  const auto& key = rfc_key_1().public_key;
  const std::string id = key_id(key);
  const std::string hostile = "v1; oracle=a; key=" + id + "; sig=x; \x1b[2J\xff=1";
  const std::string why = error_of(verify_verdict(hostile, key, k_target, k_body));
  CHECK(why.starts_with("malformed signature header (part '"));
  CHECK(std::none_of(why.begin(), why.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte >= 0x7f;
  }));
  CHECK(error_of(verify_verdict("v1; oracle=a; key=\x07\x80"
                                "bad; sig=x",
                                key, k_target, k_body)) ==
        "signed by key ??bad, not by key " + id + " (--pubkey)");
}

TEST_CASE("base64 round-trips and decodes strictly", "[verdict_signature]") {
  for (const std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    CHECK(base64_decode(base64_encode(text)) == text);
  }
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("f") == "Zg==");
  CHECK_FALSE(base64_decode("Zm8"));
  CHECK_FALSE(base64_decode("Zg=a"));
  CHECK_FALSE(base64_decode("Z==="));
  CHECK_FALSE(base64_decode("Zg==Zg=="));
  CHECK_FALSE(base64_decode("Zm9v YmFy"));
  CHECK_FALSE(base64_decode("Zh=="));  // 'h' leaves a bit set after the one byte
  CHECK_FALSE(base64_decode("Zm9="));  // '9' leaves bits set after the two bytes
  CHECK(base64_decode("Zm8=") == "fo");
}
