// `crosscheck run`: the running oracle. Wires the prober, the quorum engine,
// storage, the snapshot the REST API serves, and logging. The engine and the
// prober live on one thread (the service's io_context); the API runs on its
// own thread and only reads published snapshots or asks for writes through
// ApiActions, so heavy read load never delays probing.
#pragma once

#include "api/actions.hpp"
#include "base/string_map.hpp"
#include "config/config.hpp"
#include "config/tls_files.hpp"
#include "consensus/action_ledger.hpp"
#include "consensus/engine.hpp"
#include "consensus/fast_confirm.hpp"
#include "consensus/window_book.hpp"
#include "daemon/log_limiter.hpp"
#include "daemon/notify.hpp"
#include "daemon/refused_rechecks.hpp"
#include "net/system_clock.hpp"
#include "snapshot/commit_gate.hpp"
#include "snapshot/hub.hpp"
#include "snapshot/snapshot.hpp"
#include "storage/types.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>

#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace spdlog {
class logger;
}

namespace crosscheck::probes {
class Prober;
struct ProbeReport;
}  // namespace crosscheck::probes

namespace crosscheck::storage {
class Store;
struct EscalationRecord;
}  // namespace crosscheck::storage

namespace crosscheck::api {
class ApiServer;
struct ApiServerOptions;
struct TlsRefusalEvent;
}  // namespace crosscheck::api

namespace crosscheck::escalation {
class EscalationDispatcher;
struct Alert;
}  // namespace crosscheck::escalation

namespace crosscheck::peers {
class PeerClient;
class PeerVerifier;
struct PeerKey;
struct PeerExport;
struct PeerPull;
struct PeerRefusal;
struct PeerRecheckAnswer;
// As peers/client.hpp: each peer's client TLS context (null: the default).
using PeerTlsContexts = std::vector<std::shared_ptr<boost::asio::ssl::context>>;
}  // namespace crosscheck::peers

namespace crosscheck::daemon {

struct ReloadPlan;

// Names last said about a peer's pulls: the ones listed and how many more.
struct NamesSaid {
  std::vector<std::string> listed;
  std::size_t more = 0;
};

struct ServiceOptions {
  std::shared_ptr<const config::Config> config;
  std::filesystem::path config_path;
  std::shared_ptr<spdlog::logger> log;
  // Verdict changes and escalations: notices (journald priority 5). Falls
  // back to `log` when null.
  std::shared_ptr<spdlog::logger> notice_log;
  bool handle_signals = true;  // SIGTERM/SIGINT stop, SIGHUP reloads the config
  // Tests: runs on the service thread between a reload's validation and its
  // apply, where a file can become unusable.
  std::function<void()> on_reload_validated;
};

class Service final : public api::ApiActions {
 public:
  explicit Service(ServiceOptions options);
  ~Service() override;
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;
  Service(Service&&) = delete;
  Service& operator=(Service&&) = delete;

  // Restores state, starts the API and probing, and runs until stop() or a
  // termination signal. Returns the process exit status.
  int run();
  // Asks run() to return: stops probing, flushes storage, stops the API.
  // Thread-safe.
  void stop();
  // Reloads the config as SIGHUP does, on the service thread. Thread-safe.
  void reload_config();
  // The address the API listens on once run() has started it (tests: port 0).
  std::optional<config::Endpoint> api_endpoint() const;
  snapshot::SnapshotHub& hub() { return hub_; }

  // ApiActions, called from the API thread; they hop to the service thread.
  void recheck(const api::Caller& caller, const std::string& target,
               std::chrono::milliseconds deadline, api::ActionCallback done) override;
  void peer_recheck(const api::Caller& caller, const std::string& target,
                    std::chrono::milliseconds deadline, api::ActionCallback done) override;
  void acknowledge(const api::Caller& caller, std::int64_t id, const std::string& by,
                   api::ActionCallback done) override;
  void set_override(const api::Caller& caller, const std::string& target,
                    const consensus::Override& value, api::ActionCallback done) override;
  void clear_override(const api::Caller& caller, const std::string& target,
                      api::ActionCallback done) override;
  void set_maintenance(const api::Caller& caller, const std::string& target,
                       const consensus::AdHocMaintenance& value, api::ActionCallback done) override;
  void clear_maintenance(const api::Caller& caller, const std::string& target,
                         api::ActionCallback done) override;
  void gate_and_record(const api::Caller& caller, const api::GateAsk& ask,
                       consensus::ActionRequest action, api::ActionCallback done) override;
  void record_action(const api::Caller& caller, consensus::ActionRequest action,
                     api::ActionCallback done) override;
  void ack_action(const api::Caller& caller, const std::string& id, consensus::ActionAck ack,
                  api::ActionCallback done) override;

