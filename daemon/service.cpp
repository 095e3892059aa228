#include "daemon/service.hpp"

#include "config/secret_file.hpp"

#include "api/metrics.hpp"
#include "api/server.hpp"
#include "consensus/time_format.hpp"
#include "daemon/engine_policy.hpp"
#include "daemon/logging.hpp"
#include "daemon/reload.hpp"
#include "escalation/sinks.hpp"
#include "peers/client.hpp"
#include "probes/prober.hpp"
#include "snapshot/divergence.hpp"
#include "storage/store.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <csignal>
#include <fstream>
#include <random>
#include <sstream>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;
using namespace std::chrono_literals;

namespace {

// How often the engine judges every target. Observations arrive between
// evaluations; a verdict is at most this much older than its evidence.
constexpr auto k_evaluation_period = 500ms;
// A target can be rechecked at most once in this period (a failover
// script's "are you sure, right now?", not a load generator).
constexpr auto k_recheck_spacing = 5s;
constexpr auto k_flush_timeout = 5s;
// publish() waits at most this long for storage to commit what the snapshot
// shows (a commit takes milliseconds; only a hung disk waits this long).
constexpr auto k_publish_flush_timeout = 1s;
// At stop, sinks get this long to deliver what is due (their state file
// keeps the rest for the next start).
constexpr auto k_escalation_drain = 2s;
// An escalation waits for storage to commit it before any sink sees it, but
// a disk that neither commits nor fails must not hold a page back forever.
constexpr auto k_alert_commit_patience = 5s;
constexpr const char* k_version = CROSSCHECK_VERSION;

// The API token, or nullopt when none is configured (writes disabled);
// false when the configured file cannot be used (`why` says why).
bool read_token(const std::optional<std::filesystem::path>& file, std::optional<std::string>& token,
                std::string& why) {
  token.reset();
  if (!file) {
    return true;
  }
  auto secret = config::read_secret_file("api.token_file", *file, config::SecretKind::BearerToken);
  if (!secret) {
    why = secret.error();
    return false;
  }
  token = std::move(*secret);
  return true;
}

std::string held_text(const std::optional<cs::VerdictKind>& held) {
  return held ? std::string(cs::to_string(*held)) : "none";
}

}  // namespace

Service::Service(ServiceOptions options)
    : options_(std::move(options)),
      config_(options_.config),
      log_(options_.log),
      notice_(options_.notice_log ? options_.notice_log : options_.log),
      engine_(make_policy(*config_)),
      evaluation_timer_(io_),
      signals_(io_),
      started_(clock_.monotonic()) {
  index_config();
}

void Service::index_config() {
  target_index_.clear();
  for (std::size_t t = 0; t < config_->targets.size(); ++t) {
    target_index_.emplace(config_->targets[t].name, t);
  }
  pair_seen_.assign(config_->targets.size() * config_->vantages.size(), false);
  pairs_reported_ = 0;
}

Service::~Service() = default;

std::optional<config::Endpoint> Service::api_endpoint() const {
  const std::lock_guard lock(endpoint_mutex_);
  return api_endpoint_;
}

int Service::run() {
  // Signals first: a SIGTERM during start-up must stop cleanly (flush,
  // close), not kill the process with the default action.
  if (options_.handle_signals) {
    watch_signals();
  }
  try {
    escalation_ = make_dispatcher(make_sinks(*config_), clock_, log_);
  } catch (const std::exception& error) {
    log_->critical("escalation: {}", error.what());
    return 1;
  }
  restore();
  // The API's first answer shows what was restored (the restored verdicts,
  // the open escalations with their acks), never an empty oracle.
  publish();
  auto peer_keys = load_peer_keys(config_->peers);
  if (!peer_keys) {
    log_->critical("{}", peer_keys.error());
    return 1;
  }
  std::string why;
  std::optional<std::string> token;
  if (!read_token(config_->api.token_file, token, why)) {
    log_->critical("{}", why);
    return 1;
  }
  ApiServerOptions api_options;
  api_options.listen = config_->api.listen;
  api_options.token = token;
  api_options.clock = &clock_;
  peer_verifier_ = std::make_shared<PeerVerifier>(std::vector<PeerKey>{});
  api_options.peers = peer_verifier_;
  api_ = std::make_unique<ApiServer>(api_options, hub_, *this);
  if (!api_->start(why)) {
    log_->critical("cannot listen on {}: {}", config_->api.listen.to_string(), why);
    return 1;
  }
  const auto bound = api_->bound_endpoint();
  {
    const std::lock_guard lock(endpoint_mutex_);
    api_endpoint_ = bound;
  }
  log_->info("crosscheck {} on {}: {} targets, {} vantages; API on {}", k_version,
             config_->node.name, config_->targets.size(), config_->vantages.size(),
             bound.to_string());

  start_prober();
  start_peers(std::move(*peer_keys));
  publish();
  arm_evaluation();
  io_.run();
  peer_client_.reset();  // joins the pullers; nothing posts to io_ after this

  // Shutdown: probing stopped; finish what storage holds, then the API.
  const bool flushed = !store_ || store_->flush(k_flush_timeout);
  if (!flushed) {
    log_->warn("storage did not flush within {}s", k_flush_timeout.count());
  }
  release_alerts(flushed);
  if (!unsent_alerts_.empty()) {
    log_->warn(
        "{} escalation messages not sent: storage did not commit them, and the next start "
        "judges their episodes again",
        unsent_alerts_.size());
  }
  if (store_) {
    store_->close();
  }
  if (escalation_) {
    escalation_->stop(k_escalation_drain);
  }
  api_->stop();
  log_->info("stopped");
  return 0;
}

