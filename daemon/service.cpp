// The service loop's core: start-up and stop, probing, evaluation and what
// each engine event writes and tells. Publication is in service_publish.cpp,
// reload in service_reload.cpp, the API's writes in service_actions.cpp.
#include "daemon/service.hpp"

#include "api/server.hpp"
#include "consensus/time_format.hpp"
#include "daemon/engine_policy.hpp"
#include "daemon/logging.hpp"
#include "daemon/reload.hpp"
#include "escalation/sinks.hpp"
#include "peers/client.hpp"
#include "probes/prober.hpp"
#include "storage/store.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <csignal>
#include <random>

namespace crosscheck::daemon {
namespace cs = crosscheck::consensus;
using namespace std::chrono_literals;

namespace {

// How often the engine judges every target. Observations arrive between
// evaluations; a verdict is at most this much older than its evidence.
constexpr auto k_evaluation_period = 500ms;
// At stop, sinks get this long to deliver what is due (their state file
// keeps the rest for the next start).
constexpr auto k_escalation_drain = 2s;

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
      ledger_(config_->node.name),
      windows_(config_->node.name),
      started_(clock_.monotonic()) {
  index_config();
  // Before anything is restored: with no storage, or a new or deleted
  // database, ids start at the clock (in ms) and repeat none an earlier run
  // gave out; restore() raises this to the stored high-water mark.
  ledger_.continue_after(0, clock_.system());
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
    escalation_ = escalation::make_dispatcher(escalation::make_sinks(*config_), clock_, log_);
  } catch (const std::exception& error) {
    log_->critical("escalation: {}", error.what());
    return 1;
  }
  restore();
  age_history(clock_.now());  // the first answer already follows storage.history_retention
  // The API's first answer shows what was restored (the restored verdicts,
  // the open escalations with their acks), never an empty oracle.
  publish_first();
  auto peer_keys = peers::load_peer_keys(config_->peers);
  if (!peer_keys) {
    log_->critical("{}", peer_keys.error());
    return 1;
  }
  // A tls: file broken since validation stops the start, as a key does:
  // running without the peers the config names would be a quieter failure.
  auto peer_tls = peers::load_peer_tls(config_->peers);
  if (!peer_tls) {
    log_->critical("{}", peer_tls.error());
    return 1;
  }
  auto auth = read_api_auth(config_->api);
  if (!auth) {
    log_->critical("{}", auth.error());
    return 1;
  }
  auto signer = make_verdict_signer(*config_);
  if (!signer) {
    log_->critical("{}", signer.error());
    return 1;
  }
  api::ApiServerOptions api_options;
  api_options.listen = config_->api.listen;
  api_options.signer = *signer;
  api_options.auth = std::move(*auth);
  api_options.clock = &clock_;
  // Keyed before the API listens: a peer's first pull is checked against its
  // key, not refused as "not a configured peer" until start_peers() runs.
  peer_verifier_ = std::make_shared<peers::PeerVerifier>(*peer_keys);
  api_options.peers = peer_verifier_;
  if (!configure_api_tls(api_options)) {
    return 1;
  }
  api_ = std::make_unique<api::ApiServer>(api_options, hub_, *this);
  if (const Status started = api_->start(); !started) {
    log_->critical("cannot listen on {}: {}", config_->api.listen.to_string(), started.error());
    return 1;
  }
  const auto bound = api_->bound_endpoint();
  {
    const std::lock_guard lock(endpoint_mutex_);
    api_endpoint_ = bound;
  }
  const std::string base = (api_tls_ ? "https://" : "http://") + bound.to_string();
  log_->info("crosscheck {} on {}: {} targets, {} vantages; API on {} (status page {}/)", version(),
             config_->node.name, config_->targets.size(), config_->vantages.size(), base, base);

  dot_cas_ = read_dot_cas(*config_);
  start_prober();
  start_peers(std::move(*peer_keys), std::move(*peer_tls));
  publish();
  arm_evaluation();
  io_.run();
  peer_client_.reset();  // joins the pullers; nothing posts to io_ after this

