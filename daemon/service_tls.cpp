// The API's TLS as the service wires it: api.tls's files read at start-up
// and on reload (the same reader as check-config), refused handshakes
// logged with their reason and peer, at most one line per reason a minute.
#include "api/server.hpp"
#include "daemon/reload.hpp"
#include "daemon/service.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

namespace crosscheck::daemon {
namespace {

// "2027-01-01T00:00:00Z"
std::string utc(std::int64_t unix_seconds) {
  const auto when = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&when, &tm);
  std::array<char, 32> text{};
  const std::size_t size = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(text.data(), size);
}

std::string describe(const config::ServerTlsFiles& files) {
  return "certificate " + files.leaf_subject + " " + config::to_string(files.leaf_fingerprint) +
         " valid until " + utc(files.not_after) +
         (files.client_ca.empty() && files.client_fingerprints.empty()
              ? std::string(", no client certificate required")
              : std::string(", client certificates required (mTLS)"));
}

}  // namespace

bool Service::configure_api_tls(api::ApiServerOptions& options) {
  const auto& tls = config_->api.tls;
  if (!tls) {
    return true;  // off loopback, the config's warning said so (config/validate.cpp)
  }
  auto files = config::read_server_tls(*tls);
  if (!files) {
    log_->critical("{}", files.error());
    return false;
  }
  log_->info("api tls: {}", describe(*files));
  api_tls_ = *files;
  options.tls = std::move(*files);
  options.on_tls_refusal = [this](const api::TlsRefusalEvent& event) { on_tls_refusal(event); };
  return true;
}

std::string Service::reload_api_tls(std::vector<std::string>& kept) {
  if (!api_ || !config_->api.tls || !api_tls_) {
    return {};  // plan_reload refuses turning TLS on or off
  }
  auto files = config::read_server_tls(*config_->api.tls);
  if (!files) {
    log_->error("reload: {}; the API keeps serving its previous certificate", files.error());
    kept.push_back(files.error() + " (previous api.tls certificate kept)");
    return "api.tls not applied (previous certificate kept)";
  }
  if (*files == *api_tls_) {
    return {};  // nothing changed: open and new connections share one context
  }
  if (const Status set = api_->set_tls(*files); !set) {
    log_->error("reload: api.tls: {}; the API keeps serving its previous certificate", set.error());
    kept.push_back("api.tls: " + set.error() + " (previous certificate kept)");
    return "api.tls not applied (previous certificate kept)";
  }
  const ApiTlsChange change = compare_api_tls(*api_tls_, *files);
  api_tls_ = std::move(*files);
  for (const auto& loosened : change.loosened) {
    log_->warn("reload: api tls: {}", loosened);
  }
  notice_->info("reload: api tls: new connections get {}; open ones keep theirs{} ({})",
                describe(*api_tls_),
                change.client_checks_changed
                    ? ", their client certificates checked again before their next request"
                    : "",
                change.summary.empty() ? std::string("files changed") : change.summary);
  return change.summary.empty() ? std::string() : "api.tls: " + change.summary;
}

void Service::on_tls_refusal(const api::TlsRefusalEvent& event) {
  const std::string_view reason = api::to_string(event.reason);
  std::optional<std::uint64_t> held_back;
  {
    const std::lock_guard lock(tls_log_mutex_);
    held_back = tls_log_limiter_.admit(reason, clock_.monotonic());
  }
  if (!held_back) {
    return;
  }
  log_->warn("api tls: refused handshake from {}: {} ({}){}", event.peer, reason, event.detail,
             *held_back == 0 ? std::string()
                             : "; " + std::to_string(*held_back) +
                                   " more refused for this reason since its last line, not logged");
}

}  // namespace crosscheck::daemon