 private:
  struct PendingRecheck {
    // Local vantages yet to report: each counts once, however many of its
    // observations arrive (a fast-confirmation turn is one more).
    std::set<std::string> vantages_awaiting;
    std::set<std::string> peers_awaiting;  // peers asked, not answered yet
    bool peers_asked = false;  // a peer's own recheck asks no peer; an operator joining it does
    std::set<std::string> domains_answered;
    std::set<std::string> peers_answered;
    std::vector<api::ActionCallback> callbacks;
    std::vector<storage::AuditEntry> lines;  // one per caller, written with the outcome
    std::shared_ptr<boost::asio::steady_timer> deadline;
  };

  // Start-up (service_restore.cpp): verdicts, overrides, history and open
  // escalations from storage; open episodes continue (same key, id, ack).
  void restore();
  void continue_episodes(const std::vector<storage::EscalationRecord>& open,
                         const std::set<std::string>& continued);
  void resolve_restored(const storage::EscalationRecord& record, const std::string& why);
  // Resolves peer_unreachable and peer_unauthenticated escalations of peers
  // no longer configured.
  void resolve_gone_peers();
  void start_prober();
  // Reload (service_reload.cpp). SIGHUP: validate the whole file, then
  // apply it at once or not at all.
  void reload();
  // Rebuilds target_index_ and the readiness bookkeeping for config_.
  void index_config();
  // What apply_config() did, for the reload's audit line.
  struct ReloadApplied {
    // What the line adds to its detail ("api.tls: certificate replaced"), ""
    // when nothing worth it changed.
    std::string changed;
    // Files unusable since validation, whose previous value stays in force
    // ("... (previous tokens kept)"): the reload is then applied in part.
    std::vector<std::string> kept;
  };
  ReloadApplied apply_config(std::shared_ptr<const config::Config> next,
                             const daemon::ReloadPlan& plan);
  void reject_config(const std::string& why);
  void resolve_config_escalation(const std::string& why);
  // `epoch`: which prober sent it (prober_epoch_ when the current one).
  void on_report(const probes::ProbeReport& report, std::uint64_t epoch);
  // Logs (rate-limited) that a probe's failure was discounted because this
  // oracle stood still while it ran (probes/stall.hpp).
  void note_stall(const probes::ProbeReport& report);
  // Judges every target and publishes; `answers` run once that snapshot is out.
  void evaluate(std::vector<snapshot::CommitGate::PendingAnswer> answers = {});
  void handle_event(const consensus::Event& event);
  // What DELETE /v1/overrides/T and /v1/maintenance/T differ in.
  struct ClearedSetting {
    storage::AuditAction action;
    std::string noun;         // "override": the log line and the answer
    std::string none_error;   // the 404's code when nothing is set
    std::string none_detail;  // "no override in force for" (+ " 'T'")
    std::function<bool(const std::string&)> clear_in_engine;
    std::function<std::uint64_t(const std::string&)> clear_in_store;
  };
  void clear_setting(const api::Caller& caller, const std::string& target,
                     const ClearedSetting& what, api::ActionCallback done);
  // The action ledger (service_ledger.cpp): records an action (the gate's
  // or a hand's), answering `status` with `gate` once it is committed.
  void record_in_ledger(consensus::ActionRequest action, storage::AuditEntry entry,
                        std::optional<consensus::GateDecision> gate, int status,
                        api::ActionCallback done);
  // The engine's cooldown for `target` as the ledger now says.
  // Sets the cooldown of `target` (a target or "group:NAME") and of the
  // names it holds with it (its groups, or a group's members).
  void set_cooldown_from_ledger(const std::string& target);
  // Entries from peer `source`'s reply, or from storage at start-up
  // (k_from_storage): each new one or new ack is kept, stored (a peer's)
  // and sets its cooldown; refused ones are counted and logged (limited).
  // Returns how many changed anything.
  static constexpr std::string_view k_from_storage = "storage";
  std::size_t merge_actions(std::string_view source,
                            const std::vector<consensus::RecordedAction>& entries);
  // Ad-hoc maintenance windows shared with peers (service_windows.cpp).
  // The engine's window of `target` as the book now says.
  void apply_window(const std::string& target);
  // A window set over this API (or restored from storage): into the book.
  void set_window_here(const std::string& target, const consensus::AdHocMaintenance& value);
  // DELETE here: the engine's window ends (false when it had none) and the
  // book keeps ours as a tombstone for the peers.
  bool clear_window_here(const std::string& target);
  void forget_window(const std::string& target);  // a reload removed it
  // Windows from peer `source`'s reply: new ones apply, refused ones are
  // counted and logged (limited). Returns how many changed anything.
  std::size_t merge_windows(std::string_view source,
                            const std::vector<consensus::SharedWindow>& entries);
  // This node's own windows for the snapshot (rebuilt after a change).
  std::shared_ptr<const std::vector<consensus::SharedWindow>> windows_view();
  // A target entering or leaving a maintenance window: an audit line, and
  // an ad-hoc window's row dropped once it ran out.
  void handle_maintenance(const consensus::Event& event);
  // Publication (service_publish.cpp). Builds a snapshot and hands it to the
  // gate, which publishes it once storage has committed what it shows (or
  // past the patience, or at once while storage is degraded); `answers` run
  // then. Never waits on the disk.
  void publish(std::vector<snapshot::CommitGate::PendingAnswer> answers = {});
  // Start-up: the first snapshot, out before the API starts (a bounded wait
  // for storage; the prober is not running yet).
  void publish_first();
  // Stop: a bounded wait for storage, then what the gate still holds.
  void publish_last();
  std::shared_ptr<snapshot::Snapshot> build_snapshot();
  // Storage's writer says "committed up to `seq`", naming what it dropped
  // unwritten (posted to the service thread).
  void on_committed(std::uint64_t seq, const std::vector<std::uint64_t>& refused);
  // Carries out what the gate lets out: publish, answer, send to the sinks.
  void apply(const snapshot::CommitGate::Release& release);
  // A record the API must not show before it is committed was enqueued as `seq`.
  void written(std::uint64_t seq) { needed_seq_ = std::max(needed_seq_, seq); }
  bool storage_degraded() const;
  // Why storage is degraded (the store's reason, or why it was not restored).
  std::string storage_reason() const;
  static const char* version();
  void arm_evaluation();
  void watch_signals();
  // Peers (service_peers.cpp): (re)starts pulling with `keys` and `tls` (both
  // read by the caller, before anything stops: start-up refuses to start on
  // an unusable file, a reload keeps the running pullers) and hands the keys
  // to the API's verifier; stops pulling when no peer is configured.
  void start_peers(std::vector<peers::PeerKey> keys, peers::PeerTlsContexts tls);
  // A verified export: its votes into the engine, its ledger entries and
  // windows merged; what was dropped or left out as malformed counted. A
  // recheck reply (`full` false: one target's votes) logs no malformed change.
  void on_peer_pull(const peers::PeerPull& pull, bool full = true);
  // Logs a peer's malformed entries when the first one's reason changes.
  void log_malformed(const std::string& node, const peers::PeerExport& votes);
  // Logs the period summaries storage refused since the last line said.
  void log_refused_summaries(consensus::MonoTime now);
  // Whether a change of `kind` ("domains", "vantages", "malformed") in
  // `node`'s pulls may be logged now (peer_log_limiter_).
  bool say_peer_change(const std::string& node, std::string_view kind);
  // A peer's reply failed its signature check: counted, logged, and a
  // peer_unauthenticated escalation unless one is open for that peer. It
  // closes after k_peer_verified_to_resolve verified replies in a row, so a
  // path that alternates forged and genuine replies keeps one episode open
  // instead of opening and closing one at every pull.
  void on_peer_refused(const peers::PeerRefusal& refusal);
  // Recheck (service_recheck.cpp): `from_peer` never fans out again and,
  // inside the spacing, answers at once with the votes it has.
  void start_recheck(const api::Caller& caller, const std::string& target,
                     std::chrono::milliseconds deadline, api::ActionCallback done, bool from_peer);
  // An operator's recheck asks every peer once (not a peer's own).
  void ask_peers(const std::string& target, PendingRecheck& pending,
                 std::chrono::milliseconds deadline);
  void on_peer_recheck(peers::PeerRecheckAnswer answer);
  // POST /v1/verdicts/group:NAME/recheck: every member, answered together.
  static constexpr std::size_t k_max_group_recheck = 100;
  void recheck_group(const api::Caller& caller, const std::string& name,
                     std::chrono::milliseconds deadline, const api::ActionCallback& done);
  // Fast confirmation: an accepted local observation may open a round or
  // take the vantage's next round turn; every evaluation times confirmations.
  void fast_confirm(const consensus::Observation& observation);
  void time_confirmations(const consensus::Instant& now);
  api::RecheckReport recheck_report(const PendingRecheck& pending) const;
  // Closes `node`'s open peer escalations of `kind` (peer_unreachable or
  // peer_unauthenticated), saying `why`.
  void resolve_peer_escalations(const std::string& node, consensus::EventKind kind,
                                const std::string& why);
  // The API's TLS (service_tls.cpp). Start-up: reads api.tls's files into
  // `options` (false, logged, when they cannot be used). Reload: serves changed files to new
  // connections. Refusals: logged at most once a minute per reason.
  bool configure_api_tls(api::ApiServerOptions& options);
  // Returns what changed, for the reload's audit line ("api.tls: mTLS off");
  // loosened client checks are logged as warnings. Files it could not use
  // (the previous ones kept) are appended to `kept`.
  std::string reload_api_tls(std::vector<std::string>& kept);
  void on_tls_refusal(const api::TlsRefusalEvent& event);
  // API actions (service_actions.cpp).
  void finish_recheck(const std::string& target, int status);
  // After a reload: rechecks in flight ran on the retired prober, whose
  // results are dropped; they start again on the new one.
  void restart_rechecks();
  // Writes the refused rechecks' tallies whose window has ended (`all`: every
  // open one, at stop) as audit lines.
  void write_refused_rechecks(bool all = false);
  // history_[target] as storage committed it (start-up; a re-added target).
  void load_history(const std::string& target);
  api::ActionResult result(int status, std::string error = {}, std::string detail = {});
  // Appends `entry` to the audit log (memory for the API, storage for good)
  // at the current time; the record's seq (0 without storage).
  std::uint64_t audit(storage::AuditEntry entry);
  // The audit line of an API write by `caller`.
  static storage::AuditEntry audit_entry(const api::Caller& caller, storage::AuditAction action,
                                         std::string target, std::string detail);
  // The latest committed audit lines into audit_ (start-up).
  void load_audit();
  // The answer to a write the API promises survives a crash (an ack, an
  // override set or cleared, written as record `seq`): 200 once committed,
  // else 503 storage_unavailable saying `what` is in force in memory only.
  snapshot::CommitGate::PendingAnswer durable_answer(api::ActionCallback done, std::string what,
                                                     std::uint64_t seq);

