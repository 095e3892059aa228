#include "net/errors.hpp"

#include <boost/asio/error.hpp>

#include <array>
#include <cerrno>

namespace crosscheck::net {

bool is_observer_fault(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) {
    return false;
  }
  constexpr std::array k_local{EADDRNOTAVAIL, EADDRINUSE, ENETUNREACH, ENETDOWN,
                               EMFILE,        ENFILE,     ENOBUFS,     ENOMEM,
                               EACCES,        EPERM,      EAFNOSUPPORT};
  for (const int code : k_local) {
    if (ec.value() == code) {
      return true;
    }
  }
  return false;
}

std::string describe(const boost::system::error_code& ec) {
  namespace error = boost::asio::error;
  if (ec == error::connection_refused) {
    return "connection refused";
  }
  if (ec == error::timed_out || ec == error::operation_aborted) {
    return "timed out";
  }
  if (ec == error::host_unreachable) {
    return "no route to host";
  }
  if (ec == error::network_unreachable) {
    return "network unreachable";
  }
  if (ec == error::connection_reset) {
    return "connection reset";
  }
  if (ec == error::eof) {
    return "connection closed by peer";
  }
  return ec.message();
}

}  // namespace crosscheck::net
