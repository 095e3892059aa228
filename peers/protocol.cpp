#include "peers/protocol.hpp"

#include "base/ascii.hpp"
#include "base/text.hpp"
#include "peers/window_codec.hpp"

#include "snapshot/action_json.hpp"
#include "snapshot/json_views.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <span>

namespace crosscheck::peers {
namespace {

namespace json = boost::json;
namespace cs = crosscheck::consensus;

constexpr std::array<std::string_view, 5> k_export_keys{"node", "version", "votes", "actions",
                                                        "windows"};
constexpr std::array<std::string_view, 10> k_vote_keys{
    "target", "vantage", "domain",  "vote",       "age_ms",
    "layer",  "detail",  "answers", "latency_ms", "last_known_good"};

json::object vote_json(const cs::Evidence& evidence, std::string_view target,
                       const cs::Instant& now, int version) {
  json::object out;
  out["target"] = target;
  out["vantage"] = evidence.vantage;
  out["domain"] = evidence.domain;
  const bool v1_degraded =
      version < k_peer_protocol_version && evidence.raw_vote == cs::Vote::Degraded;
  out["vote"] = cs::to_string(v1_degraded ? cs::Vote::Up : evidence.raw_vote);
  out["age_ms"] = nullptr;
  if (evidence.last_observed) {
    // Why monotonic: a wall clock stepped 2 minutes here would age every
    // vote by 2 minutes on the peers (stale there, so unknown).
    const auto age = std::max<std::int64_t>(0, (now.mono - evidence.last_observed->mono).count());
    // Past the bound a peer holds it to (a vote observed over a day ago)
    // it is as good as never observed: null, which a peer reads as such,
    // rather than a number it would leave out as malformed.
    if (age <= k_peer_max_age.count()) {
      out["age_ms"] = age;
    }
  }
  const cs::Observation empty;
  const cs::Observation& last = evidence.last ? *evidence.last : empty;
  // Version 1 has no layer "app" (a version 1 node refuses the export):
  // there it is "http", the layer that was the service's answer before.
  const bool v1_app = version < k_peer_protocol_version && last.layer == cs::Layer::App;
  out["layer"] = cs::to_string(v1_app ? cs::Layer::Http : last.layer);
  out["last_known_good"] = cs::to_string(last.last_known_good);
  // Held to the bounds a peer holds it to, so a peer never leaves this vote
  // out (fourth hostile review: then it refused this node's whole export).
  // One line of valid UTF-8: a control character makes the vote malformed
  // there, and a broken sequence would make the whole body not JSON.
  out["detail"] = text::cut_end(text::printable_line(last.detail), k_peer_max_detail_bytes);
  json::array answers;
  for (const auto& answer : last.answers) {
    if (answers.size() >= k_peer_max_answers) {
      break;  // the first ones, as the resolver gave them
    }
    answers.emplace_back(text::cut_end(text::printable_line(answer), k_peer_max_answer_bytes));
  }
  out["answers"] = std::move(answers);
  // A latency a peer refuses (NaN, negative) should not happen: 0, not the vote.
  out["latency_ms"] =
      std::isfinite(last.latency_ms) && last.latency_ms >= 0 ? last.latency_ms : 0.0;
  return out;
}

// How much of a value a peer sent is quoted in why it is malformed.
constexpr std::size_t k_quoted_bytes = 40;

// Decoding: each reader fills one field or says what is wrong with it.
class VoteReader {
 public:
  VoteReader(const json::object& object, std::string& why) : object_(object), why_(why) {}

  bool only_keys(std::span<const std::string_view> keys) {
    for (const auto& [key, value] : object_) {
      if (std::find(keys.begin(), keys.end(), std::string_view(key)) == keys.end()) {
        return fail(unknown_field(std::string_view(key)));
      }
    }
    return true;
  }

  bool name(std::string_view key, std::string& out) {
    const json::string* text = string_at(key);
    if (text == nullptr || !is_peer_name(*text)) {
      return fail(std::string(key) + " must be a name of 1 to 128 [A-Za-z0-9._-]");
    }
    out = std::string(*text);
    return true;
  }

  // Control characters include C1 controls and bidi overrides and isolates
  // (text::printable_line()'s rules, which this node's own export follows):
  // a domain is shown by `crosscheck explain`, the API and log lines.
  bool label(std::string_view key, std::size_t limit, std::string& out) {
    const json::string* text = string_at(key);
    if (text == nullptr || text->size() > limit ||
        !text::is_printable_line(std::string_view(*text))) {
      return fail(std::string(key) + " must be a string of at most " + std::to_string(limit) +
                  " bytes without control characters");
    }
    out = std::string(*text);
    return true;
  }