void Service::start_prober() {
  std::random_device seed;
  // The previous prober's last-known-good addresses carry over a reload.
  auto memory = prober_ ? prober_->last_known_good() : probes::LastKnownGoodStore{};
  if (prober_) {
    prober_->stop();
    retired_probers_.push_back(std::move(prober_));
  }
  const auto epoch = ++prober_epoch_;
  prober_ = std::make_unique<probes::Prober>(
      io_, config_, clock_, (static_cast<std::uint64_t>(seed()) << 32U) | seed(),
      [this, epoch](const probes::ProbeReport& report) { on_report(report, epoch); },
      std::move(memory));
  prober_->start();
}

void Service::stop() {
  boost::asio::post(io_, [this] {
    notifier_.stopping();
    if (prober_) {
      prober_->stop();
    }
    for (auto& retired : retired_probers_) {
      retired->stop();
    }
    evaluation_timer_.cancel();
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    for (auto& [target, pending] : rechecks_) {
      if (pending.deadline) {
        pending.deadline->cancel();
      }
    }
    // Let in-flight probes finish (bounded by their timeouts), then return.
    io_.stop();
  });
}

void Service::watch_signals() {
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  signals_.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) {
      return;
    }
    if (signal == SIGHUP) {
      reload();
      watch_signals();
      return;
    }
    log_->info("signal {}: stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    stop();
  });
}

void Service::reload() {
  const auto path = options_.config_path.string();
  notifier_.reloading(clock_.monotonic());
  log_->info("reload: reading {}", path);
  const auto loaded = config::load_config(options_.config_path);
  for (const auto& diagnostic : loaded.diagnostics) {
    const bool error = diagnostic.severity == config::Severity::Error;
    log_->log(error ? spdlog::level::err : spdlog::level::warn, "reload: {}",
              diagnostic.to_string());
  }
  if (!loaded.ok()) {
    reject_config(path + " is invalid (errors logged above); the running config stays in force");
  } else {
    auto next = std::make_shared<const config::Config>(*loaded.config);
    const auto plan = plan_reload(*config_, *next);
    if (plan.applicable()) {
      apply_config(std::move(next), plan);
    } else {
      std::string changes;
      for (const auto& change : plan.needs_restart) {
        changes += (changes.empty() ? "" : "; ") + change;
      }
      reject_config(path + " changes settings that apply only on restart (" + changes +
                    "); nothing applied, the running config stays in force");
    }
  }
  evaluate();
  notifier_.ready(status_line(*hub_.current()));
}

