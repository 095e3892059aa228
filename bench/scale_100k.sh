#!/usr/bin/env bash
# Footprint at the largest scale one node is meant for (row 4b): 100,000
# DNS-only targets x 5 vantages (5 failure domains, 5 resolver addresses of
# one local dnsmasq that answers every name) every 60 s, i.e. about 8,333
# probes/s. The same set-up and measurement as row 4 (bench/scale.sh, shared
# in bench/lib.sh: fleet_config, fleet_measure), with a longer interval.
# /readyz answers once every pair was probed (one interval); the warm-up
# after it covers one more full interval and 10 s (first turns are phased
# over the interval; a shorter warm-up would measure the start, not the
# steady state); then over a window: peak RSS (VmHWM, the start included:
# reading the config of 100,000 targets is part of the cost), CPU of one
# core, probes started per second and the p99 probe start lateness.
# Loopback only (127.0.84.x).
# Usage: bench/scale_100k.sh [WINDOW_SECONDS] [WARMUP_SECONDS]
#        (TARGETS=N overrides 100,000, for a lighter run)
# Env: BENCH_SECONDS (the window unless WINDOW_SECONDS is given; default
#      60, one interval), BENCH_BUILD_DIR / BENCH_BIN (prebuilt binaries,
#      see bench/lib.sh). BENCH_QUICK does not shorten the warm-up (70 s).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
interval=60
window=${1:-${BENCH_SECONDS:-60}}
warmup=${2:-$((interval + 10))}
targets=${TARGETS:-100000}
vantages=5
# shellcheck disable=SC2119 # no extra package to install
bench_prepare
# /readyz comes one interval after the config of 100,000 targets is read.
bench_ready_seconds=300

fleet_config 127.0.84 5394 9594 "$targets" "$interval"
bench_dnsmasq "$resolver_ips" 5394 bench.test/127.0.0.1
log "scale_100k: $targets targets x $vantages vantages every $interval s; warm-up ${warmup}s, window ${window}s"
started=$(mono_now)
bench_daemon "$work/crosscheck.yaml" "$fleet_api"
log "  ready after $(seconds_between "$started" "$(mono_now)") s, RSS $(status_mb "$daemon_pid" VmRSS) MB"
sleep "$warmup"
fleet_measure "$window" $((targets * vantages / interval))

# The ratio is the farthest of the three budgets; met needs all three and
# the load held (fleet_measure).
row 4b "$targets targets x $vantages vantages every $interval s: memory, CPU and lateness" \
  "RSS ${hwm} MB peak (${rss} MB now), CPU ${cpu}% of a core, ${per_second} probes/s (wanted $((targets * vantages / interval))), ${skipped} turns skipped, p99 lateness ${p99} ms" \
  "goal" "1,000 MB (1 GB) / 100% of a core / p99 1,000 ms" \
  "$(largest "$(ratio "$hwm" 1000)" "$(ratio "$cpu" 100)" "$(ratio "$p99" 1000)")" \
  "below 1 GB, one core and a p99 lateness of 1 s, keeping up with the load" \
  "$(met "$hwm < 1000 && $cpu < 100 && $p99 < 1000 && $load_held == 1")"
