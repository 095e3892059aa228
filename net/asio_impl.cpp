// The one translation unit that compiles Boost.Asio, its SSL support and
// Boost.Beast (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION
// are set for every user of crosscheck_net), so no other file instantiates them.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
