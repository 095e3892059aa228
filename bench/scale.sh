#!/usr/bin/env bash
# Footprint at scale: 10,000 DNS-only targets x 5 vantages (5 failure
# domains, 5 resolver addresses of one local dnsmasq that answers every name)
# every 10 s, i.e. 5,000 probes/s. After a warm-up (first turns are phased
# over the interval) it measures, over a window: peak and current RSS, CPU
# of one core, probes started per second, the p99 probe start lateness, and
# the growth of the SQLite data dir (row 4); then the disk written a day
# (row 9: write_bytes between and across summary period boundaries).
# Loopback only (127.0.77.x).
# Usage: bench/scale.sh [WINDOW_SECONDS] [WARMUP_SECONDS]
#        (TARGETS=N overrides 10,000, for a lighter run)
# Env: BENCH_SECONDS (the window unless WINDOW_SECONDS is given; default
#      60), BENCH_QUICK=1 (warm-up 10 s, one interval, instead of 20 s),
#      BENCH_BUILD_DIR / BENCH_BIN (prebuilt binaries, see bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
window=${1:-${BENCH_SECONDS:-60}}
if [[ ${BENCH_QUICK:-} == 1 ]]; then warmup=${2:-10}; else warmup=${2:-20}; fi
targets=${TARGETS:-10000}
vantages=5
# shellcheck disable=SC2119 # no extra package to install
bench_prepare

fleet_config 127.0.77 5399 9597 "$targets" 10
bench_dnsmasq "$resolver_ips" 5399 bench.test/127.0.0.1
# One-minute summaries so that row 9 can measure a period's boundary (below).
echo "storage: { summary_period: 1m }" >> "$work/crosscheck.yaml"
log "scale: $targets targets x $vantages vantages every 10 s; warm-up ${warmup}s, window ${window}s"
bench_daemon "$work/crosscheck.yaml" "$fleet_api"
sleep "$warmup"
fleet_measure "$window" $((targets * vantages / 10))

# Row 9: what the disk is written a day = the steady rate between summary
# period boundaries + what each boundary costs (every pair's summary row and
# newest row) x boundaries a day. Measured with one-minute periods: a
# window inside a minute (from :05 to :50), then one across a boundary
# (from :55 to :20 of the next minute: every pair is probed within 10 s of
# it, so all of its writes fall inside).
until_second() {  # sleeps until the wall clock's second of the minute is $1
  local now
  now=$(date +%s.%N)
  sleep "$(awk -v now="$now" -v at="$1" 'BEGIN { s = now % 60; d = at - s; if (d <= 0) d += 60; printf "%.3f", d }')"
}
# Why the file system is checked: on tmpfs nothing reaches a disk,
# write_bytes stays 0 and the row would read "0 MB a day, met".
data_fs=$(stat -f -c %T "$work/data")
until_second 5
steady_a=$(written_bytes "$daemon_pid")
db_steady_a=$(dir_bytes "$work/data")
sleep 45
steady_b=$(written_bytes "$daemon_pid")
db_steady_b=$(dir_bytes "$work/data")
until_second 55
boundary_a=$(written_bytes "$daemon_pid")
db_a=$(dir_bytes "$work/data")
sleep 25
boundary_b=$(written_bytes "$daemon_pid")
db_b=$(dir_bytes "$work/data")
read -r steady_per_s boundary_bytes per_day_mb per_day_5m_mb < <(awk \
  -v sa="$steady_a" -v sb="$steady_b" -v ba="$boundary_a" -v bb="$boundary_b" 'BEGIN {
    rate = (sb - sa) / 45; cost = (bb - ba) - rate * 25; if (cost < 0) cost = 0
    printf "%.0f %.0f %.0f %.0f\n", rate, cost, (rate * 86400 + cost * 24) / 1e6, (rate * 86400 + cost * 288) / 1e6
  }')
log "  disk: ${steady_per_s} B/s between summary boundaries, $((boundary_bytes / 1024)) KiB at each boundary (write_bytes);" \
  "a day: ${per_day_mb} MB with summary_period 1h (the default), ${per_day_5m_mb} MB with 5m"
# The database at the default retention (7 days, summary_period 1h): what
# it holds now, plus its steady growth for a week, plus what one boundary
# added (every pair's summary row) 24 x 7 times, the boundary's share of
# steady growth taken out. Nothing deleted in the week: an upper bound,
# unless SQLite wrote a boundary into pages it had free (then the next
# boundaries need pages of their own, and the figure is low by as much).
db_week_gb=$(awk -v now="$db_b" -v a="$db_a" -v sa="$db_steady_a" -v sb="$db_steady_b" 'BEGIN {
  steady = (sb - sa) / 45; if (steady < 0) steady = 0
  grow = now - a - steady * 25; if (grow < 0) grow = 0
  printf "%.2f\n", (now + steady * 86400 * 7 + grow * 24 * 7) / 1e9 }')
log "  database: $((db_a / 1024)) KiB -> $((db_b / 1024)) KiB across a boundary; at 7 days about ${db_week_gb} GB; data dir on ${data_fs}"
if [[ $data_fs == tmpfs || $data_fs == ramfs ]] || ((boundary_b == boundary_a)); then
  log "WARNING: the data dir is on ${data_fs} or nothing was written across a boundary: row 9 measured nothing"
  per_day_mb=nan
fi

# The ratio is the farther of the two budgets; met needs both, and the
# load held (fleet_measure).
row 4 "$targets targets x $vantages vantages every 10 s: memory and CPU" \
  "RSS ${hwm} MB peak (${rss} MB now), CPU ${cpu}% of a core, ${per_second} probes/s (wanted $((targets * vantages / 10))), ${skipped} turns skipped, p99 lateness ${p99} ms" \
  "goal" "100 MB / 25% of a core" \
  "$(largest "$(ratio "$hwm" 100)" "$(ratio "$cpu" 25)")" \
  "at most 100 MB and 25% of one core, keeping up with the load" \
  "$(met "$hwm <= 100 && $cpu <= 25 && $load_held == 1")"
row 9 "disk written per day, $targets targets x $vantages vantages every 10 s, summary_period 1h (write_bytes: steady rate x a day + a boundary's cost x 24); the database at 7 days (its size + a boundary's growth x 168)" \
  "${per_day_mb} MB/day; ${db_week_gb} GB at 7 days" "goal" "1,000 MB/day; 10 GB" "$(ratio "$per_day_mb" 1000)" \
  "at most 1 GB a day, and at most 10 GB at the default retention" \
  "$(met "$per_day_mb <= 1000 && $db_week_gb <= 10")"
