// POST /v1/peer/recheck: a peer asks this node to re-probe one target now.
// Signed like GET /v1/peer/votes (peers/auth.hpp), answered like it: the
// target's votes in the export format, signed for the request they answer.
#include "api/route.hpp"

#include "config/types.hpp"
#include "peers/auth.hpp"
#include "peers/protocol.hpp"

#include <algorithm>
#include <optional>

namespace crosscheck::api {

namespace detail {

std::optional<ApiResponse> refuse_peer(const ApiRequest& request, std::string_view method,
                                       std::string_view path) {
  if (request.method != method) {
    ApiResponse response = error_response(405, "method_not_allowed",
                                          std::string(path) + " takes " + std::string(method));
    response.headers.emplace_back("Allow", std::string(method));
    return response;
  }
  if (request.peer != nullptr && request.peer->ok()) {
    return std::nullopt;
  }
  ApiResponse response =
      error_response(401, "unauthorized",
                     request.peer == nullptr ? "peering is not configured on this node"
                                             : std::string(to_string(request.peer->status)));
  // Counted with the API's other credential refusals: a forged peer request
  // is someone trying to read our votes or make us probe on their behalf.
  response.refusal =
      request.peer != nullptr && request.peer->status == peers::PeerAuthStatus::Missing
          ? AuthRefusal::Missing
          : AuthRefusal::Invalid;
  response.headers.emplace_back("WWW-Authenticate", "Crosscheck-HMAC-SHA256");
  return response;
}

ApiOutcome peer_recheck(const ApiRequest& request, const snapshot::Snapshot& snapshot) {
  if (auto refused = refuse_peer(request, "POST", peers::k_peer_recheck_path)) {
    return *std::move(refused);
  }
  // Only after the signature: an unauthenticated caller learns nothing.
  auto target = net::parse_request_target(request.target);
  net::QueryParams query;
  if (!target || !query.parse(target->query)) {
    return bad_query("malformed query");
  }
  const auto name = query.take("target");
  const auto timeout_text = query.take("timeout");
  const auto version_text = query.take("version");
  if (auto why = query.leftover("target, timeout, version"); !why.empty()) {
    return bad_query(why);
  }
  if (version_text && *version_text != "1" && *version_text != "2") {
    return bad_query("version must be 1 or 2");
  }
  if (!name || !peers::is_peer_name(*name)) {
    return bad_query("target must be a target name");
  }
  if (snapshot.find(*name) == nullptr) {
    return unknown_target(*name);
  }
  WriteRequest write;
  write.kind = WriteRequest::Kind::PeerRecheck;
  write.target = *name;
  if (timeout_text) {
    const auto timeout = config::parse_duration(*timeout_text);
    if (!timeout || *timeout <= config::Duration::zero()) {
      return bad_query("timeout must be a positive duration such as 4s");
    }
    write.deadline = std::min(*timeout, k_max_recheck_deadline);
  }
  const auto& peer = *request.peer;
  write.caller = Caller{"peer:" + peer.node, request.client_address};
  write.peer_node = peer.node;
  write.peer_key = peer.key;
  write.peer_timestamp = peer.timestamp;
  write.peer_nonce = peer.nonce;
  write.peer_version =
      version_text == "2" ? peers::k_peer_protocol_version : peers::k_peer_protocol_version_1;
  return write;
}

}  // namespace detail

ApiResponse peer_recheck_response(const WriteRequest& write, const ActionResult& result,
                                  const consensus::Instant& now) {
  if (!result.snapshot || result.status == 404 || result.snapshot->find(write.target) == nullptr) {
    return error_response(result.status == 404 ? 404 : 503,
                          result.error.empty() ? "recheck_failed" : result.error, result.detail);
  }
  ApiResponse response = detail::make_response(
      200, peers::export_target_votes(*result.snapshot, now, write.target, write.peer_version));
  response.headers.emplace_back(peers::k_peer_reply_signature_header,
                                peers::sign_peer_reply(write.peer_key,
                                                       {result.snapshot->node, write.peer_node,
                                                        write.peer_timestamp, write.peer_nonce},
                                                       response.body));
  return response;
}

}  // namespace crosscheck::api
