// The ad-hoc maintenance windows in the peer export (docs/peers.md): this
// node's own, live and recently cleared, as JSON; and the decoder that
// checks a peer's shape and bounds. Pure: no I/O, no clock reads. Whether a
// window may apply here (origin, times) is consensus::WindowBook's call.
#pragma once

#include "consensus/window_book.hpp"
#include "peers/protocol.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace crosscheck::peers {

// Windows one export carries at most (the newest): like the ledger's 500.
constexpr std::size_t k_peer_max_windows = 500;

// `windows` as the export's "windows" array, leaving out those over at
// `now` and keeping the first k_peer_max_windows.
boost::json::array windows_json(const std::vector<consensus::SharedWindow>& windows,
                                consensus::WallTime now);

// Reads the export's optional "windows" (absent: an older peer, no
// windows) into out.windows; false with `why` when it is not an array.
// Entries past the first k_peer_max_windows are left out and counted
// (keep_first()). A malformed entry is left out and
// counted (leave_out()); well-formed is {target, node, set_at, expires_at,
// reason, by, cleared_at|null}, names as names, reason and by bounded as
// the API bounds them, times in RFC 3339.
bool decode_windows(const boost::json::object& object, PeerExport& out, std::string& why);

// A target's name, or "group:" and a group's name.
bool is_window_target(std::string_view name);

}  // namespace crosscheck::peers
