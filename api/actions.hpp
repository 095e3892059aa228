// The API's writes, carried out by whoever owns the engine (the service):
// recheck, acknowledge, override, each with its Caller (the audit log's
// who and from where). Every call is asynchronous: it may run on
// another thread and calls `done` exactly once, from any thread; the API
// must hop back to its own executor before touching its session.
#pragma once

#include "consensus/action_ledger.hpp"
#include "consensus/gate.hpp"
#include "consensus/types.hpp"
#include "snapshot/snapshot.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace crosscheck::api {

// What a gate asks (the GET form's query): expect, for, generation,
// stable_for, allow_degraded.
struct GateAsk {
  consensus::VerdictKind expect = consensus::VerdictKind::Unhealthy;
  consensus::GateFor for_ = consensus::GateFor::Service;
  std::optional<std::uint64_t> generation;
  consensus::Duration stable_for{0};
  // A degraded verdict may stand for the expected unhealthy (docs/degraded.md).
  bool allow_degraded = false;
};

// Which failure domains a recheck heard from (POST /v1/verdicts/{t}/recheck
// "recheck" in docs/api.md): local vantages' domains and peers' alike.
struct RecheckReport {
  std::vector<std::string> answered;  // domains with a fresh observation or vote, sorted
  std::vector<std::string> missing;   // known domains without one by the deadline, sorted
  std::vector<std::string> peers_answered;
  std::vector<std::string> peers_missing;
};

struct ActionResult {
  int status = 200;    // HTTP status to answer with (200, 404, 409, 429, 503, ...)
  std::string error;   // short code when status >= 400 ("unknown_target", "rate_limited")
  std::string detail;  // human sentence
  snapshot::SnapshotPtr
      snapshot;  // the snapshot after the action (recheck: with the fresh verdict)
  // A gate decided by the service (POST /v1/verdicts/T/gate): its decision,
  // whatever it was; `action` the entry recorded when it proceeded (or the
  // one POST /v1/actions recorded, or the one an ack acknowledged).
  std::optional<consensus::GateDecision> gate;
  std::optional<consensus::RecordedAction> action;
  // A recheck: which domains answered it.
  std::optional<RecheckReport> recheck;
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
  // A peer's signed recheck (POST /v1/peer/recheck): re-probes `target`
  // from this node's own vantages only (never fanned out again), within its
  // recheck spacing; completes with the snapshot holding the fresh votes.
  virtual void peer_recheck(const Caller& caller, const std::string& target,
                            std::chrono::milliseconds deadline, ActionCallback done) {
    recheck(caller, target, deadline, std::move(done));
  }
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
  // The gate and the action ledger (docs/gate.md "Cooldown"). Decides the
  // gate on the published verdict and, only when it proceeds, records
  // `action` in the same step, so a second caller already sees the
  // cooldown: 200 with gate and action once the entry is committed; 409/423
  // with the gate and nothing recorded; 404 unknown target.
  virtual void gate_and_record(const Caller& caller, const GateAsk& ask,
                               consensus::ActionRequest action, ActionCallback done) = 0;
  // Records an action whatever the verdict (a script that acted without
  // the gate, a person by hand): 201 with the entry once committed.
  virtual void record_action(const Caller& caller, consensus::ActionRequest action,
                             ActionCallback done) = 0;
  // Acknowledges action `id`, ending its cooldown: 200 with the entry; 404
  // unknown_action; 409 already_acknowledged (with the first ack).
  virtual void ack_action(const Caller& caller, const std::string& id, consensus::ActionAck ack,
                          ActionCallback done) = 0;
};

}  // namespace crosscheck::api
