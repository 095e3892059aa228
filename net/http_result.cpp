// The client's value types: a failure's name, a header looked up in an
// answer, the Host header's form of a URL, a status's standard phrase. No I/O here.
#include "net/http_client.hpp"

#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <cctype>

namespace crosscheck::net {

std::string authority(const config::Url& url) {
  const std::string host =
      url.host.find(':') == std::string::npos ? url.host : "[" + url.host + "]";
  return host + ":" + std::to_string(url.port);
}

std::string_view standard_reason(int status) {
  if (status < 0 || status > 999) {
    return {};
  }
  const auto phrase =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  return phrase == "<unknown-status>" ? std::string_view{} : std::string_view{phrase};
}

std::string_view to_string(HttpFailure failure) {
  switch (failure) {
    case HttpFailure::None:
      return "none";
    case HttpFailure::Resolve:
      return "resolve";
    case HttpFailure::Connect:
      return "connect";
    case HttpFailure::ConnectRefused:
      return "connect-refused";
    case HttpFailure::Timeout:
      return "timeout";
    case HttpFailure::Tls:
      return "tls";
    case HttpFailure::Closed:
      return "closed";
    case HttpFailure::Protocol:
      return "protocol";
    case HttpFailure::BodyTooLarge:
      return "body-too-large";
    case HttpFailure::Observer:
      return "observer";
    case HttpFailure::Cancelled:
      return "cancelled";
  }
  return "unknown";
}

std::string_view to_string(TlsRefusal refusal) {
  switch (refusal) {
    case TlsRefusal::None:
      return "none";
    case TlsRefusal::UnknownCa:
      return "tls_unknown_ca";
    case TlsRefusal::Expired:
      return "tls_expired";
    case TlsRefusal::WrongName:
      return "tls_wrong_name";
    case TlsRefusal::ClientCert:
      return "tls_client_cert";
    case TlsRefusal::Handshake:
      return "tls_handshake";
  }
  return "tls_handshake";
}

std::string_view failure_reason(const HttpResult& result) {
  if (result.failure == HttpFailure::Tls) {
    return to_string(result.tls_refusal == TlsRefusal::None ? TlsRefusal::Handshake
                                                            : result.tls_refusal);
  }
  return result.ok() ? std::string_view{} : std::string_view{"transport"};
}

std::string HttpResult::header(std::string_view name) const {
  const auto same = [name](const std::string& other) {
    return std::equal(other.begin(), other.end(), name.begin(), name.end(), [](char a, char b) {
      return std::tolower(static_cast<unsigned char>(a)) ==
             std::tolower(static_cast<unsigned char>(b));
    });
  };
  for (const auto& [key, value] : headers) {
    if (same(key)) {
      return value;
    }
  }
  return {};
}

}  // namespace crosscheck::net