void Service::apply_config(std::shared_ptr<const config::Config> next, const ReloadPlan& plan) {
  const auto done = engine_.reconfigure(make_policy(*next), plan.resets, clock_.now());
  const auto previous_escalation = config_->escalation;
  config_ = std::move(next);
  if (store_) {
    // A re-added target continues its generation; its history continues
    // with it (what it published before its removal, and the removal).
    for (const auto& target : done.targets_added) {
      load_history(target);
    }
  }
  for (const auto& event : done.events) {
    handle_event(event);
  }
  start_prober();
  restart_rechecks();
  if (!(config_->escalation == previous_escalation)) {
    // Built before the old one goes: sinks that cannot be set up (a secret
    // unreadable since validation) leave the running ones in place.
    try {
      auto sinks = make_sinks(*config_);  // reads the secrets; starts nothing
      escalation_.reset();  // joins its threads; the next one resumes from the state files
      escalation_ = make_dispatcher(std::move(sinks), clock_, log_);
    } catch (const std::exception& error) {
      log_->error("reload: escalation: {}; the previous sinks keep delivering", error.what());
    }
  }
  index_config();
  for (const auto& target : done.targets_removed) {
    history_.erase(target);  // storage keeps it; the API lists current targets only
    if (store_) {
      // The engine dropped its override with it; storage must too, or a
      // restart would bring back an override nobody sees until then.
      store_->clear_override(target);
    }
  }
  std::string why;
  if (std::optional<std::string> token; api_ && read_token(config_->api.token_file, token, why)) {
    api_->set_token(std::move(token));
  } else if (api_) {
    log_->error("reload: {}; the API keeps its previous token", why);
  }
  if (auto keys = load_peer_keys(config_->peers)) {
    start_peers(std::move(*keys));
  } else {
    log_->error("reload: {}; peers keep their previous keys", keys.error());
  }
  if (store_) {
    store_->set_retention(config_->storage.retention);
  }
  const auto names = [](const std::vector<std::string>& list) {
    std::string text;
    for (const auto& item : list) {
      text += (text.empty() ? "" : ",") + item;
    }
    return text.empty() ? std::string("none") : text;
  };
  notice_->info(
      "reload applied config={} targets={} vantages={} added={} removed={} reset={} "
      "vantages_added={} vantages_removed={} vantages_reset={}",
      options_.config_path.string(), config_->targets.size(), config_->vantages.size(),
      names(done.targets_added), names(done.targets_removed), names(done.targets_reset),
      names(done.vantages_added), names(done.vantages_removed), names(plan.resets.vantages));
  resolve_gone_peers();
  resolve_config_escalation("a later reload applied a valid config");
}

void Service::reject_config(const std::string& why) {
  log_->error("reload: {}", why);
  const bool open = std::any_of(escalations_.begin(), escalations_.end(), [](const auto& view) {
    return view.kind == cs::EventKind::ConfigRejected;
  });
  if (open) {
    return;  // one escalation per episode; the log has this attempt
  }
  cs::Event event;
  event.kind = cs::EventKind::ConfigRejected;
  event.at = clock_.now();
  event.key = "config/" + cs::format_rfc3339(event.at.wall);
  event.reason = why;
  handle_event(event);
}

void Service::resolve_config_escalation(const std::string& why) {
  for (const auto& view : escalations_) {
    if (view.kind == cs::EventKind::ConfigRejected) {
      cs::Event event;
      event.kind = cs::EventKind::ConfigAccepted;
      event.at = clock_.now();
      event.key = view.key;
      event.reason = why;
      handle_event(event);
      return;
    }
  }
}

void Service::arm_evaluation() {
  evaluation_timer_.expires_after(k_evaluation_period);
  evaluation_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) {
      return;
    }
    notifier_.watchdog_ping(clock_.monotonic());
    std::erase_if(retired_probers_,
                  [](const auto& retired) { return retired->counters().in_flight == 0; });
    evaluate();
    arm_evaluation();
  });
}

void Service::on_report(const probes::ProbeReport& report, std::uint64_t epoch) {
  const auto& observation = report.observation;
  // Why drop a retired prober's reports: its probes ran the check and the
  // resolver of the config before the reload, and they are dated when they
  // end, after the engine reset what the reload changed: one such result on
  // a fresh tracker would count for the new check (with fall 1, a down
  // vote). One probe less of an unchanged target costs nothing.
  if (epoch != prober_epoch_) {
    // It answers no recheck either: restart_rechecks() asked the new prober.
    log_->debug("observation of {} from {} dropped: its probe started under the previous config",
                observation.target, observation.vantage);
    return;
  }
  const auto status = engine_.observe(observation);
  if (status != cs::ObserveStatus::Accepted) {
    log_->debug("observation of {} from {} refused: {}", observation.target, observation.vantage,
                cs::to_string(status));
  }
  last_seen_[observation.vantage] = observation.at.wall;
  if (store_ && status == cs::ObserveStatus::Accepted) {
    store_->record_observation(observation);  // history holds what counted, once
  }
  // Why an index: this runs for every probe, thousands a second at scale; a
  // scan of the targets here cost O(targets) each time.
  if (const auto found = target_index_.find(observation.target); found != target_index_.end()) {
    const auto t = found->second;
    probe_stats_.record(report, config_->targets[t]);
    const auto vantages = config_->vantages.size();
    for (std::size_t v = 0; v < vantages && !ready_; ++v) {
      if (config_->vantages[v].name == observation.vantage && !pair_seen_[t * vantages + v]) {
        pair_seen_[t * vantages + v] = true;
        ++pairs_reported_;
      }
    }
  }
  if (auto found = rechecks_.find(observation.target); found != rechecks_.end()) {
    if (found->second.awaiting > 0 && --found->second.awaiting == 0) {
      finish_recheck(observation.target, 200);
    }
  }
}

