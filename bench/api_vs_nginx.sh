#!/usr/bin/env bash
# Row 3 of bench/run.sh: verdict API throughput against nginx serving the
# same bytes as a static file, same wrk connections and duration, same
# machine, same run. The oracle is probing a realistic set all along (200
# targets x 3 vantages of http: checks at 1 s: each probe resolves its host
# through dnsmasq, then GETs from a second nginx), so the API is measured
# while probing and storage work. Loopback only (127.0.0.91-93); stops
# everything it started. ROW line on stdout, detail on stderr.
# Usage: bench/api_vs_nginx.sh [SECONDS] [CONNECTIONS]
# Env: BENCH_SECONDS (default for SECONDS, else 10), BENCH_BUILD_DIR (use
#      binaries already built there; default: build the release preset).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
seconds=${1:-${BENCH_SECONDS:-10}}
connections=${2:-64}
targets=200 vantages=3
asked=t$((targets - 1))
resolver=127.0.0.91:5391 api=127.0.0.91:9591 static=127.0.0.92:9592 web=127.0.0.93:9593

bench_name=api_vs_nginx
bench_prepare wrk nginx curl

# tN.web.test resolves to the probed nginx.
bench_dnsmasq "${resolver%:*}" "${resolver#*:}" "web.test/${web%:*}"

# Two nginx processes, one worker each: "web" answers the oracle's probes,
# "static" is the reference. Both run during both measurements.
start_nginx() {
  mkdir -p "$work/$1"
  bench_nginx "$1" "listen $2; root $work/$1; location / { default_type application/json; }"
}
echo ok > "$work/probe.txt"
start_nginx web "$web"
cp "$work/probe.txt" "$work/web/"

{
  echo "node: { name: bench, data_dir: $work/data }"
  echo "api: { listen: \"$api\" }"
  echo "defaults: { interval: 1s, timeout: 500ms, stale_after: 5s }"
  echo "vantages:"
  for v in $(seq 1 "$vantages"); do
    echo "  - { name: v$v, domain: d$v, resolver: \"$resolver\" }"
  done
  echo "targets:"
  for t in $(seq 0 $((targets - 1))); do
    echo "  - { name: t$t, http: { url: \"http://t$t.web.test:${web#*:}/probe.txt\" } }"
  done
} > "$work/crosscheck.yaml"
mkdir -p "$work/data"
bench_start "$bin" run --config "$work/crosscheck.yaml" --log-level warn 2>"$work/crosscheck.log"
oracle_pid=$!

# Ready after the first full evaluation; then wait for the target read
# (the last of the list: a lookup by name must not depend on the place) to be confirmed
# healthy (rise 2), so the bytes are those of a settled verdict.
for _ in $(seq 100); do
  curl -fs "http://$api/v1/verdicts/$asked" 2>/dev/null | grep -q '"verdict":"healthy"' && break
  sleep 0.2
done
verdict=$(curl -fs "http://$api/v1/verdicts/$asked")
grep -q '"verdict":"healthy"' <<<"$verdict" ||
  log "WARNING: $asked is not healthy: the probing set is not working ($(head -c 300 <<<"$verdict"))"

mkdir -p "$work/static"
printf '%s' "$verdict" > "$work/static/$asked.json"
start_nginx static "$static"
for _ in $(seq 50); do curl -fs "http://$static/$asked.json" >/dev/null 2>&1 && break; sleep 0.1; done
bytes=$(wc -c < "$work/static/$asked.json")

# CPU ticks of every thread of PID, one "tid ticks" line each.
thread_ticks() {
  local task
  for task in /proc/"$1"/task/*; do
    echo "${task##*/} $(stat_ticks "$task/stat" 2>/dev/null)"
  done
}

# What serving cost while wrk ran against it (detail, not judged): the
# server's CPU a request (all of its threads: the oracle's probing is in
# its figure), its busiest thread's share of a core, and wrk's share.
# Why: at 2 CPUs, a server whose thread sits at 100 % is bound by its own
# cost a request; one well under it waits on something else (wrk, the
# kernel, the other core's work).
# Usage: serving_cost LABEL TICKS_BEFORE TICKS_AFTER WRK_PERCENT SECONDS
# REQUESTS_PER_SECOND (the two files from thread_ticks around one wrk run).
serving_cost() {
  local label=$1 before=$2 after=$3 wrk_cpu=$4 seconds=$5 rate=$6
  awk -v label="$label" -v s="$seconds" -v rate="$rate" -v wrk="$wrk_cpu" \
    -v hz="$(getconf CLK_TCK)" '
    FNR == NR { start[$1] = $2; next }
    { used = $2 - start[$1]; total += used; if (used > top) top = used }
    END {
      requests = rate * s
      per_request = requests > 0 ? total / hz / requests * 1e6 : 0
      printf "%s: %.1f us CPU a request (all threads), its busiest thread %.0f %% of a core, wrk %.0f %%\n",
             label, per_request, top / hz / s * 100, wrk
    }' "$before" "$after"
}