  // Like label(), but text over `limit` is cut, not refused: a detail only
  // describes the vote, and a peer from before the bound was enforced on
  // the sending side may send a longer one. Its bytes stay bounded here.
  // A C1 control or a bidi override or isolate (which an older peer's
  // encoder let through) is marked '?' as this node's encoder marks it.
  bool description(std::string_view key, std::size_t limit, std::string& out) {
    const json::string* value = string_at(key);
    if (value == nullptr || std::any_of(value->begin(), value->end(), [](char c) {
          return std::iscntrl(static_cast<unsigned char>(c)) != 0;
        })) {
      return fail(std::string(key) + " must be a string without control characters");
    }
    out = text::printable_line(
        text::cut_end(std::string(value->data(), std::min(value->size(), limit + 1)), limit));
    return true;
  }

  template <typename Enum, typename Parse>
  bool choice(std::string_view key, Parse parse, Enum& out) {
    const json::string* text = string_at(key);
    const auto parsed = text != nullptr ? parse(std::string_view(*text)) : std::nullopt;
    if (!parsed) {
      return fail("unknown " + std::string(key) + " value" +
                  (text != nullptr
                       ? " \"" + ascii::printable(std::string_view(*text), k_quoted_bytes) + "\""
                       : std::string(" (not a string)")));
    }
    out = *parsed;
    return true;
  }

  bool age(std::optional<std::chrono::milliseconds>& out) {
    const json::value* value = object_.if_contains("age_ms");
    if (value != nullptr && value->is_null()) {
      out.reset();
      return true;
    }
    const auto* number = value != nullptr ? value->if_int64() : nullptr;
    if (number == nullptr || *number < 0 || *number > k_peer_max_age.count()) {
      return fail("age_ms must be null or an integer in [0, 86400000]");
    }
    out = std::chrono::milliseconds(*number);
    return true;
  }

  bool latency(double& out) {
    const json::value* value = object_.if_contains("latency_ms");
    const bool numeric = value != nullptr && (value->is_double() || value->is_int64());
    out = numeric ? value->to_number<double>() : -1;
    if (!numeric || !std::isfinite(out) || out < 0) {
      return fail("latency_ms must be a non-negative number");
    }
    return true;
  }

  bool answers(std::vector<std::string>& out) {
    const json::value* value = object_.if_contains("answers");
    const json::array* list = value != nullptr ? value->if_array() : nullptr;
    if (list == nullptr || list->size() > k_peer_max_answers) {
      return fail("answers must be an array of at most 64 strings");
    }
    for (const auto& item : *list) {
      const json::string* text = item.if_string();
      if (text == nullptr || text->size() > k_peer_max_answer_bytes) {
        return fail("answers must hold strings of at most 256 bytes");
      }
      out.push_back(text::printable_line(std::string(*text)));
    }
    return true;
  }

  bool fail(std::string why) {
    why_ = std::move(why);
    return false;
  }

 private:
  const json::string* string_at(std::string_view key) const {
    const json::value* value = object_.if_contains(key);
    return value != nullptr ? value->if_string() : nullptr;
  }

