#!/usr/bin/env bash
# Does heavy API load delay probing? p99 probe start lateness while wrk
# hammers GET /v1/verdicts/<target> with 1,000 connections, versus the same
# daemon idle (no API load), windows of the same length. Probe load: 1,000
# DNS-only targets x 5 vantages every 1 s against a local dnsmasq. The API's
# default connection cap is 4096 (within the open-files limit).
# Loopback only (127.0.78.x).
# Usage: bench/siege.sh [WINDOW_SECONDS] [WARMUP_SECONDS]
#        (TARGETS=N overrides 1,000, CONNECTIONS=N overrides 1,000)
# Env: BENCH_SECONDS (each window unless WINDOW_SECONDS is given; default
#      30), BENCH_QUICK=1 (warm-up 3 s instead of 10 s),
#      BENCH_BUILD_DIR / BENCH_BIN (prebuilt binaries, see bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
window=${1:-${BENCH_SECONDS:-30}}
if [[ ${BENCH_QUICK:-} == 1 ]]; then warmup=${2:-3}; else warmup=${2:-10}; fi
targets=${TARGETS:-1000}
connections=${CONNECTIONS:-1000}
asked=$(printf 't%05d' "$targets")  # the last target: a lookup must not depend on the place
bench_prepare wrk

resolvers="127.0.78.1:5398 127.0.78.2:5398 127.0.78.3:5398 127.0.78.4:5398 127.0.78.5:5398"
bench_dnsmasq 127.0.78.1,127.0.78.2,127.0.78.3,127.0.78.4,127.0.78.5 5398 siege.test/127.0.0.1
bench_config "$work/crosscheck.yaml" 127.0.78.10:9598 1s 500ms 4096 10000 \
  "$(vantages_yaml "$resolvers")" "$(targets_yaml "$targets" siege.test)"
log "siege: $targets targets x 5 vantages every 1 s; windows of ${window}s; wrk with $connections connections"
bench_daemon "$work/crosscheck.yaml" http://127.0.78.10:9598
sleep "$warmup"

bench_scrape "$work/idle-before.prom"
sleep "$window"
bench_scrape "$work/idle-after.prom"
idle=$(lateness_quantile_ms 0.99 "$work/idle-before.prom" "$work/idle-after.prom")
log "  idle: p99 start lateness $idle ms (bucket-interpolated)"

bench_scrape "$work/siege-before.prom"
wrk -t2 -c"$connections" -d"${window}s" --timeout 5s "$api/v1/verdicts/$asked" > "$work/wrk.txt"
bench_scrape "$work/siege-after.prom"
siege=$(lateness_quantile_ms 0.99 "$work/siege-before.prom" "$work/siege-after.prom")
log "  siege: p99 start lateness $siege ms (bucket-interpolated)"
# What the API served: requests answered 2xx against all of wrk's requests
# (wrk's Requests/sec counts 503s and errors too). Why it is judged: an API
# that turned the load away cheaply would leave probing undisturbed and
# meet the row without serving anyone.
read -r answered non2xx socket_errors connect_errors < <(wrk_outcome < "$work/wrk.txt")
requests=$((answered + socket_errors))
served_share=$(awk -v ok="$((answered - non2xx))" -v n="$requests" 'BEGIN { printf "%.3f\n", (n > 0 ? ok / n : 0) }')
log "  wrk: $(awk '/Requests\/sec/ { print $2 }' "$work/wrk.txt") requests/s; $answered answered ($non2xx non-2xx)," \
  "$socket_errors lost to socket errors, $connect_errors connections refused; share answered 2xx: $served_share"
for file in idle siege; do
  log_probes "$file" "$work/$file-before.prom" "$work/$file-after.prom"
  log_evaluation "$file" "$work/$file-before.prom" "$work/$file-after.prom"
  log_classes "$work/$file-before.prom" "$work/$file-after.prom"
done
# With BENCH_PERF: the daemon under the same siege, in a window of its own.
if [[ -n ${BENCH_PERF:-} ]]; then
  wrk -t2 -c"$connections" -d"${window}s" --timeout 5s "$api/v1/verdicts/$asked" >/dev/null &
  siege_wrk=$!
  perf_profile "$daemon_pid" "$((window - 2))" siege_daemon
  wait "$siege_wrk" || true
fi
# Skipped turns never start, so the lateness histogram does not see them.
skipped=$(delta crosscheck_probes_skipped_total "$work/siege-before.prom" "$work/siege-after.prom")
ratio=$(ratio "$siege" "$idle")
log "  ratio siege / idle: $ratio (goal at most 1.5); $skipped turns skipped under siege"

row 6 "p99 probe start lateness under $connections API connections ($targets targets x 5 vantages, 1 s)" \
  "$siege ms under siege ($skipped turns skipped; the API answered $requests requests, a share of $served_share with 2xx)" \
  "same daemon, no API load" "$idle ms" "$ratio" \
  "at most 1.5x, no turn skipped, at least 90 % of requests answered 2xx" \
  "$(met "$ratio <= 1.5 && $skipped == 0 && $served_share >= 0.9")"
