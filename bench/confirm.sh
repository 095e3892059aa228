#!/usr/bin/env bash
# Fast confirmation: seconds from a real outage seen by every failure domain
# to a published `unhealthy`, with `interval: 10s, fall: 3`, with
# fast_confirm on and (the reference, same run, same machine) off; and a
# single lying domain, which must never produce `unhealthy`. One daemon,
# three vantages in three domains, each resolving web.confirm.test through
# its own dnsmasq on loopback; the service is an nginx on 127.0.0.70:8470.
# "Outage": nginx is stopped (every domain's connect is refused). "Lie":
# the third resolver is restarted answering 127.0.0.71 (nothing listens).
# Usage: bench/confirm.sh [RUNS]   (outages per mode; default 3, median kept)
# Env: BENCH_QUICK=1 (one run per mode, 20 s of lying instead of 40 s),
#      BENCH_BUILD_DIR / BENCH_BIN (prebuilt binaries, see bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bench_name=confirm
source bench/lib.sh
if [[ ${BENCH_QUICK:-} == 1 ]]; then runs=${1:-1} lie_seconds=20; else runs=${1:-3} lie_seconds=40; fi
# dnsmasq-base (the binary, without the system service the dnsmasq package
# enables) comes with scripts/install-deps.sh.
bench_prepare nginx

mkdir -p "$work/www"
echo ok > "$work/www/index.html"
chmod -R a+rX "$work/www"
resolvers=(127.0.0.61 127.0.0.62 127.0.0.63)
declare -A dns_pid
start_resolver() {  # start_resolver INDEX ADDRESS_TO_ANSWER
  bench_dnsmasq "${resolvers[$1]}" 5370 "confirm.test/$2"
  dns_pid[$1]=$!
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
for i in 0 1 2; do start_resolver "$i" 127.0.0.70; done
start_web() { bench_nginx web "listen 127.0.0.70:8470; root $work/www;"; web_pid=$!; }
start_web

port=9478
write_config() {  # write_config FAST_CONFIRM
  rm -rf "$work/data"
  mkdir -p "$work/data"
  cat > "$work/confirm.yaml" <<YAML
node: { name: bench, data_dir: $work/data }
api: { listen: 127.0.0.1:$port }
defaults: { interval: 10s, timeout: 2s, rise: 2, fall: 3, stale_after: 30s, fast_confirm: $1 }
vantages:
  - { name: v1, domain: d1, resolver: "127.0.0.61:5370" }
  - { name: v2, domain: d2, resolver: "127.0.0.62:5370" }
  - { name: v3, domain: d3, resolver: "127.0.0.63:5370" }
targets:
  - { name: web, dns: { name: web.confirm.test }, http: { url: "http://web.confirm.test:8470/", expect_status: [200] } }
YAML
}

verdict() {
  curl -fs "http://127.0.0.1:$port/v1/verdicts/web" 2>/dev/null |
    sed -n 's/.*"verdict":"\([a-z]*\)".*/\1/p' | head -n1
}
# Polls until the verdict is $1 (every 100 ms, at most $2 s); prints the
# seconds waited, or "nan".
wait_for() {
  local want=$1 limit=$2 begun now
  begun=$(date +%s.%N)
  while :; do
    [[ $(verdict) == "$want" ]] && break
    now=$(date +%s.%N)
    if awk -v a="$now" -v b="$begun" -v l="$limit" 'BEGIN { exit !(a - b > l) }'; then
      echo nan
      return
    fi
    sleep 0.1
  done
  awk -v a="$(date +%s.%N)" -v b="$begun" 'BEGIN { printf "%.1f\n", a - b }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "nan") }'; }

# Seconds to unhealthy after each of $runs outages (every domain); the
# median goes to $measured. Why no $(...) around it: nginx restarted in a
# command substitution would hold its pipe open (and escape the clean-up).
# Why a fresh daemon (and data directory) per outage: three outages and
# recoveries within minutes are six verdict changes, past the default
# flap_limit, and the third is rightly held as flapping; each outage here
# is meant to be the first one a daemon sees.
measure_outages() {  # measure_outages FAST_CONFIRM
  local taken=()
  local run
  measured=nan
  for ((run = 1; run <= runs; run++)); do
    write_config "$1"
    bench_daemon "$work/confirm.yaml" "http://127.0.0.1:$port"
    if [[ $(wait_for healthy 60) == nan ]]; then
      log "  not healthy before outage $run"
      stop_pid "$daemon_pid"
      return
    fi
    # A random point in the probing cycle, as a real outage would be.
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.1f\n", 2 + (r % 100) / 10 }')"
    stop_pid "$web_pid"
    taken+=("$(wait_for unhealthy 60)")
    log "  outage $run: unhealthy after ${taken[-1]} s"
    stop_pid "$daemon_pid"
    start_web
  done
  measured=$(printf '%s\n' "${taken[@]}" | median)
}

run_mode() {  # run_mode true|false: the median seconds go to $measured
  measure_outages "$1"
}

log "fast_confirm: true"
run_mode true
fast=$measured
log "fast_confirm: false"
run_mode false
slow=$measured

# A single lying domain, fast confirmation on: never unhealthy.
write_config true
bench_daemon "$work/confirm.yaml" "http://127.0.0.1:$port"
lie_seen=nan
if [[ $(wait_for healthy 60) != nan ]]; then
  stop_pid "${dns_pid[2]}"
  start_resolver 2 127.0.0.71
  lie_seen=none
  deadline=$((SECONDS + lie_seconds))
  while ((SECONDS < deadline)); do
    state=$(verdict)
    if [[ $state == unhealthy ]]; then lie_seen=unhealthy; break; fi
    [[ $state == disputed ]] && lie_seen=disputed
    sleep 0.2
  done
fi
rounds=$(curl -fs "http://127.0.0.1:$port/metrics" | awk '/^crosscheck_fast_confirm_rounds_total / { print $2 }')
log "  one lying domain for ${lie_seconds}s: worst verdict seen $lie_seen, rounds started ${rounds:-?}"
stop_pid "$daemon_pid"

ratio=$(ratio "$fast" "$slow")
log "  median seconds to unhealthy: fast_confirm on $fast, off $slow (ratio $ratio)"
ok=$(met "$fast <= 15")
[[ $lie_seen == unhealthy || $lie_seen == nan ]] && ok=no
row 10 "seconds from a real outage (all 3 domains) to unhealthy, interval 10s, fall 3; one lying domain: $lie_seen" \
  "$fast s" "same daemon with fast_confirm: false (Route 53 fast checks: 30 s)" \
  "$slow s" "$ratio" "at most 15 s, a lying domain never unhealthy" "$ok"
