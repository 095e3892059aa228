// libFuzzer target: bytes as a peer's signed reply to one pull, through
// peers::read_pull (the reply signature check, then the export decoder).
// Input: a mode byte, a first line (the X-Crosscheck-Reply-Signature header
// as sent) and the body. Mode 0 sends the header as fuzzed; mode 1 signs the
// body correctly; mode 2 signs it for another pull (a replay). Whatever
// arrives, no vote is read unless the signature is the body's own for this
// pull, and nothing throws or crashes.
#include "net/http_client.hpp"
#include "peers/auth.hpp"
#include "peers/client.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

using namespace crosscheck;

namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const int mode = data[0] % 3;
  // NOLINTNEXTLINE(*-reinterpret-cast): libFuzzer hands bytes, the code under test reads text
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto newline = input.find('\n');
  const std::string_view first = input.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);

  config::PeerConfig peer;
  peer.name = "oracle-b";
  peers::PeerReplyCheck check;
  check.key = "fuzz-shared-key";
  check.requester = "oracle-a";
  check.request.node = "oracle-a";
  check.request.timestamp = "1700000000";
  check.request.nonce = "00112233445566778899aabbccddeeff";
  const peers::PeerReplyBinding binding{peer.name, check.requester, check.request.timestamp,
                                        check.request.nonce};
  const peers::PeerReplyBinding other_pull{peer.name, check.requester, check.request.timestamp,
                                           "ffeeddccbbaa99887766554433221100"};
  const std::string own = peers::sign_peer_reply(check.key, binding, body);

  net::HttpResult result;
  result.status = 200;
  result.body = std::string(body);
  std::string presented(first);
  if (mode == 1) {
    presented = own;
  } else if (mode == 2) {
    presented = peers::sign_peer_reply(check.key, other_pull, body);
  }
  if (!presented.empty()) {
    result.headers.emplace_back(std::string(peers::k_peer_reply_signature_header), presented);
  }

  const auto answer = peers::read_pull(result, peer, check, std::chrono::milliseconds(1000));
  const bool authentic = lowercase(result.header(peers::k_peer_reply_signature_header)) == own;
  if (std::holds_alternative<peers::PeerRefusal>(answer) == authentic) {
    std::abort();  // a forged reply read, or the body's own signature refused
  }
  if (mode == 2 && authentic) {
    std::abort();  // a signature for another pull verified
  }
  if (const auto* pull = std::get_if<peers::PeerPull>(&answer);
      pull && pull->votes.node != peer.name) {
    std::abort();
  }
  return 0;
}
