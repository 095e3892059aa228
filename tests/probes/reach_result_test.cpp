#include "probes/reach_result.hpp"

#include "net/errors.hpp"

#include <boost/asio/error.hpp>
#include <catch2/catch.hpp>

#include <string>

using namespace crosscheck;
using probes::ReachFailure;

TEST_CASE("a reach result's outcome and layer follow from its failure kind", "[tcp]") {
  CHECK(probes::ReachResult{}.up());
  CHECK(probes::outcome_of(ReachFailure::ConnectRefused) == consensus::Outcome::Down);
  CHECK(probes::outcome_of(ReachFailure::Observer) == consensus::Outcome::ObserverError);
  CHECK(probes::layer_of(ReachFailure::TlsCertificate) == consensus::Layer::Tls);
  CHECK(probes::layer_of(ReachFailure::ObserverBodyCheck) == consensus::Layer::Http);
  CHECK(probes::layer_of(ReachFailure::None) == consensus::Layer::None);
}

TEST_CASE("a failed connect is classified from its error and rendered from its kind", "[tcp]") {
  namespace error = boost::asio::error;
  const auto [ec, deadline, failure,
              detail] = GENERATE(table<boost::system::error_code, bool, ReachFailure, std::string>({
      {error::connection_refused, false, ReachFailure::ConnectRefused,
       "connect: 192.0.2.5:80 connection refused"},
      {error::operation_aborted, true, ReachFailure::ConnectTimeout,
       "connect: 192.0.2.5:80 timed out"},
      {error::timed_out, false, ReachFailure::ConnectTimeout, "connect: 192.0.2.5:80 timed out"},
      {error::host_unreachable, false, ReachFailure::ConnectOther,
       "connect: 192.0.2.5:80 no route to host"},
      {error::network_unreachable, false, ReachFailure::Observer,
       "observer: cannot connect from this host to 192.0.2.5:80 network unreachable"},
  }));
  const auto kind = probes::connect_failure(ec, deadline);
  CHECK(kind == failure);
  CHECK(probes::connect_failed(kind, "192.0.2.5:80", net::describe(ec)).detail == detail);
}

TEST_CASE("a failed TLS step is rendered from its kind", "[http]") {
  const auto [failure, detail] = GENERATE(table<ReachFailure, std::string>({
      {ReachFailure::TlsSetup, "tls: setup failed: bad SNI"},
      {ReachFailure::TlsHandshake, "tls: handshake failed: bad SNI"},
      {ReachFailure::TlsCertificate, "tls: certificate verify failed (bad SNI)"},
  }));
  const auto result = probes::tls_failed(failure, "bad SNI");
  CHECK(result.layer() == consensus::Layer::Tls);
  CHECK(result.detail == detail);
}

TEST_CASE("a detail is one printable line, bounded, whatever a server said") {
  using crosscheck::probes::k_max_detail;
  using crosscheck::probes::printable_detail;
  CHECK(printable_detail("postgres: 10.0.0.7:5432 refused: \x1b[2Jbad\r\nline") ==
        "postgres: 10.0.0.7:5432 refused: ?[2Jbad??line");
  CHECK(printable_detail(std::string("a\0b", 3)) == "a?b");
  const auto long_text = printable_detail(std::string(20'000, 'x'));
  CHECK(long_text.size() == k_max_detail + 3);
  CHECK(long_text.ends_with("..."));
}
