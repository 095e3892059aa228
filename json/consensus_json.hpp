// The JSON mapping of consensus types that more than one place writes or
// reads (the REST API, storage rows, the CLI's reading of the API): one
// Boost.JSON tag_invoke pair per type, so a field is named in one place.
// boost::json::value_from(votes) writes, value_to<VoteCounts>(v) reads.
// Reading is lenient, as stored rows and other nodes' answers need: a
// missing or mistyped field reads as zero or empty, never throws.
#pragma once

#include "consensus/types.hpp"

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

namespace crosscheck::consensus {

// {up, down, unknown, down_quorum, up_quorum, split, split_domains,
//  known_domains, up_domains, down_domains}
void tag_invoke(const boost::json::value_from_tag& tag, boost::json::value& out,
                const VoteCounts& votes);
VoteCounts tag_invoke(const boost::json::value_to_tag<VoteCounts>& tag,
                      const boost::json::value& value);

// {source, window, since, until, reason, by, node}: reason, by and node are
// null when empty (node: the peer whose API set it; null when set here or
// from the config).
void tag_invoke(const boost::json::value_from_tag& tag, boost::json::value& out,
                const MaintenanceView& view);
MaintenanceView tag_invoke(const boost::json::value_to_tag<MaintenanceView>& tag,
                           const boost::json::value& value);

}  // namespace crosscheck::consensus
