// The oracle's own families of /metrics (api/metrics_server.hpp).
#include "api/metrics_server.hpp"

#include <cstddef>
#include <utility>

namespace crosscheck::api::detail {

using prom::Exposition;
using prom::number;

void api_families(Exposition& out, const ApiCounters& api) {
  out.family({"crosscheck_api_connections_total", "counter",
              "API connections accepted, or rejected over the connection limit (503)."});
  out.sample("crosscheck_api_connections_total", {{"result", "accepted"}},
             number(api.connections_accepted));
  out.sample("crosscheck_api_connections_total", {{"result", "rejected"}},
             number(api.connections_rejected));
  out.single({"crosscheck_api_connections_evicted_total", "counter",
              "API connections closed at the connection limit to make room: the longest idle."},
             api.connections_evicted);
  out.single({"crosscheck_api_requests_total", "counter", "Complete API requests routed."},
             api.requests);
  out.family({"crosscheck_api_responses_total", "counter", "API responses by status class."});
  for (const auto& [code, count] :
       {std::pair{"2xx", api.responses_2xx}, std::pair{"3xx", api.responses_3xx},
        std::pair{"4xx", api.responses_4xx}, std::pair{"5xx", api.responses_5xx}}) {
    out.sample("crosscheck_api_responses_total", {{"code", code}}, number(count));
  }
  out.family({"crosscheck_api_errors_total", "counter",
              "Requests and connections the API server refused or lost, by kind."});
  for (const auto& [kind, count] :
       {std::pair{"malformed_request", api.malformed_requests},
        std::pair{"oversized_header", api.oversized_headers},
        std::pair{"oversized_body", api.oversized_bodies}, std::pair{"timeout", api.timeouts},
        std::pair{"io", api.io_errors}, std::pair{"accept", api.accept_errors},
        std::pair{"watch_refused", api.watch_refused},
        std::pair{"action_timeout", api.action_timeouts},
        std::pair{"internal", api.internal_errors}}) {
    out.sample("crosscheck_api_errors_total", {{"kind", kind}}, number(count));
  }
  out.family({"crosscheck_api_tls_handshake_failures_total", "counter",
              "TLS handshakes the API refused (api.tls), by reason."});
  for (std::size_t i = 0; i < k_tls_refusal_kinds; ++i) {
    out.sample("crosscheck_api_tls_handshake_failures_total",
               {{"reason", to_string(static_cast<TlsRefusal>(i))}}, number(api.tls_refusals.at(i)));
  }
  if (api.tls_certificate_not_after != 0) {
    out.single({"crosscheck_api_tls_certificate_expiry_seconds", "gauge",
                "The API's serving certificate's notAfter, unix seconds."},
               api.tls_certificate_not_after);
  }
  out.family({"crosscheck_api_auth_refusals_total", "counter",
              "API requests refused for their credentials, by reason (401 missing or invalid, "
              "403 insufficient_scope or disabled)."});
  for (const auto& [reason, count] :
       {std::pair{"missing", api.auth_missing}, std::pair{"invalid", api.auth_invalid},
        std::pair{"insufficient_scope", api.auth_insufficient_scope},
        std::pair{"disabled", api.auth_disabled}}) {
    out.sample("crosscheck_api_auth_refusals_total", {{"reason", reason}}, number(count));
  }
}

// The names every Prometheus client library uses, so stock dashboards work.
void process_families(Exposition& out, const snapshot::ProcessStats& process) {
  if (process.cpu_seconds) {
    out.single({"process_cpu_seconds_total", "counter", "User and system CPU time spent."},
               *process.cpu_seconds);
  }
  if (process.resident_memory_bytes) {
    out.single({"process_resident_memory_bytes", "gauge", "Resident memory size."},
               *process.resident_memory_bytes);
  }
  if (process.open_fds) {
    out.single({"process_open_fds", "gauge", "Open file descriptors."}, *process.open_fds);
  }
  if (process.start_time_seconds) {
    out.single({"process_start_time_seconds", "gauge", "Process start time, Unix time."},
               *process.start_time_seconds);
  }
  if (process.malloc_in_use_bytes && process.malloc_free_bytes) {
    out.family({"crosscheck_malloc_bytes", "gauge",
                "Bytes of glibc's malloc: in_use by live allocations, free (freed, kept by the "
                "allocator, counted in RSS where touched)."});
    out.sample("crosscheck_malloc_bytes", {{"state", "in_use"}},
               number(*process.malloc_in_use_bytes));
    out.sample("crosscheck_malloc_bytes", {{"state", "free"}}, number(*process.malloc_free_bytes));
  }
}

}  // namespace crosscheck::api::detail
