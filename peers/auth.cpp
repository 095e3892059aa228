#include "peers/auth.hpp"

#include "net/hmac.hpp"
#include "net/random.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <span>

namespace crosscheck::peers {
namespace {

constexpr std::size_t k_digest_bytes = net::k_hmac_sha256_bytes;
constexpr std::size_t k_max_nonce_hex = 128;
constexpr std::size_t k_max_timestamp_digits = 12;

std::optional<unsigned> hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return static_cast<unsigned>(c - '0');
  }
  const char lower = static_cast<char>(c | 0x20);
  if (lower >= 'a' && lower <= 'f') {
    return static_cast<unsigned>(lower - 'a' + 10);
  }
  return std::nullopt;
}

// The bytes of an even-length hex string; nullopt for anything else.
std::optional<std::vector<unsigned char>> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) {
    return std::nullopt;
  }
  std::vector<unsigned char> out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const auto high = hex_value(text[i]);
    const auto low = hex_value(text[i + 1]);
    if (!high || !low) {
      return std::nullopt;
    }
    out.push_back(static_cast<unsigned char>((*high << 4U) | *low));
  }
  return out;
}

std::string signed_text(std::string_view method, std::string_view path, std::string_view timestamp,
                        std::string_view nonce) {
  std::string text;
  text.reserve(method.size() + path.size() + timestamp.size() + nonce.size() + 3);
  text.append(method).append("\n").append(path).append("\n").append(timestamp).append("\n").append(
      nonce);
  return text;
}

std::optional<consensus::WallTime> parse_timestamp(std::string_view text) {
  std::int64_t seconds = 0;
  if (text.empty() || text.size() > k_max_timestamp_digits ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::from_chars(text.data(), text.data() + text.size(), seconds);
  return consensus::WallTime(std::chrono::seconds(seconds));
}

std::string reply_text(const PeerReplyBinding& binding, std::string_view body) {
  std::string text;
  text.reserve(k_peer_reply_label.size() + binding.responder.size() + binding.requester.size() +
               binding.timestamp.size() + binding.nonce.size() + body.size() + 5);
  text.append(k_peer_reply_label).append("\n");
  for (const auto part : {binding.responder, binding.requester, binding.timestamp, binding.nonce}) {
    text.append(part).append("\n");
  }
  text.append(body);
  return text;
}

PeerAuth refused(PeerAuthStatus status) {
  PeerAuth auth;
  auth.status = status;
  return auth;
}

bool nonce_well_formed(std::string_view nonce) {
  return nonce.size() >= 2 * k_peer_nonce_bytes && nonce.size() <= k_max_nonce_hex &&
         from_hex(nonce).has_value();
}

}  // namespace

std::string peer_hmac(std::string_view key, std::string_view method, std::string_view path,
                      std::string_view timestamp, std::string_view nonce) {
  const auto digest = net::hmac_sha256(key, signed_text(method, path, timestamp, nonce));
  return net::to_hex(digest);
}

PeerSignature sign_peer_request(std::string_view node, std::string_view key,
                                std::string_view method, std::string_view path,
                                consensus::WallTime now) {
  PeerSignature out;
  out.node = std::string(node);
  out.timestamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  out.nonce = net::random_hex(k_peer_nonce_bytes);
  out.signature = peer_hmac(key, method, path, out.timestamp, out.nonce);
  return out;
}

std::string sign_peer_reply(std::string_view key, const PeerReplyBinding& binding,
                            std::string_view body) {
  return net::to_hex(net::hmac_sha256(key, reply_text(binding, body)));
}

std::string_view to_string(PeerReplyStatus status) {
  switch (status) {
    case PeerReplyStatus::Ok:
      return "ok";
    case PeerReplyStatus::Missing:
      return "missing";
    case PeerReplyStatus::Malformed:
      return "malformed";
    case PeerReplyStatus::BadSignature:
      return "bad_signature";
  }
  return "invalid";
}

