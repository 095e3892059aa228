// Telling the observer's own failures from the target's. A probe that fails
// because this host cannot send (cannot bind its source address, has no
// route, ran out of sockets) says nothing about the target: the outcome is
// observer_error, never down.
#pragma once

#include <boost/system/error_code.hpp>

#include <string>

namespace crosscheck::net {

// True for errors that are this host's fault: EADDRNOTAVAIL, EADDRINUSE,
// ENETUNREACH, ENETDOWN, EMFILE, ENFILE, ENOBUFS, ENOMEM, EACCES, EPERM,
// EAFNOSUPPORT.
bool is_observer_fault(const boost::system::error_code& ec);

// A short, stable, lower-case description: "connection refused",
// "timed out", "no route to host", ...
std::string describe(const boost::system::error_code& ec);

}  // namespace crosscheck::net