  // Shutdown: probing stopped; finish what storage holds, then the API.
  write_refused_rechecks(true);
  publish_last();
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
    // Probes in flight are abandoned, not awaited: their handlers are
    // destroyed with io_, and each client frees its caller's state then.
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

void Service::arm_evaluation() {
  evaluation_timer_.expires_after(k_evaluation_period);
  evaluation_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) {
      return;
    }
    notifier_.watchdog_ping(clock_.monotonic());
    std::erase_if(retired_probers_,
                  [](const auto& retired) { return retired->counters().in_flight == 0; });
    write_refused_rechecks();
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
  if (report.stalled > cs::Duration::zero()) {
    note_stall(report);
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
  if (status == cs::ObserveStatus::Accepted) {
    fast_confirm(observation);
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
    auto& pending = found->second;
    if (pending.vantages_awaiting.erase(observation.vantage) > 0) {
      for (const auto& vantage : config_->vantages) {
        if (vantage.name == observation.vantage) {
          pending.domains_answered.insert(vantage.domain);
        }
      }
      if (pending.vantages_awaiting.empty() && pending.peers_awaiting.empty()) {
        finish_recheck(observation.target, 200);
      }
    }
  }
}

void Service::evaluate(std::vector<snapshot::CommitGate::PendingAnswer> answers) {
  // Timed on the fine clock: a pass at 10,000 targets is milliseconds, and
  // its share of the service thread is what delays probes (bench row 6).
  const auto began = clock_.monotonic_fine();
  const auto now = clock_.now();
  const auto evaluation = engine_.evaluate(now);
  for (const auto& event : evaluation.events) {
    handle_event(event);
  }
  time_confirmations(now);
  age_history(now);
  const auto judged = clock_.monotonic_fine();
  evaluation_judge_.observe(judged - began);
  if (!ready_) {
    // Ready once every (target, vantage) pair has reported, or after the
    // longest interval plus timeout: a dead vantage must not keep the whole
    // oracle unready forever (its votes are simply unknown). READY=1 goes
    // out with the first ready snapshot (apply()).
    cs::Duration longest{0};
    for (const auto& target : config_->targets) {
      longest = std::max(longest, target.timing.interval + target.timing.timeout);
    }
    if (pairs_reported_ == pair_seen_.size() || now.mono - started_ >= longest) {
      ready_ = true;
      log_->info("ready: first full evaluation done");
    }
  }
  publish(std::move(answers));
  evaluation_publish_.observe(clock_.monotonic_fine() - judged);
  trim_heap(now);  // after: the answers and the snapshot do not wait for it
}

void Service::note_stall(const probes::ProbeReport& report) {
  // Once a minute at most: a loop too busy to run its timers stalls every
  // probe in flight, and every one of them is a lost vote (the
  // observer_stall class counts them all).
  const auto held_back = stall_log_limiter_.admit("stall", clock_.now().mono);
  if (!held_back) {
    return;
  }
  log_->warn(
      "this oracle stood still for {} while probes ran (a stopped process, or an event loop too "
      "busy to run its timers): their failures are observer errors, not votes, and verdicts hold "
      "until probes run on time again; the latest: {} from {} ({} more since the last such line)",
      cs::format_duration(report.stalled), report.observation.target, report.observation.vantage,
      *held_back);
}

void Service::handle_event(const cs::Event& event) {
  // Every event writes a row (verdict, escalation or override): the
  // snapshot that shows it waits for its commit (written()).
  if (event.kind == cs::EventKind::VerdictChanged) {
    const auto* verdict = engine_.verdict(event.target);
    if (verdict != nullptr && store_) {
      written(store_->record_verdict(*verdict, true));
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
      written(store_->record_verdict(gone, true));
    }
    // A new list, the newest first: the snapshots out there share the old one.
    auto& history = history_[event.target];
    const auto& before = snapshot::transitions_of(history);
    auto next = std::make_shared<std::vector<snapshot::TransitionView>>();
    const auto kept = std::min(before.size(), k_history_per_target - 1);
    next->reserve(kept + 1);
    next->push_back(snapshot::TransitionView{
        event.generation, event.at.wall, event.verdict, event.held,
        verdict != nullptr ? verdict->reason_code : cs::ReasonCode::Quorum, event.reason});
    next->insert(next->end(), before.begin(), before.begin() + static_cast<std::ptrdiff_t>(kept));
    history = std::move(next);
    notice_->info("verdict target={} verdict={} held={} generation={} reason={}", event.target,
                  cs::to_string(event.verdict), held_text(event.held), event.generation,
                  quote_field(event.reason));
    return;
  }
  if (event.kind == cs::EventKind::MaintenanceStarted ||
      event.kind == cs::EventKind::MaintenanceEnded) {
    return handle_maintenance(event);
  }
  if (event.kind == cs::EventKind::OverrideExpired) {
    if (store_) {
      written(store_->clear_override(event.target));
    }
    log_->info("override expired target={} reason={}", event.target, quote_field(event.reason));
    return;
  }
  const std::string subject = !event.target.empty()    ? "target=" + event.target
                              : !event.vantage.empty() ? "vantage=" + event.vantage
                                                       : "config=" + options_.config_path.string();
  // Why the sinks wait for the commit: a sink that saw dispute/web/7 before
  // its row was written, then a kill -9, and the next start knows nothing
  // of it: it opens its next episode as dispute/web/7 again, and the sink,
  // which dedupes by key, swallows that page. Committed first, the key is
  // in used_keys after any crash. The gate sends it anyway while storage is
  // degraded or past its patience (paging late is worse than a key a crash
  // could reuse).
  const auto send_when_committed = [&] {
    // Silenced (opened inside a maintenance window, or its resolution):
    // recorded and shown, never sent.
    if (event.silenced) {
      ++escalations_silenced_;
      return;
    }
    if (escalation_) {
      apply(gate_.hold(
          escalation::make_alert(event, engine_.verdict(event.target), config_->node.name,
                                 "http://" + config_->api.listen.to_string()),
          needed_seq_, clock_.monotonic()));
    }
  };
  if (event.is_resolution()) {
    if (store_) {
      written(store_->record_event(event));
    }
    send_when_committed();
    std::erase_if(escalations_,
                  [&](const snapshot::EscalationView& view) { return view.key == event.key; });
    notice_->info("escalation resolved kind={} {} key={} silenced={} reason={}",
                  cs::to_string(event.kind), subject, event.key, event.silenced,
                  quote_field(event.reason));
    return;
  }
  snapshot::EscalationView view;
  view.id = next_escalation_id_++;
  view.key = event.key;
  view.kind = event.kind;
  view.target = event.target;
  view.vantage = event.vantage;
  view.reason = event.reason;
  view.opened_at = event.at.wall;
  view.silenced = event.silenced;
  escalations_.push_back(view);
  if (store_) {
    written(store_->record_event(event, view.id));
  }
  send_when_committed();
  notice_->info("escalation kind={} {} key={} id={} silenced={} reason={}",
                cs::to_string(event.kind), subject, event.key, view.id, event.silenced,
                quote_field(event.reason));
}

void Service::handle_maintenance(const cs::Event& event) {
  const bool started = event.kind == cs::EventKind::MaintenanceStarted;
  storage::AuditEntry entry;
  entry.action =
      started ? storage::AuditAction::MaintenanceStarted : storage::AuditAction::MaintenanceEnded;
  entry.target = event.target;
  entry.detail = event.reason;
  written(audit(std::move(entry)));
  // The verdict row keeps the window in force and when the last one ended,
  // so a restart neither enters a window twice nor counts stable_for from
  // inside one (Verdict::stable_from).
  if (const auto* verdict = engine_.verdict(event.target); verdict != nullptr && store_) {
    written(store_->record_verdict(*verdict, false));
  }
  // An ad-hoc window that ran out: its row goes, or a restart would bring
  // back a window the engine already closed (expired rows are not restored
  // either; this keeps the table small).
  if (!started && store_ && engine_.maintenance_set(event.target) == nullptr) {
    written(store_->clear_maintenance(event.target));
  }
  notice_->info("maintenance target={} {}", event.target, quote_field(event.reason));
}

}  // namespace crosscheck::daemon
