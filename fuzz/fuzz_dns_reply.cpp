// libFuzzer target: bytes as the DNS reply to a fixed query ("example.com. A",
// id 4242): classify_dns_reply, then judge_dns against expectations. Whatever
// a resolver sends, the probe must classify it, never crash.
#include "config/types.hpp"
#include "probes/dns_wire.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>

namespace {

using namespace crosscheck;

const probes::DnsQuery& fixed_query() {
  static const probes::DnsQuery query = [] {
    auto built = probes::build_dns_query("example.com.", config::RrType::A, 4242);
    if (!built) {
      std::abort();
    }
    return *built;
  }();
  return query;
}

const config::DnsCheck& fixed_check() {
  static const config::DnsCheck check = [] {
    config::DnsCheck made;
    made.name = "example.com.";
    made.type = config::RrType::A;
    made.min_answers = 1;
    if (auto cidr = config::Cidr::parse("192.0.2.0/24")) {
      made.expect_addresses.push_back(*cidr);
    }
    return made;
  }();
  return check;
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto reply = probes::classify_dns_reply(std::span(data, size), fixed_query());
  if (reply.match == probes::ReplyMatch::Accepted) {
    (void)probes::judge_dns(reply.result, fixed_check());
    (void)probes::judge_dns(reply.result, config::DnsCheck{});
  }
  return 0;
}