void Service::evaluate() {
  const auto now = clock_.now();
  const auto evaluation = engine_.evaluate(now);
  for (const auto& event : evaluation.events) {
    handle_event(event);
  }
  if (!ready_) {
    // Ready once every (target, vantage) pair has reported, or after the
    // longest interval plus timeout: a dead vantage must not keep the whole
    // oracle unready forever (its votes are simply unknown).
    cs::Duration longest{0};
    for (const auto& target : config_->targets) {
      longest = std::max(longest, target.timing.interval + target.timing.timeout);
    }
    if (pairs_reported_ == pair_seen_.size() || now.mono - started_ >= longest) {
      ready_ = true;
      log_->info("ready: first full evaluation done");
      publish();
      notifier_.ready(status_line(*hub_.current()));
      return;
    }
  }
  publish();
}

void Service::handle_event(const cs::Event& event) {
  unpersisted_ = true;  // every event writes a row (verdict, escalation or override)
  if (event.kind == cs::EventKind::VerdictChanged) {
    const auto* verdict = engine_.verdict(event.target);
    if (verdict != nullptr && store_) {
      store_->record_verdict(*verdict, true);
    } else if (store_) {
      // A target a reload removed: its end is stored as its last verdict,
      // so its generation (a fencing token) never goes back, whether it
      // comes back in a later reload or after a restart.
      cs::Verdict gone;
      gone.target = event.target;
      gone.kind = event.verdict;
      gone.generation = event.generation;
      gone.since = event.at.wall;
      gone.evaluated_at = event.at.wall;
      gone.valid_until = event.at.wall;
      gone.reason = event.reason;
      gone.fresh = false;
      store_->record_verdict(gone, true);
    }
    auto& history = history_[event.target];
    history.push_front(TransitionView{event.generation, event.at.wall, event.verdict, event.held,
                                      verdict ? verdict->reason_code : cs::ReasonCode::Quorum,
                                      event.reason});
    if (history.size() > k_history_per_target) {
      history.pop_back();
    }
    notice_->info("verdict target={} verdict={} held={} generation={} reason={}", event.target,
                  cs::to_string(event.verdict), held_text(event.held), event.generation,
                  quote_field(event.reason));
    return;
  }
  if (event.kind == cs::EventKind::OverrideExpired) {
    if (store_) {
      store_->clear_override(event.target);
    }
    log_->info("override expired target={} reason={}", event.target, quote_field(event.reason));
    return;
  }
  const std::string subject = !event.target.empty()    ? "target=" + event.target
                              : !event.vantage.empty() ? "vantage=" + event.vantage
                                                       : "config=" + options_.config_path.string();
  if (escalation_) {
    // Sent once committed (publish()): see release_alerts().
    if (unsent_alerts_.empty()) {
      unsent_since_ = clock_.monotonic();
    }
    unsent_alerts_.push_back(make_alert(event, engine_.verdict(event.target), config_->node.name,
                                        "http://" + config_->api.listen.to_string()));
  }
  if (event.is_resolution()) {
    if (store_) {
      store_->record_event(event);
    }
    std::erase_if(escalations_, [&](const EscalationView& view) { return view.key == event.key; });
    notice_->info("escalation resolved kind={} {} key={} reason={}", cs::to_string(event.kind),
                  subject, event.key, quote_field(event.reason));
    return;
  }
  EscalationView view;
  view.id = next_escalation_id_++;
  view.key = event.key;
  view.kind = event.kind;
  view.target = event.target;
  view.vantage = event.vantage;
  view.reason = event.reason;
  view.opened_at = event.at.wall;
  escalations_.push_back(view);
  if (store_) {
    store_->record_event(event, view.id);
  }
  notice_->info("escalation kind={} {} key={} id={} reason={}", cs::to_string(event.kind), subject,
                event.key, view.id, quote_field(event.reason));
}