PeerReplyStatus verify_peer_reply(std::string_view key, const PeerReplyBinding& binding,
                                  std::string_view body, std::string_view presented) {
  if (presented.empty()) {
    return PeerReplyStatus::Missing;
  }
  const auto signature = from_hex(presented);
  if (!signature || signature->size() != k_digest_bytes) {
    return PeerReplyStatus::Malformed;
  }
  const auto expected = net::hmac_sha256(key, reply_text(binding, body));
  return CRYPTO_memcmp(expected.data(), signature->data(), k_digest_bytes) == 0
             ? PeerReplyStatus::Ok
             : PeerReplyStatus::BadSignature;
}

std::string_view to_string(PeerAuthStatus status) {
  switch (status) {
    case PeerAuthStatus::Ok:
      return "ok";
    case PeerAuthStatus::Missing:
      return "missing or malformed X-Crosscheck-* headers";
    case PeerAuthStatus::UnknownNode:
      return "not a configured peer";
    case PeerAuthStatus::BadSignature:
      return "bad signature";
    case PeerAuthStatus::Stale:
      return "timestamp outside the allowed clock skew";
    case PeerAuthStatus::Replayed:
      return "nonce already used";
  }
  return "invalid";
}

ReplayCache::ReplayCache(std::chrono::seconds window, std::size_t capacity)
    : window_(window), capacity_(std::max<std::size_t>(capacity, 1)) {}

bool ReplayCache::remember(std::string_view nonce, consensus::WallTime timestamp,
                           consensus::WallTime now) {
  // A nonce older than the window is refused by the skew check anyway.
  while (!by_time_.empty() && by_time_.begin()->first < now - window_) {
    nonces_.erase(by_time_.begin()->second);
    by_time_.erase(by_time_.begin());
  }
  if ((floor_ && timestamp <= *floor_) || nonces_.contains(nonce)) {
    return false;
  }
  if (nonces_.size() >= capacity_) {
    floor_ = std::max(floor_.value_or(by_time_.begin()->first), by_time_.begin()->first);
    nonces_.erase(by_time_.begin()->second);
    by_time_.erase(by_time_.begin());
    if (timestamp <= *floor_) {
      return false;
    }
  }
  nonces_.emplace(nonce);
  by_time_.emplace(timestamp, std::string(nonce));
  return true;
}

PeerVerifier::PeerVerifier(std::vector<PeerKey> keys, std::chrono::seconds skew,
                           std::size_t capacity)
    : keys_(std::move(keys)), skew_(skew), replays_(skew, capacity) {}

void PeerVerifier::set_keys(std::vector<PeerKey> keys) {
  const std::lock_guard lock(mutex_);
  keys_ = std::move(keys);
}

bool PeerVerifier::empty() const {
  const std::lock_guard lock(mutex_);
  return keys_.empty();
}

PeerAuth PeerVerifier::verify(const PeerSignature& presented, std::string_view method,
                              std::string_view path, consensus::WallTime now) {
  const auto timestamp = parse_timestamp(presented.timestamp);
  const auto signature = from_hex(presented.signature);
  if (presented.node.empty() || !timestamp || !nonce_well_formed(presented.nonce) || !signature ||
      signature->size() != k_digest_bytes) {
    return refused(PeerAuthStatus::Missing);
  }
  const std::lock_guard lock(mutex_);
  const auto key = std::find_if(keys_.begin(), keys_.end(),
                                [&](const PeerKey& k) { return k.node == presented.node; });
  if (key == keys_.end()) {
    return refused(PeerAuthStatus::UnknownNode);
  }
  const auto expected =
      net::hmac_sha256(key->key, signed_text(method, path, presented.timestamp, presented.nonce));
  if (CRYPTO_memcmp(expected.data(), signature->data(), k_digest_bytes) != 0) {
    return refused(PeerAuthStatus::BadSignature);
  }
  if (*timestamp < now - skew_ || *timestamp > now + skew_) {
    return refused(PeerAuthStatus::Stale);
  }
  if (!replays_.remember(presented.nonce, *timestamp, now)) {
    return refused(PeerAuthStatus::Replayed);
  }
  return PeerAuth{PeerAuthStatus::Ok, presented.node, key->key, presented.timestamp,
                  presented.nonce};
}

}  // namespace crosscheck::peers
