// System test against a real validating-resolver implementation: unbound
// (Debian's `unbound`), started on loopback by the test with `ede: yes`.
// One instance refuses us by access-control and says why with an Extended
// DNS Error (RFC 8914: 18, Prohibited); the other answers from local data.
// `local-zone: "." static` keeps both from ever asking anyone else.
#include "real_resolver.hpp"
#include "support/child_process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace crosscheck;
using namespace std::chrono_literals;
using crosscheck::testing::ChildProcess;
using crosscheck::testing::TempDir;

namespace {

// An unbound on `address`:`port` in the foreground whose access-control
// for 127.0.0.0/8 is `access` (allow or refuse), knowing web.test only.
std::unique_ptr<ChildProcess> start_unbound(const std::filesystem::path& dir,
                                            const std::string& address, unsigned short port,
                                            const std::string& access) {
  return testing::start_unbound(dir, access,
                                "  interface: " + address + "\n  port: " + std::to_string(port) +
                                    "\n  access-control: 127.0.0.0/8 " + access +
                                    "\n  local-data: \"web.test. 60 IN A 192.0.2.10\"\n");
}

}  // namespace

TEST_CASE("a real unbound's Extended DNS Error names why it refused, and its answer has none",
          "[unbound][ede]") {
  TempDir dir;
  const auto allow_port = testing::free_port("127.0.0.73");
  const auto refuse_port = testing::free_port("127.0.0.74");
  const config::Endpoint allowing{*config::IpAddress::parse("127.0.0.73"), allow_port};
  const config::Endpoint refusing{*config::IpAddress::parse("127.0.0.74"), refuse_port};
  auto allow_server = start_unbound(dir.path(), "127.0.0.73", allow_port, "allow");
  auto refuse_server = start_unbound(dir.path(), "127.0.0.74", refuse_port, "refuse");
  if (!testing::wait_until_serving(allowing, *allow_server, "web.test") ||
      !testing::wait_until_serving(refusing, *refuse_server, "web.test")) {
    FAIL("unbound is not serving; its logs:\n"
         << allow_server->log() << '\n'
         << refuse_server->log());
  }

  const auto refused = testing::query_a(refusing, "web.test");
  CHECK(refused.status == probes::DnsStatus::Refused);
  REQUIRE(refused.extended_errors.size() == 1);
  CHECK(refused.extended_errors[0].code == 18);
  CHECK(refused.detail.starts_with("dns: REFUSED (EDE 18: Prohibited"));

  const auto answered = testing::query_a(allowing, "web.test");
  CHECK(answered.status == probes::DnsStatus::Answer);
  CHECK(answered.extended_errors.empty());
  CHECK(answered.detail == "dns: NOERROR, 1 answer");
}
