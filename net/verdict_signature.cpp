#include "net/verdict_signature.hpp"

#include "config/tls_files.hpp"
#include "net/hmac.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace crosscheck::net {
namespace {

constexpr std::size_t k_signature_bytes = 64;
constexpr std::size_t k_key_id_digits = 16;
constexpr std::string_view k_version = "v1";

struct MdFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using Pkey = config::PrivateKeyPtr;  // owns any EVP_PKEY, public ones too
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdFree>;

const unsigned char* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());  // NOLINT(*-reinterpret-cast)
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// Header text quoted in an error: at most `limit` bytes, anything but
// printable ASCII as '?', so a hostile header cannot write control bytes
// or invalid UTF-8 into the gate's output or a log.
std::string printable(std::string_view text, std::size_t limit) {
  std::string out(text.substr(0, limit));
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      c = '?';
    }
  }
  return out;
}

struct ParsedHeader {
  std::string oracle;
  std::string key;
  std::string sig;
};

// "v1; oracle=a; key=k; sig=s" (spaces around parts allowed, any order after
// the version, each part once), or why not.
Expected<ParsedHeader> parse_header(std::string_view header) {
  if (trim(header).empty()) {
    return fail("no " + std::string(k_verdict_signature_header) + " header");
  }
  ParsedHeader out;
  bool first = true;
  while (!header.empty() || first) {
    const auto semi = header.find(';');
    const std::string_view part = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    if (first) {
      if (part != k_version) {
        return fail("the signature header is not version v1");
      }
      first = false;
      continue;
    }
    const auto eq = part.find('=');
    const std::string_view name = eq == std::string_view::npos ? part : trim(part.substr(0, eq));
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : trim(part.substr(eq + 1));
    std::string* slot = name == "oracle" ? &out.oracle
                        : name == "key"  ? &out.key
                        : name == "sig"  ? &out.sig
                                         : nullptr;
    if (slot == nullptr || !slot->empty() || value.empty()) {
      return fail("malformed signature header (part '" + printable(part, 40) + "')");
    }
    *slot = std::string(value);
  }
  if (out.oracle.empty() || out.key.empty() || out.sig.empty()) {
    return fail("malformed signature header (oracle, key and sig are required)");
  }
  return out;
}

}  // namespace

std::string verdict_message(std::string_view oracle, std::string_view target,
                            std::string_view body) {
  std::string message = "crosscheck verdict v1\n";
  message.reserve(message.size() + oracle.size() + target.size() + body.size() + 2);
  message.append(oracle).append("\n").append(target).append("\n").append(body);
  return message;
}

std::string key_id(const config::Ed25519Key& public_key) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(public_key.data(), public_key.size(), digest.data());
  return to_hex(digest).substr(0, k_key_id_digits);
}

struct VerdictSigner::Impl {
  Pkey key;
};

VerdictSigner::VerdictSigner(const config::SigningKey& key, std::string oracle)
    : impl_(std::make_unique<Impl>()), oracle_(std::move(oracle)), key_id_(key_id(key.public_key)) {
  impl_->key.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, key.private_key.data(),
                                                key.private_key.size()));
  if (!impl_->key) {
    throw std::runtime_error("cannot set up the verdict signing key (OpenSSL)");
  }
}

VerdictSigner::~VerdictSigner() = default;

std::string VerdictSigner::sign(std::string_view target, std::string_view body) const {
  const std::string message = verdict_message(oracle_, target, body);
  std::array<unsigned char, k_signature_bytes> signature{};
  std::size_t size = signature.size();
  const MdCtx ctx(EVP_MD_CTX_new());
  // Ed25519 is one-shot: no digest name, the message signed whole.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &size, bytes_of(message), message.size()) != 1) {
    return std::string(k_version) + "; oracle=" + oracle_ + "; key=" + key_id_ + "; sig=error";
  }
  const std::string_view raw(
      reinterpret_cast<const char*>(signature.data()),  // NOLINT(*-reinterpret-cast)
      size);
  return std::string(k_version) + "; oracle=" + oracle_ + "; key=" + key_id_ +
         "; sig=" + base64_encode(raw);
}

Expected<std::string> verify_verdict(std::string_view header, const config::Ed25519Key& public_key,
                                     std::string_view target, std::string_view body) {
  auto parsed = parse_header(header);
  if (!parsed) {
    return fail(parsed.error());
  }
  const std::string expected_key = key_id(public_key);
  if (parsed->key != expected_key) {
    return fail("signed by key " + printable(parsed->key, k_key_id_digits) + ", not by key " +
                expected_key + " (--pubkey)");
  }
  const auto signature = base64_decode(parsed->sig);
  if (!signature || signature->size() != k_signature_bytes) {
    return fail("malformed signature header (sig is not 64 bytes of base64)");
  }
  const Pkey key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  const MdCtx ctx(EVP_MD_CTX_new());
  const std::string message = verdict_message(parsed->oracle, target, body);
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), bytes_of(*signature), signature->size(), bytes_of(message),
                       message.size()) != 1) {
    return fail(
        "the signature does not match the answer (changed on the way, or the answer to another "
        "request)");
  }
  return std::move(parsed->oracle);
}

}  // namespace crosscheck::net
