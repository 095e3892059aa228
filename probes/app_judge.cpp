#include "probes/app_judge.hpp"

#include <array>
#include <cctype>
#include <cstdio>

namespace crosscheck::probes {
namespace {

std::string seconds(double value) {
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%.1fs", value);
  return text.data();
}

std::string duration(config::Duration value) {
  constexpr std::int64_t k_ms_per_second = 1000;
  const auto ms = value.count();
  return ms % k_ms_per_second == 0 ? std::to_string(ms / k_ms_per_second) + "s"
                                   : std::to_string(ms) + "ms";
}

std::string role_words(const ServerFacts& facts) {
  const std::string role = facts.replica ? "a replica" : "a primary";
  return facts.role_text.empty() ? role : role + " (" + facts.role_text + ")";
}

}  // namespace

ReachResult app_failed(ReachFailure failure, std::string_view protocol, std::string_view where,
                       std::string_view what) {
  return reach_result(failure,
                      std::string(protocol) + ": " + std::string(where) + " " + std::string(what));
}

ReachResult judge_server(std::string_view protocol, std::string_view where,
                         const AppJudgement& judgement, const ServerFacts& facts) {
  const bool wants_primary = judgement.wanted == config::ServerRole::Primary;
  const bool wants_replica = judgement.wanted == config::ServerRole::Replica;
  if ((wants_primary && facts.replica) || (wants_replica && !facts.replica)) {
    return app_failed(ReachFailure::AppRole, protocol, where,
                      "is " + role_words(facts) + "; role " +
                          std::string(config::to_string(judgement.wanted)) + " wanted");
  }
  if (facts.replica && wants_replica && judgement.max_replica_lag) {
    if (!facts.replicating) {
      return app_failed(ReachFailure::AppLag, protocol, where,
                        "is a replica that does not replicate (its link to the primary is down)");
    }
    const double limit = static_cast<double>(judgement.max_replica_lag->count()) / 1000.0;
    if (!facts.lag_seconds) {
      return app_failed(ReachFailure::AppLag, protocol, where,
                        "is a replica that does not report its lag");
    }
    if (*facts.lag_seconds > limit) {
      return app_failed(ReachFailure::AppLag, protocol, where,
                        "replica lags " + seconds(*facts.lag_seconds) + "; max_replica_lag " +
                            duration(*judgement.max_replica_lag));
    }
  }
  if (judgement.writable && facts.writable && !*facts.writable) {
    const std::string why = facts.write_refusal.empty() ? "" : ": " + facts.write_refusal;
    return app_failed(ReachFailure::AppReadOnly, protocol, where, "refuses writes" + why);
  }
  std::string words = facts.replica ? "replica" : "primary";
  if (!facts.role_text.empty()) {
    words += " (" + facts.role_text + ")";
  }
  if (facts.replica && facts.lag_seconds) {
    words += ", lag " + seconds(*facts.lag_seconds);
  }
  if (judgement.writable && facts.writable.value_or(false)) {
    words += ", writable";
  }
  return app_failed(ReachFailure::None, protocol, where, words);
}

namespace {

bool is_auth_error(const std::string& text) {
  for (const std::string_view code : {"WRONGPASS", "NOAUTH", "NOPERM"}) {
    if (text.starts_with(code)) {
      return true;
    }
  }
  return false;
}

// An error reply's code, its first word ("WRONGPASS", "ERR"), letters only.
std::string error_code(const std::string& text) {
  std::string code;
  for (const char c : text) {
    if (std::isupper(static_cast<unsigned char>(c)) == 0) {
      break;
    }
    code += c;
  }
  return code.empty() ? "an error" : code;
}

// Any answer to AUTH but +OK is about our credentials (a wrong password,
// a server without AUTH or with it renamed). Never its text: a server
// that does not know AUTH quotes its arguments, our password among them.
ReachResult auth_refused(std::string_view where, const resp::Value& reply) {
  const std::string what =
      reply.type == resp::Type::Error ? error_code(reply.text) : std::string("an unexpected reply");
  return reach_result(ReachFailure::ObserverAuth,
                      "observer: redis " + std::string(where) +
                          " refused our credentials (AUTH answered " + what +
                          "; the text is not shown, it may quote the password)");
}

ReachResult redis_error(std::string_view where, std::string_view command,
                        const resp::Value& reply) {
  const auto words = resp::describe(reply);
  if (reply.type == resp::Type::Error && is_auth_error(reply.text)) {
    return reach_result(ReachFailure::ObserverAuth, "observer: redis " + std::string(where) +
                                                        " refused our credentials (" +
                                                        std::string(command) + "): " + words);
  }
  if (reply.type == resp::Type::Error) {
    return app_failed(ReachFailure::AppError, "redis", where,
                      "answered " + std::string(command) + " with an error: " + words);
  }
  return app_failed(ReachFailure::AppError, "redis", where,
                    "protocol error: unexpected " + std::string(command) + " reply " + words);
}

}  // namespace

ReachResult judge_redis(std::string_view where, const config::RedisCheck& check, bool sent_auth,
                        const std::vector<resp::Value>& replies) {
  const std::size_t first = sent_auth ? 1 : 0;
  if (replies.size() < first + 2) {
    return app_failed(ReachFailure::AppError, "redis", where,
                      "protocol error: " + std::to_string(replies.size()) + " of " +
                          std::to_string(first + 2) + " replies");
  }
  if (sent_auth && (replies[0].type != resp::Type::Simple || replies[0].text != "OK")) {
    return auth_refused(where, replies[0]);
  }
  const auto& ping = replies[first];
  if (ping.type != resp::Type::Simple || ping.text != "PONG") {
    return redis_error(where, "PING", ping);
  }
  const auto& role = replies[first + 1];
  if (role.type != resp::Type::Array || role.elements.empty() ||
      role.elements[0].type != resp::Type::Bulk) {
    return redis_error(where, "ROLE", role);
  }
  const auto& name = role.elements[0].text;
  ServerFacts facts;
  if (name == "master") {
    facts.role_text = "master";
  } else if (name == "slave" && role.elements.size() >= 4) {
    // ["slave", master host, master port, link state, offset]
    facts.replica = true;
    const auto& state = role.elements[3].text;
    facts.replicating = state == "connected";
    facts.role_text = "replica of " + resp::describe(role.elements[1], 64) + ":" +
                      resp::describe(role.elements[2], 8) + ", link " +
                      resp::describe(role.elements[3], 16);
    if (!facts.replicating && check.role == config::ServerRole::Replica) {
      // A replica serving what it had when the link dropped: stale reads.
      return app_failed(ReachFailure::AppLag, "redis", where,
                        "is a replica that does not replicate (" + facts.role_text + ")");
    }
  } else if (name == "sentinel") {
    return app_failed(ReachFailure::AppError, "redis", where, "is a Sentinel, not a data server");
  } else {
    return redis_error(where, "ROLE", role);
  }
  return judge_server("redis", where, judgement_of(check), facts);
}

AppJudgement judgement_of(const config::RedisCheck& check) {
  return AppJudgement{check.role, false, std::nullopt};
}

AppJudgement judgement_of(const config::PostgresCheck& check) {
  return AppJudgement{check.role, check.writable, check.max_replica_lag};
}

AppJudgement judgement_of(const config::MysqlCheck& check) {
  return AppJudgement{check.role, check.writable, check.max_replica_lag};
}

}  // namespace crosscheck::probes
