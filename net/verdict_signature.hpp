// Signed verdict answers: the oracle signs each answer to /v1/verdicts...
// with Ed25519 over (oracle name, request target, body bytes), in one
// response header; `crosscheck gate --pubkey` verifies it. Pure apart from
// OpenSSL's arithmetic: no files (config/signing_key.hpp reads the keys),
// no sockets, no clock.
#pragma once

#include "base/base64.hpp"
#include "base/expected.hpp"
#include "config/signing_key.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace crosscheck::net {

// The response header that carries the signature:
// "v1; oracle=<node.name>; key=<key id>; sig=<base64 of 64 bytes>".
constexpr std::string_view k_verdict_signature_header = "X-Crosscheck-Verdict-Signature";

// What is signed: "crosscheck verdict v1\n" + oracle + "\n" + target + "\n"
// + body. `target` is the path and query as the oracle received them
// ("/v1/verdicts/web?expect=healthy"), so an answer cannot be replayed as
// the answer to another question.
std::string verdict_message(std::string_view oracle, std::string_view target,
                            std::string_view body);

// A public key's id: the first 16 hex digits of SHA-256 of its 32 raw bytes.
std::string key_id(const config::Ed25519Key& public_key);

// Signs answers with one key for one oracle name; safe to share between threads.
class VerdictSigner {
 public:
  // Throws std::runtime_error only when OpenSSL cannot make the key (out of memory).
  VerdictSigner(const config::SigningKey& key, std::string oracle);
  ~VerdictSigner();
  VerdictSigner(const VerdictSigner&) = delete;
  VerdictSigner& operator=(const VerdictSigner&) = delete;
  VerdictSigner(VerdictSigner&&) = delete;
  VerdictSigner& operator=(VerdictSigner&&) = delete;

  // The header value for the answer `body` to the request `target`.
  std::string sign(std::string_view target, std::string_view body) const;
  const std::string& oracle() const { return oracle_; }
  const std::string& key() const { return key_id_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string oracle_;
  std::string key_id_;
};

// The signed answer's oracle name when `header` (the value of
// k_verdict_signature_header, "" when absent) is a valid signature by
// `public_key` over the answer `body` to `target`; otherwise an Error that
// says why in one line ("no X-Crosscheck-Verdict-Signature header",
// "signed by key 3f2a... not 9c01...", "the signature does not match the
// answer (changed on the way, or an answer to another request)").
Expected<std::string> verify_verdict(std::string_view header, const config::Ed25519Key& public_key,
                                     std::string_view target, std::string_view body);

// Standard base64 (base/base64.hpp), where the signature header uses it.
using crosscheck::base64_decode;
using crosscheck::base64_encode;

}  // namespace crosscheck::net