# Requests/sec from wrk, failing (non-2xx or socket errors) requests noted;
# prints "<requests/s> <failed requests>". Why failures are counted: a 503
# ("overloaded") is cheaper than the answer, and wrk counts it in
# Requests/sec; a row with any is not met.
# Usage: measure URL LABEL SERVER_PID (the server's cost goes to the log).
measure() {
  local out before="$work/ticks-before" after="$work/ticks-after" wrk_start wrk_end
  # wrk's own share is read inside its run: from 0.2 s after its start (its
  # start-up is not the load) to 0.2 s before its end.
  local wrk_window
  wrk_window=$(awk -v s="$seconds" 'BEGIN { print s - 0.4 }')
  thread_ticks "$3" > "$before"
  wrk -t1 -c"$connections" -d"${seconds}s" "$1" > "$work/wrk.out" &
  local wrk_pid=$!
  sleep 0.2
  wrk_start=$(cpu_ticks "$wrk_pid" 2>/dev/null || echo 0)
  sleep "$wrk_window"
  wrk_end=$(cpu_ticks "$wrk_pid" 2>/dev/null || echo "$wrk_start")
  wait "$wrk_pid"
  thread_ticks "$3" > "$after"
  out=$(cat "$work/wrk.out")
  grep -E 'Non-2xx|Socket errors' <<<"$out" | sed "s|^|api_vs_nginx: $1: |" >&2 || true
  local non2xx errors connect rate
  read -r _ non2xx errors connect < <(wrk_outcome <<<"$out")
  rate=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  log "$(serving_cost "$2" "$before" "$after" "$(cpu_percent "$wrk_start" "$wrk_end" "$wrk_window")" \
    "$seconds" "$rate")"
  echo "$rate $((non2xx + errors + connect))"
}
log "GET /v1/verdicts/$asked ($bytes bytes), $connections connections, ${seconds}s, 1 wrk thread each; oracle probing $targets targets x $vantages vantages (http:) every 1 s"
# Probes the oracle completed so far (all outcomes), from its /metrics.
probes_done() { curl -fs "http://$api/metrics" | awk '/^crosscheck_probes_total\{/ { n += $NF } END { print n + 0 }'; }
probed_before=$(probes_done)
read -r ours ours_failed < <(measure "http://$api/v1/verdicts/$asked" crosscheck "$oracle_pid")
probed_after=$(probes_done)
read -r theirs theirs_failed < <(measure "http://$static/$asked.json" "nginx's worker" \
  "$(pgrep -P "$(cat "$work/static.pid")" | head -1)")
log "crosscheck $ours requests/s ($ours_failed failed), nginx $theirs requests/s ($theirs_failed failed); the oracle completed $((probed_after - probed_before)) probes while measured"
# With BENCH_PERF: the oracle under the same load, in a window of its own.
if [[ -n ${BENCH_PERF:-} ]]; then
  wrk -t1 -c"$connections" -d"${seconds}s" "http://$api/v1/verdicts/$asked" >/dev/null &
  load=$!
  perf_profile "$oracle_pid" "$((seconds > 3 ? seconds - 2 : 1))" api_oracle
  wait "$load" || true
fi
kill -0 "$oracle_pid" || { log "the oracle died: $(tail -5 "$work/crosscheck.log")"; exit 1; }

awk -v a="$ours" -v b="$theirs" -v n="$bytes" -v c="$connections" -v t="$targets" -v m="$vantages" \
  -v fa="$ours_failed" -v fb="$theirs_failed" 'BEGIN {
  ratio = b > 0 ? a / b : 0
  printf "ROW|3|verdict API throughput (GET /v1/verdicts/{target}, %d bytes, %d connections, while probing %d x %d http: checks every 1 s)|%.0f req/s (%d failed)|nginx serving the same bytes as a static file|%.0f req/s (%d failed)|%.2f|at least 1.0 of nginx, no request failed|%s\n",
         n, c, t, m, a, fa, b, fb, ratio, (b > 0 && ratio >= 1.0 && fa == 0 && fb == 0) ? "yes" : "no"
}'
