// The API's writes, carried out by whoever owns the engine (the service):
// recheck, acknowledge, override, each with its Caller (the audit log's
// who and from where). Every call is asynchronous: it may run on
// another thread and calls `done` exactly once, from any thread; the API
// must hop back to its own executor before touching its session.
#pragma once

#include "consensus/types.hpp"
#include "snapshot/snapshot.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace crosscheck::api {

struct ActionResult {
  int status = 200;    // HTTP status to answer with (200, 404, 409, 429, 503, ...)
  std::string error;   // short code when status >= 400 ("unknown_target", "rate_limited")
  std::string detail;  // human sentence
  snapshot::SnapshotPtr
      snapshot;  // the snapshot after the action (recheck: with the fresh verdict)
};

using ActionCallback = std::function<void(ActionResult)>;

// Who asked for a write, for the audit log.
struct Caller {
  std::string principal;  // the API token's name (ApiRequest::principal)
  // The peer address, "127.0.0.1:50312"; under mTLS followed by the client
  // certificate's subject: "127.0.0.1:50312 cert=CN=failover-bot,O=ops".
  std::string client;
};

class ApiActions {
 public:
  ApiActions() = default;
  ApiActions(const ApiActions&) = delete;
  ApiActions& operator=(const ApiActions&) = delete;
  ApiActions(ApiActions&&) = delete;
  ApiActions& operator=(ApiActions&&) = delete;
  virtual ~ApiActions() = default;

  // Probes `target` now from every vantage and completes with a snapshot
  // holding the fresh verdict, or with 504 when `deadline` passes first;
  // 404 unknown target; 429 when rechecked too recently (detail says when).
  virtual void recheck(const Caller& caller, const std::string& target,
                       std::chrono::milliseconds deadline, ActionCallback done) = 0;
  // Acknowledges open escalation `id` (404 when no such open escalation).
  virtual void acknowledge(const Caller& caller, std::int64_t id, const std::string& by,
                           ActionCallback done) = 0;
  // Sets (verdict Healthy/Unhealthy, reason, expiry) or clears an override.
  virtual void set_override(const Caller& caller, const std::string& target,
                            const consensus::Override& value, ActionCallback done) = 0;
  virtual void clear_override(const Caller& caller, const std::string& target,
                              ActionCallback done) = 0;
  // Sets (reason, by, expiry) or clears an ad-hoc maintenance window: gates
  // on the target hold and its new escalations are silenced until it ends.
  // 404 unknown target; clearing: 404 no_maintenance when none is set.
  virtual void set_maintenance(const Caller& caller, const std::string& target,
                               const consensus::AdHocMaintenance& value, ActionCallback done) = 0;
  virtual void clear_maintenance(const Caller& caller, const std::string& target,
                                 ActionCallback done) = 0;
};

}  // namespace crosscheck::api