void Service::release_alerts(bool committed) {
  if (unsent_alerts_.empty()) {
    return;
  }
  // Why wait for the commit: a sink that saw dispute/web/7 before its row
  // was written, then a kill -9, and the next start knows nothing of it: it
  // opens its next episode as dispute/web/7 again, and the sink, which
  // dedupes by key, swallows that page. Committed first, the key is in
  // used_keys after any crash. Degraded storage cannot commit at all (a
  // full or read-only disk may stay so for hours): then, and after
  // k_alert_commit_patience of a disk that neither commits nor fails, the
  // messages go out anyway; paging late is worse than a key a crash could
  // reuse.
  const bool degraded = store_ && !store_->health().ok;
  const bool overdue =
      unsent_since_ && clock_.monotonic() - *unsent_since_ >= k_alert_commit_patience;
  if (!committed && !degraded && !overdue) {
    return;  // the next publish() tries again
  }
  if (!committed) {
    log_->warn("sending {} escalation messages that storage has not committed ({})",
               unsent_alerts_.size(), degraded ? "storage degraded" : "commit overdue");
  }
  if (escalation_) {
    for (const auto& alert : unsent_alerts_) {
      escalation_->submit(alert);
    }
  }
  unsent_alerts_.clear();
  unsent_since_.reset();
}

bool Service::publish() {
  // Why wait: the API must never show what a crash can take back. Shown
  // generation 7 but committed 6, a kill -9 restores 6 and the next change
  // hands out 7 again for another verdict (a fencing token reused), and its
  // escalation key and id with it; an ack answered 200 but still queued is
  // lost. A commit takes milliseconds. Degraded storage cannot commit: then
  // the snapshot goes out at once (serving never stops) and is not durable.
  bool durable = true;
  if (unpersisted_ && store_) {
    durable = store_->health().ok && store_->flush(k_publish_flush_timeout);
    if (durable) {
      unpersisted_ = false;
    } else if (store_->health().ok && !publish_flush_late_) {
      log_->warn(
          "storage did not commit within {} ms; publishing what is not yet durable",
          std::chrono::duration_cast<std::chrono::milliseconds>(k_publish_flush_timeout).count());
    }
    publish_flush_late_ = !durable;
  }
  release_alerts(durable);
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->revision = engine_.revision();
  snapshot->taken_at = clock_.system();
  snapshot->ready = ready_;
  snapshot->node = config_->node.name;
  snapshot->version = k_version;
  for (const auto& verdict : engine_.verdicts()) {
    TargetView view;
    view.verdict = verdict;
    view.divergence = find_divergence(verdict.evidence);
    if (const auto found = history_.find(verdict.target); found != history_.end()) {
      view.history.assign(found->second.begin(), found->second.end());
    }
    snapshot->targets.push_back(std::move(view));
  }
  for (const auto& vantage : engine_.vantages()) {
    VantageView view;
    view.name = vantage.name;
    view.node = vantage.node;
    view.domain = vantage.domain;
    if (const auto found = engine_.suspects().find(vantage.name);
        found != engine_.suspects().end()) {
      view.suspect = true;
      view.suspect_reason = found->second;
    }
    if (const auto seen = last_seen_.find(vantage.name); seen != last_seen_.end()) {
      view.last_seen = seen->second;
    }
    snapshot->vantages.push_back(std::move(view));
  }
  snapshot->escalations = escalations_;
  const auto health = store_ ? store_->health() : storage::Health{};
  snapshot->storage = StorageView{health.ok, health.reason};
  snapshot->metrics = metrics_view(
      probe_stats_, prober_ ? prober_->counters() : probes::ScheduleCounters{}, health);
  if (escalation_) {
    snapshot->metrics.escalation_sinks = escalation_->counters();
  }
  notifier_.status(status_line(*snapshot));
  hub_.publish(std::move(snapshot));
  return durable;
}

ActionResult Service::result(int status, std::string error, std::string detail) {
  return ActionResult{status, std::move(error), std::move(detail), hub_.current()};
}

