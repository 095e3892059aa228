// libFuzzer target: bytes as a peer's export body (GET /v1/peer/votes) for
// peers::decode_export from peer "oracle-b". Whatever a peer sends, the
// decoder refuses it with a reason or returns votes within the documented
// bounds, and says why it left any entry out; it never throws or crashes.
#include "peers/protocol.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace crosscheck::peers;

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(*-reinterpret-cast): libFuzzer hands bytes, the code under test reads text
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string why;
  const auto decoded = decode_export(body, "oracle-b", why);
  if (!decoded) {
    if (why.empty()) {
      std::abort();  // a refusal always says why
    }
    return 0;
  }
  if (decoded->node != "oracle-b" || size > k_peer_body_limit) {
    std::abort();
  }
  // An entry left out says why, in printable ASCII of bounded length (it
  // reaches a log line).
  const auto& first = decoded->first_malformed;
  if ((decoded->malformed > 0) == first.empty() || first.size() > k_peer_max_malformed_bytes ||
      std::any_of(first.begin(), first.end(), [](char c) { return c < ' ' || c > '~'; })) {
    std::abort();
  }
  for (const auto& vote : decoded->votes) {
    const bool bounded = is_peer_name(vote.target) && is_peer_name(vote.vantage) &&
                         !vote.domain.empty() && vote.domain.size() <= k_peer_max_name_bytes &&
                         vote.detail.size() <= k_peer_max_detail_bytes &&
                         vote.answers.size() <= k_peer_max_answers &&
                         (!vote.age || (vote.age->count() >= 0 && *vote.age <= k_peer_max_age));
    if (!bounded) {
      std::abort();
    }
    for (const auto& answer : vote.answers) {
      if (answer.size() > k_peer_max_answer_bytes) {
        std::abort();
      }
    }
  }
  return 0;
}
