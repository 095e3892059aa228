// Ed25519 key files (PEM): the oracle's verdict signing key
// (api.signing_key) and the public keys `crosscheck gate --pubkey` checks
// answers with. Parsed here, at the edge, into raw 32-byte keys; signing and
// verifying are net/verdict_signature.hpp. No key is ever logged.
#pragma once

#include "base/expected.hpp"

#include <array>
#include <cstddef>
#include <filesystem>
#include <string_view>

namespace crosscheck::config {

constexpr std::size_t k_ed25519_key_bytes = 32;
using Ed25519Key = std::array<unsigned char, k_ed25519_key_bytes>;

struct SigningKey {
  SigningKey() = default;
  SigningKey(const Ed25519Key& seed, const Ed25519Key& derived)
      : private_key(seed), public_key(derived) {}
  SigningKey(const SigningKey&) = default;
  SigningKey& operator=(const SigningKey&) = default;
  SigningKey(SigningKey&&) = default;
  SigningKey& operator=(SigningKey&&) = default;
  ~SigningKey();  // wipes private_key (OPENSSL_cleanse): no copy leaves it in freed memory

  Ed25519Key private_key{};  // the RFC 8032 seed
  Ed25519Key public_key{};   // derived from it
  bool operator==(const SigningKey&) const = default;
};

// The Ed25519 private key in `file` (PEM, as `openssl genpkey -algorithm
// ed25519` writes it), read with read_secret_file(); an Error naming
// `setting` and the file when it is unreadable, garbled, encrypted or not
// Ed25519: "signing_key '/etc/k.pem' is not an Ed25519 private key (an RSA key)".
Expected<SigningKey> read_signing_key(std::string_view setting, const std::filesystem::path& file);

// The Ed25519 public key in `file` (PEM, `openssl pkey -in KEY -pubout`).
Expected<Ed25519Key> read_public_key(std::string_view setting, const std::filesystem::path& file);

}  // namespace crosscheck::config