  ServiceOptions options_;
  // Set when storage could not be read at start-up: why, and that this run
  // writes nothing to it (service_restore.cpp).
  std::string storage_lost_;
  bool storage_was_degraded_ = false;  // for one log line per change
  // Period summaries storage refused that a log line has said (at most one a minute).
  std::uint64_t summaries_refused_said_ = 0;
  LogLimiter storage_log_limiter_{std::chrono::minutes(1)};
  LogLimiter stall_log_limiter_{std::chrono::minutes(1)};
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<spdlog::logger> notice_;  // verdict changes and escalations
  boost::asio::io_context io_;
  net::SystemClock clock_;
  consensus::Engine engine_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<probes::Prober> prober_;
  // Probers replaced by a reload, kept until their in-flight probes report
  // (their chains still use them).
  std::vector<std::unique_ptr<probes::Prober>> retired_probers_;
  std::uint64_t prober_epoch_ = 0;  // counts probers started: reports name theirs
  daemon::Notifier notifier_;
  snapshot::SnapshotHub hub_;
  std::unique_ptr<api::ApiServer> api_;
  std::optional<config::ServerTlsFiles> api_tls_;  // what the API serves (api.tls)
  // The DoT vantages' tls_ca content in force (daemon::DotCaContents): a
  // reload compares the next config's with it.
  std::map<std::string, std::vector<config::CertFingerprint>> dot_cas_;
  std::mutex tls_log_mutex_;  // the API thread reports refusals
  LogLimiter tls_log_limiter_{std::chrono::minutes(1)};
  std::unique_ptr<escalation::EscalationDispatcher> escalation_;  // null: no sink configured
  std::shared_ptr<peers::PeerVerifier> peer_verifier_;            // shared with the API thread
  std::unique_ptr<peers::PeerClient> peer_client_;                // stopped before io_ goes away
  boost::asio::steady_timer evaluation_timer_;
  boost::asio::signal_set signals_;
  // Set on the service thread once the API is bound; read from others (the
  // lab waits for it), hence the mutex.
  mutable std::mutex endpoint_mutex_;
  std::optional<config::Endpoint> api_endpoint_;

