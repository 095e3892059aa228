#include "probes/reach_result.hpp"

#include "net/errors.hpp"
#include "net/http_client.hpp"

#include <algorithm>

#include <boost/asio/error.hpp>

namespace crosscheck::probes {

consensus::Outcome outcome_of(ReachFailure failure) {
  if (failure == ReachFailure::None) {
    return consensus::Outcome::Up;
  }
  if (failure == ReachFailure::Observer || failure == ReachFailure::ObserverBodyCheck ||
      failure == ReachFailure::ObserverAuth) {
    return consensus::Outcome::ObserverError;
  }
  return consensus::Outcome::Down;
}

consensus::Layer layer_of(ReachFailure failure) {
  switch (failure) {
    case ReachFailure::None:
      return consensus::Layer::None;
    case ReachFailure::ConnectRefused:
    case ReachFailure::ConnectTimeout:
    case ReachFailure::ConnectOther:
    case ReachFailure::Observer:
      return consensus::Layer::Connect;
    case ReachFailure::TlsSetup:
    case ReachFailure::TlsHandshake:
    case ReachFailure::TlsCertificate:
    case ReachFailure::TlsUnknownCa:
    case ReachFailure::TlsExpired:
    case ReachFailure::TlsWrongName:
      return consensus::Layer::Tls;
    case ReachFailure::HttpStatus:
    case ReachFailure::HttpRedirect:
    case ReachFailure::HttpBody:
    case ReachFailure::HttpTimeout:
    case ReachFailure::HttpOther:
    case ReachFailure::ObserverBodyCheck:
      break;
    case ReachFailure::AppRole:
    case ReachFailure::AppReadOnly:
    case ReachFailure::AppLag:
    case ReachFailure::AppError:
    case ReachFailure::AppTimeout:
    case ReachFailure::ObserverAuth:
      return consensus::Layer::App;
  }
  return consensus::Layer::Http;
}

std::string printable_detail(std::string_view detail) {
  std::string out;
  out.reserve(std::min(detail.size(), k_max_detail));
  for (const char c : detail.substr(0, k_max_detail)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= ' ' && u < 0x7f) ? c : '?';
  }
  if (detail.size() > k_max_detail) {
    out += "...";
  }
  return out;
}

std::optional<consensus::WallTime> wall_time(
    std::optional<std::chrono::sys_time<std::chrono::milliseconds>> at) {
  if (!at) {
    return std::nullopt;
  }
  return std::chrono::time_point_cast<consensus::Duration>(*at);
}

ReachResult reach_result(ReachFailure failure, std::string detail) {
  ReachResult result;
  result.failure = failure;
  result.detail = std::move(detail);
  return result;
}

ReachResult connect_failed(ReachFailure failure, std::string_view where, std::string_view reason) {
  const std::string at(where);
  if (failure == ReachFailure::ConnectTimeout) {
    return reach_result(failure, "connect: " + at + " timed out");
  }
  if (failure == ReachFailure::Observer) {
    return reach_result(
        failure, "observer: cannot connect from this host to " + at + " " + std::string(reason));
  }
  return reach_result(failure, "connect: " + at + " " + std::string(reason));
}

ReachResult tls_failed(ReachFailure failure, std::string_view reason) {
  const std::string why(reason);
  if (layer_of(failure) == consensus::Layer::Tls && failure != ReachFailure::TlsSetup &&
      failure != ReachFailure::TlsHandshake) {
    return reach_result(failure, "tls: certificate verify failed (" + why + ")");
  }
  if (failure == ReachFailure::TlsSetup) {
    return reach_result(failure, "tls: setup failed: " + why);
  }
  return reach_result(failure, "tls: handshake failed: " + why);
}

ReachResult certificate_refused(net::TlsRefusal refusal, std::string_view reason) {
  switch (refusal) {
    case net::TlsRefusal::UnknownCa:
      return tls_failed(ReachFailure::TlsUnknownCa, reason);
    case net::TlsRefusal::Expired:
      return tls_failed(ReachFailure::TlsExpired, reason);
    case net::TlsRefusal::WrongName:
      return tls_failed(ReachFailure::TlsWrongName, reason);
    case net::TlsRefusal::None:
    case net::TlsRefusal::ClientCert:
    case net::TlsRefusal::Handshake:
      break;
  }
  return tls_failed(ReachFailure::TlsCertificate, reason);
}

ReachFailure connect_failure(const boost::system::error_code& ec, bool deadline_passed) {
  if (deadline_passed || ec == boost::asio::error::timed_out) {
    return ReachFailure::ConnectTimeout;
  }
  if (net::is_observer_fault(ec)) {
    return ReachFailure::Observer;
  }
  return ec == boost::asio::error::connection_refused ? ReachFailure::ConnectRefused
                                                      : ReachFailure::ConnectOther;
}

}  // namespace crosscheck::probes