  const json::object& object_;
  std::string& why_;
};

bool read_vote(const json::object& object, VoteReader& read, PeerVote& vote) {
  return read.only_keys(k_vote_keys) && read.name("target", vote.target) &&
         read.name("vantage", vote.vantage) &&
         read.label("domain", k_peer_max_name_bytes, vote.domain) &&
         (!vote.domain.empty() || read.fail("domain must not be empty")) &&
         read.choice("vote", cs::parse_vote, vote.vote) && read.age(vote.age) &&
         read.choice("layer", cs::parse_layer, vote.layer) &&
         (!object.contains("last_known_good") ||
          read.choice("last_known_good", cs::parse_last_known_good, vote.last_known_good)) &&
         read.description("detail", k_peer_max_detail_bytes, vote.detail) &&
         read.answers(vote.answers) && read.latency(vote.latency_ms);
}

// One vote of an export written in `version`; false with `why` when it is
// malformed (then it alone is left out).
bool decode_vote(const json::value& value, int version, PeerVote& vote, std::string& why) {
  const json::object* object = value.if_object();
  if (object == nullptr) {
    why = "a vote must be an object";
    return false;
  }
  VoteReader read(*object, why);
  if (!read_vote(*object, read, vote)) {
    return false;
  }
  if (version == k_peer_protocol_version_1 && vote.vote == cs::Vote::Degraded) {
    return read.fail("vote degraded needs protocol version 2");
  }
  if (version == k_peer_protocol_version_1 && vote.layer == cs::Layer::App) {
    return read.fail("layer app needs protocol version 2");
  }
  return true;
}

bool decode_header(const json::object& object, std::string_view expected_node, PeerExport& out,
                   std::string& why) {
  VoteReader read(object, why);
  if (!read.only_keys(k_export_keys) || !read.name("node", out.node)) {
    return false;
  }
  const json::value* version = object.if_contains("version");
  if (version == nullptr || !version->is_int64() ||
      (version->as_int64() != k_peer_protocol_version_1 &&
       version->as_int64() != k_peer_protocol_version)) {
    return read.fail("version must be 1 or 2");
  }
  out.version = static_cast<int>(version->as_int64());
  if (out.node != expected_node) {
    return read.fail("the export is from node '" + out.node + "', expected '" +
                     std::string(expected_node) + "'");
  }
  return true;
}

// The ledger entries (optional: an older peer sends none). Their shape is
// checked here, a malformed entry left out; whether one may move a
// cooldown (time, bounds, origin) is the ledger's to decide, entry by
// entry. False with `why` only when the list itself is not one.
bool decode_actions(const json::object& object, PeerExport& out, std::string& why) {
  const json::value* list = object.if_contains("actions");
  if (list == nullptr) {
    return true;
  }
  const json::array* actions = list->if_array();
  if (actions == nullptr) {
    why = "actions must be an array";
    return false;
  }
  const auto kept = keep_first(out, "actions", actions->size(), k_peer_max_actions);
  for (std::size_t i = 0; i < kept; ++i) {
    auto action = snapshot::read_action_json((*actions)[i]);
    if (!action) {
      leave_out(out, "actions[" + std::to_string(i) + "]: " + action.error());
    } else if (!is_peer_name(action->node) || !is_peer_name(action->target)) {
      leave_out(out, "actions[" + std::to_string(i) + "]: node and target must be names");
    } else {
      out.actions.push_back(std::move(*action));
    }
  }
  return true;
}

}  // namespace

void leave_out(PeerExport& out, std::string_view why, std::size_t count) {
  if (out.malformed == 0 && count > 0) {
    out.first_malformed = ascii::printable(why, k_peer_max_malformed_bytes);
  }
  out.malformed += count;
}

std::size_t keep_first(PeerExport& out, std::string_view list, std::size_t size,
                       std::size_t bound) {
  if (size <= bound) {
    return size;
  }
  // Why not refuse the export: a peer whose ledger holds 501 entries in
  // cooldown (a newer version with a higher cap, a bug) went blind at
  // every puller, its votes refused with the list (a hostile review).
  const auto over = size - bound;
  leave_out(out,
            std::string(list) + "[" + std::to_string(bound) + "] on: " + std::to_string(over) +
                (over == 1 ? " entry" : " entries") + " past the first " + std::to_string(bound) +
                " left out",
            over);
  return bound;
}

std::string unknown_field(std::string_view key) {
  return "unknown field '" + ascii::printable(key, k_quoted_bytes) + "'";
}

bool is_peer_name(std::string_view name) {
  return !name.empty() && name.size() <= k_peer_max_name_bytes &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' ||
                  c == '-';
         });
}

namespace {

json::array local_votes(const snapshot::Snapshot& snapshot, const consensus::Instant& now,
                        std::optional<std::string_view> only, int version) {
  json::array votes;
  for (const auto& view : snapshot.targets) {
    if (only && view.verdict.target != *only) {
      continue;
    }
    for (const auto& evidence : view.verdict.evidence) {
      if (evidence.node.empty()) {  // local only: a peer's votes are never re-exported
        votes.emplace_back(vote_json(evidence, view.verdict.target, now, version));
      }
    }
  }
  return votes;
}

int answered_version(int asked) {
  return asked >= k_peer_protocol_version ? k_peer_protocol_version : k_peer_protocol_version_1;
}

}  // namespace

std::string export_target_votes(const snapshot::Snapshot& snapshot, const consensus::Instant& now,
                                std::string_view target, int version) {
  version = answered_version(version);
  json::object out;
  out["node"] = snapshot.node;
  out["version"] = version;
  out["votes"] = local_votes(snapshot, now, target, version);
  out["actions"] = json::array();
  return snapshot::to_body(out);
}

