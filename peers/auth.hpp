// Peer authentication: HMAC-SHA256 with a shared key over the request
// ("METHOD\nPATH\nTIMESTAMP\nNONCE", a skew window and a replay cache of
// nonces) and over the reply (its exact body, bound to that request's nonce
// and timestamp). Pure apart from OpenSSL's HMAC and random bytes: time is
// passed in, nothing is read from files here, nothing throws on what a peer sent.
#pragma once

#include "consensus/types.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace crosscheck::peers {

constexpr std::string_view k_peer_node_header = "X-Crosscheck-Node";
constexpr std::string_view k_peer_timestamp_header = "X-Crosscheck-Timestamp";
constexpr std::string_view k_peer_nonce_header = "X-Crosscheck-Nonce";
constexpr std::string_view k_peer_signature_header = "X-Crosscheck-Signature";
// The answering node's signature of a 200 reply (see sign_peer_reply).
constexpr std::string_view k_peer_reply_signature_header = "X-Crosscheck-Reply-Signature";
// Opens every signed reply text. Why a space: no HTTP method can hold one, so
// a request's signed text ("METHOD\n...") never equals a reply's, and neither
// signature can be passed off as the other.
constexpr std::string_view k_peer_reply_label = "crosscheck peer reply v1";
constexpr std::chrono::seconds k_default_peer_skew{300};
constexpr std::size_t k_peer_nonce_bytes = 16;
// Nonces remembered at once; a flood past it cannot reopen a replay (see ReplayCache).
constexpr std::size_t k_default_replay_capacity = 65'536;

// A peer's shared secret (the key_file's content, trailing whitespace removed).
struct PeerKey {
  std::string node;
  std::string key;
};

// The four headers of a signed request, as sent or as received ("" when absent).
struct PeerSignature {
  std::string node;
  std::string timestamp;  // unix seconds
  std::string nonce;      // hex
  std::string signature;  // hex HMAC-SHA256
};

// Hex HMAC-SHA256 of "METHOD\nPATH\nTIMESTAMP\nNONCE" with `key`.
std::string peer_hmac(std::string_view key, std::string_view method, std::string_view path,
                      std::string_view timestamp, std::string_view nonce);

// Signs a request from `node` at wall time `now` with a fresh random nonce.
PeerSignature sign_peer_request(std::string_view node, std::string_view key,
                                std::string_view method, std::string_view path,
                                consensus::WallTime now);

enum class PeerAuthStatus : std::uint8_t {
  Ok,
  Missing,
  UnknownNode,
  BadSignature,
  Stale,
  Replayed
};
std::string_view to_string(PeerAuthStatus status);

struct PeerAuth {
  PeerAuthStatus status = PeerAuthStatus::Missing;
  std::string node;  // the authenticated peer when Ok
  // When Ok: what the reply is signed with and bound to (sign_peer_reply).
  std::string key;
  std::string timestamp;
  std::string nonce;
  bool ok() const { return status == PeerAuthStatus::Ok; }
};

// What a reply signature binds the body to: who answers whom, and the
// request (its timestamp and nonce) it answers.
struct PeerReplyBinding {
  std::string_view responder;  // the answering node's name
  std::string_view requester;  // the pulling node's name
  std::string_view timestamp;  // the request's X-Crosscheck-Timestamp
  std::string_view nonce;      // the request's X-Crosscheck-Nonce
};

// Hex HMAC-SHA256 with `key` of
// "crosscheck peer reply v1\nRESPONDER\nREQUESTER\nTIMESTAMP\nNONCE\n" + body.
std::string sign_peer_reply(std::string_view key, const PeerReplyBinding& binding,
                            std::string_view body);

enum class PeerReplyStatus : std::uint8_t {
  Ok,
  Missing,       // no X-Crosscheck-Reply-Signature (forged, or a node too old to sign)
  Malformed,     // not 64 hex digits
  BadSignature,  // another body, request, key or node: forged, tampered or replayed
};
// The metric label: "ok", "missing", "malformed", "bad_signature".
std::string_view to_string(PeerReplyStatus status);

// Checks `presented` (the reply's header, "" when absent) against `body` and
// the request it answers, in constant time. Only Ok may be parsed.
PeerReplyStatus verify_peer_reply(std::string_view key, const PeerReplyBinding& binding,
                                  std::string_view body, std::string_view presented);

// Nonces seen inside the skew window. Entries expire by their timestamp; at
// capacity the oldest is forgotten and its timestamp becomes a floor that
// every later request must be newer than, so forgetting never reopens a replay.
class ReplayCache {
 public:
  ReplayCache(std::chrono::seconds window, std::size_t capacity);
  // True (and remembered) when `nonce` was not seen; false for a replay or a
  // timestamp at or below the floor.
  bool remember(std::string_view nonce, consensus::WallTime timestamp, consensus::WallTime now);
  std::size_t size() const { return nonces_.size(); }

 private:
  std::chrono::seconds window_;
  std::size_t capacity_;
  std::multimap<consensus::WallTime, std::string> by_time_;
  std::set<std::string, std::less<>> nonces_;
  std::optional<consensus::WallTime> floor_;
};

// Verifies signed requests against the configured peers' keys. Thread-safe
// (the API thread verifies, a reload replaces the keys).
class PeerVerifier {
 public:
  explicit PeerVerifier(std::vector<PeerKey> keys, std::chrono::seconds skew = k_default_peer_skew,
                        std::size_t capacity = k_default_replay_capacity);
  void set_keys(std::vector<PeerKey> keys);
  bool empty() const;
  // Checks, in order: headers present, node configured, signature
  // (constant time), timestamp within ±skew of `now`, nonce unseen.
  PeerAuth verify(const PeerSignature& presented, std::string_view method, std::string_view path,
                  consensus::WallTime now);

 private:
  mutable std::mutex mutex_;
  std::vector<PeerKey> keys_;
  std::chrono::seconds skew_;
  ReplayCache replays_;
};

}  // namespace crosscheck::peers