  // Verdict transitions kept in memory per target for /history.
  static constexpr std::size_t k_history_per_target = 200;

  std::vector<snapshot::EscalationView> escalations_;  // open ones
  // Audit lines kept in memory for GET /v1/audit, newest first.
  static constexpr std::size_t k_audit_in_memory = 1000;
  std::deque<snapshot::AuditView> audit_;
  // Each target's latest override lines, kept apart from audit_: other
  // lines (rechecks, and refused ones cost a caller nothing: 1000 in half a
  // second) pushed who set an override out of /v1/audit and `crosscheck
  // explain` (hostile review). Published after audit_'s lines once audit_
  // no longer holds them.
  static constexpr std::size_t k_override_audit_per_target = 20;
  std::map<std::string, std::deque<snapshot::AuditView>, std::less<>> override_audit_;
  // Snapshots, answers and escalation messages waiting for storage to
  // commit what they show: no sink sees an event before its row is in the
  // database, and the API shows nothing a crash can take back.
  snapshot::CommitGate gate_;
  std::uint64_t needed_seq_ = 0;  // the newest record the next snapshot must wait for
  std::int64_t next_escalation_id_ = 1;
  StringMap<snapshot::History> history_;  // looked up per target by every snapshot
  // storage.history_retention in memory too: drops the transitions older
  // than it (never a target's newest) at most once a minute, at the first
  // evaluation and at the first after a reload. Storage deletes its rows
  // on its own pass; GET .../history serves these.
  void age_history(const consensus::Instant& now);
  std::optional<consensus::MonoTime> history_aged_at_;
  // Gives glibc's free pages back to the system (snapshot::trim_malloc) at
  // most once a minute, from the first evaluation on.
  void trim_heap(const consensus::Instant& now);
  std::optional<consensus::MonoTime> heap_trimmed_at_;
  // Where each target sits in the snapshots (build_snapshot keeps it in step
  // with the names they list).
  std::shared_ptr<const snapshot::TargetIndex> snapshot_index_;
  // The divergence of each view's evidence list, by position: a list the
  // last snapshot showed has the same divergence (most do: the engine
  // keeps a target's list while nothing new is observed), found again only
  // for a new list.
  struct DivergenceMemo {
    consensus::EvidenceList evidence;
    std::vector<snapshot::Divergence> divergence;
  };
  std::vector<DivergenceMemo> divergence_memo_;
  std::map<std::string, consensus::WallTime> last_seen_;  // by vantage
  // When each target was last rechecked for an operator, and for a peer:
  // apart, so a peer's rechecks (fast confirmation asks them at an
  // outage's start) never turn an operator's recheck into a 429.
  std::map<std::string, consensus::MonoTime> last_recheck_;
  std::map<std::string, consensus::MonoTime> last_peer_recheck_;
  // Each target's last finished recheck: which domains and peers answered.
  std::map<std::string, api::RecheckReport> last_recheck_report_;
  std::map<std::string, PendingRecheck> rechecks_;
  // Refused rechecks: one audit line per (principal, target, error) per
  // window with its count, and every one counted by error for /metrics.
  static constexpr std::chrono::seconds k_refused_recheck_window{10};
  RefusedRechecks refused_rechecks_{k_refused_recheck_window};
  std::map<std::string, std::uint64_t> rechecks_refused_{{"rate_limited", 0},
                                                         {"unknown_target", 0}};
  std::unordered_map<std::string, std::size_t> target_index_;  // config_->targets by name
  std::vector<std::string> vantage_names_;                     // config_->vantages' names
  std::size_t pairs_reported_ = 0;
  std::vector<bool> pair_seen_;       // by target index * vantages + vantage index, until ready
  snapshot::ProbeStats probe_stats_;  // for /metrics, copied into each snapshot
  // Fast confirmation (service_confirm.cpp): episodes, rounds, and the time
  // each took to confirm.
  consensus::FastConfirm fast_confirm_;
  snapshot::ConfirmHistogram time_to_confirm_;
  snapshot::EvaluationHistogram evaluation_judge_;    // evaluate(): engine and events
  snapshot::EvaluationHistogram evaluation_publish_;  // evaluate(): publish()
  std::map<std::string, std::shared_ptr<boost::asio::steady_timer>> confirm_collect_;
  std::mt19937_64 confirm_jitter_{std::random_device{}()};
  // For /metrics: see MetricsView. Kept across reloads (counters never go back).
  std::map<std::pair<std::string, std::string>, std::uint64_t> peer_replies_refused_;
  // Pulls that brought nothing usable, by (peer, reason); service thread only.
  std::map<std::pair<std::string, std::string>, std::uint64_t> peer_pull_failures_;
  std::map<std::string, std::uint64_t> peer_votes_dropped_;
  // Escalation events not sent because of a maintenance window (/metrics).
  std::uint64_t escalations_silenced_ = 0;
  // What scripts recorded they did, here and on peers; the snapshot's copy
  // is rebuilt only after it changed (reset to null).
  consensus::ActionLedger ledger_;
  static constexpr std::size_t k_actions_in_snapshot = 1000;
  std::shared_ptr<const std::vector<consensus::RecordedAction>> actions_view_;
  std::uint64_t actions_recorded_ = 0;  // here, for /metrics
  std::uint64_t actions_refused_ = 0;   // peers' entries refused, for /metrics
  // Relayed third-party acks ignored, by peer, for /metrics.
  std::map<std::string, std::uint64_t> peer_action_acks_ignored_;
  LogLimiter action_log_limiter_{std::chrono::minutes(1)};
  // Ad-hoc maintenance windows, this node's and its peers' (service_windows.cpp).
  consensus::WindowBook windows_;
  std::shared_ptr<const std::vector<consensus::SharedWindow>> windows_view_;
  // Peers' windows refused, by peer, for /metrics.
  std::map<std::string, std::uint64_t> peer_windows_refused_;
  // The undeclared domains (unlisted vantages) each peer's last logged
  // pull claimed (logged on change, at most once a minute per peer and kind).
  std::map<std::string, NamesSaid> peer_undeclared_domains_;
  std::map<std::string, NamesSaid> peer_unlisted_vantages_;
  LogLimiter peer_log_limiter_{std::chrono::minutes(1)};
  // Why each peer's last logged pull left its first entry out ("": none).
  std::map<std::string, std::string> peer_malformed_said_;
  // Verified replies in a row since each peer's last refused one: an open
  // peer_unauthenticated closes only at k_peer_verified_to_resolve.
  std::map<std::string, int> peer_verified_run_;

  bool ready_ = false;
  bool ready_announced_ = false;  // READY=1 sent with the first ready snapshot
  bool publish_late_ = false;     // snapshots go out undurable (logged once)
  consensus::MonoTime started_;
};

}  // namespace crosscheck::daemon