std::string peer_recheck_target(std::string_view target, std::chrono::milliseconds timeout,
                                int version) {
  return std::string(k_peer_recheck_path) + "?target=" + std::string(target) +
         "&timeout=" + std::to_string(timeout.count()) + "ms" +
         (version >= k_peer_protocol_version ? "&version=2" : "");
}

namespace {

// Whether the request target's query holds the parameter `item` ("windows=1").
bool query_has(std::string_view request_target, std::string_view item) {
  const auto mark = request_target.find('?');
  if (mark == std::string_view::npos) {
    return false;
  }
  std::string_view query = request_target.substr(mark + 1);
  while (!query.empty()) {
    const auto end = query.find('&');
    if (query.substr(0, end) == item) {
      return true;
    }
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
  }
  return false;
}

}  // namespace

bool asks_for_windows(std::string_view request_target) {
  return query_has(request_target, "windows=1");
}

int asked_version(std::string_view request_target) {
  return query_has(request_target, "version=2") ? k_peer_protocol_version
                                                : k_peer_protocol_version_1;
}

std::string export_votes(const snapshot::Snapshot& snapshot, const consensus::Instant& now,
                         bool with_windows, int version) {
  version = answered_version(version);
  json::array votes = local_votes(snapshot, now, std::nullopt, version);
  json::array actions;
  if (snapshot.actions) {
    // This node's own entries first, then relayed ones, newest first in
    // each: a peer flooding us with entries cannot push ours out of our
    // own reply (hostile review).
    for (const bool own : {true, false}) {
      for (const auto& action : *snapshot.actions) {
        if (actions.size() >= k_peer_max_actions) {
          break;
        }
        if ((action.node == snapshot.node) == own && action.cooldown_until > now.wall) {
          actions.emplace_back(snapshot::action_json(action));
        }
      }
    }
  }
  json::object out;
  out["node"] = snapshot.node;
  out["version"] = version;
  out["votes"] = std::move(votes);
  out["actions"] = std::move(actions);
  if (with_windows) {
    out["windows"] = snapshot.windows ? windows_json(*snapshot.windows, now.wall) : json::array();
  }
  return snapshot::to_body(out);
}

std::optional<PeerExport> decode_export(std::string_view body, std::string_view expected_node,
                                        std::string& why) {
  if (body.size() > k_peer_body_limit) {
    why = "the export is larger than 1 MiB";
    return std::nullopt;
  }
  // Why deeper than Boost.JSON's default of 32: one vote nested 40 deep (an
  // answers item, an unknown key's value) made the whole body "not JSON",
  // hiding every vote of the node; now it is one malformed vote (a hostile
  // review). The body's size bounds the parser's work; the depth bounds the
  // recursion that frees the parsed value, and nothing quotes a value.
  json::parse_options options;
  options.max_depth = k_peer_max_depth;
  boost::system::error_code ec;
  const json::value parsed = json::parse(body, ec, {}, options);
  const json::object* object = ec ? nullptr : parsed.if_object();
  if (object == nullptr) {
    why = ec == json::error::too_deep
              ? "not JSON: nested deeper than " + std::to_string(k_peer_max_depth) + " levels"
          : ec ? "not JSON: " + ec.message()
               : "the export must be a JSON object";
    return std::nullopt;
  }
  PeerExport out;
  if (!decode_header(*object, expected_node, out, why)) {
    return std::nullopt;
  }
  const json::value* list = object->if_contains("votes");
  const json::array* votes = list != nullptr ? list->if_array() : nullptr;
  if (votes == nullptr) {
    why = "votes must be an array";
    return std::nullopt;
  }
  // Why entry by entry: one malformed vote (a buggy or newer peer, a
  // detail from before the bounds) cost the node every vote it sent, for
  // every target, at every puller: a blind spot. It costs itself now; only
  // an envelope that is off refuses the whole export. No reserve() for the
  // array's size: 1 MiB of `[0,0,...]` is half a million entries, 100 MB
  // reserved for votes that are all left out (a hostile review).
  for (std::size_t i = 0; i < votes->size(); ++i) {
    PeerVote vote;
    std::string entry_why;
    if (decode_vote((*votes)[i], out.version, vote, entry_why)) {
      out.votes.push_back(std::move(vote));
    } else {
      leave_out(out, "votes[" + std::to_string(i) + "]: " + entry_why);
    }
  }
  if (!decode_actions(*object, out, why) || !decode_windows(*object, out, why)) {
    return std::nullopt;
  }
  return out;
}

}  // namespace crosscheck::peers