void Service::recheck(const std::string& target, std::chrono::milliseconds deadline,
                      ActionCallback done) {
  boost::asio::post(io_, [this, target, deadline, done = std::move(done)]() mutable {
    if (config_->find_target(target) == nullptr) {
      return done(result(404, "unknown_target", "no target '" + target + "'"));
    }
    const auto now = clock_.monotonic();
    auto& pending = rechecks_[target];
    if (pending.awaiting > 0) {
      // A recheck is already running: share its answer.
      pending.callbacks.push_back(std::move(done));
      return;
    }
    if (const auto last = last_recheck_.find(target);
        last != last_recheck_.end() && now - last->second < k_recheck_spacing) {
      const auto wait = std::chrono::duration_cast<std::chrono::seconds>(
          k_recheck_spacing - (now - last->second) + 999ms);
      return done(result(429, "rate_limited",
                         "rechecked less than " + std::to_string(k_recheck_spacing.count()) +
                             "s ago; retry in " + std::to_string(wait.count()) + "s"));
    }
    last_recheck_[target] = now;
    prober_->recheck(target);
    pending.awaiting = config_->vantages.size();
    pending.callbacks.push_back(std::move(done));
    pending.deadline = std::make_shared<boost::asio::steady_timer>(io_, deadline);
    pending.deadline->async_wait([this, target](boost::system::error_code ec) {
      if (!ec) {
        finish_recheck(target, 504);
      }
    });
  });
}

void Service::restart_rechecks() {
  std::vector<std::string> gone;
  for (auto& [target, pending] : rechecks_) {
    if (pending.awaiting == 0) {
      continue;
    }
    if (config_->find_target(target) == nullptr) {
      gone.push_back(target);
      continue;
    }
    prober_->recheck(target);
    pending.awaiting = config_->vantages.size();
  }
  for (const auto& target : gone) {
    finish_recheck(target, 404);
  }
}

void Service::finish_recheck(const std::string& target, int status) {
  auto found = rechecks_.find(target);
  if (found == rechecks_.end()) {
    return;
  }
  auto pending = std::move(found->second);
  rechecks_.erase(found);
  if (pending.deadline) {
    pending.deadline->cancel();
  }
  evaluate();
  for (auto& callback : pending.callbacks) {
    if (status == 404) {
      callback(result(404, "unknown_target",
                      "target '" + target + "' was removed by a config reload during its recheck"));
      continue;
    }
    callback(status == 200 ? result(200)
                           : result(504, "recheck_timeout",
                                    "not every vantage answered before the deadline; the "
                                    "verdict shown includes what did"));
  }
}

void Service::acknowledge(std::int64_t id, const std::string& by, ActionCallback done) {
  boost::asio::post(io_, [this, id, by, done = std::move(done)] {
    for (auto& view : escalations_) {
      if (view.id == id) {
        view.acked_at = clock_.system();
        view.acked_by = by;
        if (store_) {
          store_->acknowledge(id, by, *view.acked_at);
          unpersisted_ = true;
        }
        log_->info("escalation acknowledged id={} key={} by={}", id, view.key, by);
        // 200 promises the ack survives a crash: only once it is committed.
        if (!publish()) {
          return done(result(503, "storage_unavailable",
                             "acknowledged in memory but not yet written to storage (" +
                                 store_->health().reason +
                                 "); it is written when storage recovers: retry to confirm"));
        }
        return done(result(200));
      }
    }
    done(result(404, "unknown_escalation", "no open escalation with id " + std::to_string(id)));
  });
}

void Service::set_override(const std::string& target, const cs::Override& value,
                           ActionCallback done) {
  boost::asio::post(io_, [this, target, value, done = std::move(done)] {
    if (!engine_.set_override(target, value)) {
      return done(result(404, "unknown_target", "no target '" + target + "'"));
    }
    if (store_) {
      store_->set_override(target, value);
      unpersisted_ = true;
    }
    log_->warn("override target={} verdict={} by={} until={} reason={}", target,
               cs::to_string(value.verdict), value.by, cs::format_rfc3339(value.expires_at),
               quote_field(value.reason));
    evaluate();
    done(result(200));
  });
}

void Service::clear_override(const std::string& target, ActionCallback done) {
  boost::asio::post(io_, [this, target, done = std::move(done)] {
    if (config_->find_target(target) == nullptr) {
      return done(result(404, "unknown_target", "no target '" + target + "'"));
    }
    if (!engine_.clear_override(target)) {
      return done(result(404, "no_override", "no override in force for '" + target + "'"));
    }
    if (store_) {
      store_->clear_override(target);
      unpersisted_ = true;
    }
    log_->info("override cleared target={}", target);
    evaluate();
    done(result(200));
  });
}

}  // namespace crosscheck::daemon
