// The action ledger's JSON (docs/api.md "Actions"): an entry as the API and
// the peer reply show it, read back strictly (the CLI, a peer's reply), and
// the write bodies that record or acknowledge one. Pure.
#pragma once

#include "base/expected.hpp"
#include "consensus/action_ledger.hpp"
#include "consensus/types.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <string_view>

namespace crosscheck::snapshot {

// Longest `what` and ack `note` (the ledger refuses longer from a peer).
constexpr std::size_t k_max_action_text = 256;

// {id, node, target, expect, for, generation, by, what, principal, at,
// cooldown_until, ack: null | {by, note, at, node}}.
boost::json::object action_json(const consensus::RecordedAction& action);

// The inverse of action_json(); an Error naming the first field that is
// missing or of the wrong type (nothing is guessed: it may come from a peer).
Expected<consensus::RecordedAction> read_action_json(const boost::json::value& value);

// The body of POST /v1/verdicts/{t}/gate: {"what", "by"?}; the gate's own
// parameters are the GET form's query. With `with_target` (POST
// /v1/actions) also {"target", "expect"?, "for"?, "generation"?}: expect
// defaults to unhealthy, for to service, generation to 0 (not given).
Expected<consensus::ActionRequest> parse_action_body(std::string_view body, bool with_target);

// The body of POST /v1/actions/{id}/ack: empty, or {"by"?, "note"?}.
Expected<consensus::ActionAck> parse_action_ack_body(std::string_view body);

}  // namespace crosscheck::snapshot
