#!/usr/bin/env bash
# Soak (row 8): does anything grow or drift over an hour? 10,000 DNS-only
# targets x 5 vantages (5 failure domains) every 10 s, storage retention
# 10m and history_retention 10m (kept always by default, the verdict and
# escalation history of a flapping fleet grows without end), while one
# failure domain flaps: its resolver (a dnsmasq of its own,
# the other four share one) is paused with SIGSTOP for 30 s and resumed for
# 30 s, every minute, so that domain's probes time out half the time and
# its observations change twice a minute (writes for retention to delete).
# A sample every 60 s, at the end of an answering half (the timed-out
# probes' sockets have closed by then): RSS (VmRSS), open fds (the fewest
# of 5 readings 0.2 s apart: probe sockets come and go), the data
# dir's size (du) and the p99 probe start lateness of the minute (from the
# histogram, bucket-interpolated), and glibc's bytes in use and held free
# (crosscheck_malloc_bytes: live data or fragmentation). The goal, one ROW|8 line with met
# yes/no (the samples on stderr):
#  - RSS and open fds: at most 5 % growth from the first sample (after the
#    warm-up) to the last, as the issue's goal says: growth while buffers
#    and the allocator warm up counts too;
#  - database size: at most 5 % growth over the flat part, from the first
#    sample at or after 10 min (retention has started deleting) to the last;
#    in quick mode, or a run shorter than 20 min, the second half instead
#    (an hour always holds a summary period boundary: every pair's summary
#    row is written then and deleted 10 min later, and its pages reused);
#  - p99 lateness does not drift: the last quarter's p99 is at most 1.5x the
#    first quarter's, or both are at most 5 ms and the last is in the same
#    histogram bucket or a lower one (the buckets there, 0.5, 1, 2.5 and
#    5 ms, are too coarse for a ratio; higher up, a rise past 1.5x inside
#    a wide bucket is drift too, and so is one past the last bucket).
# Loopback only (127.0.85.x).
# Usage: bench/soak.sh   (TARGETS=N overrides 10,000, for a lighter run)
# Env: BENCH_SOAK_SECONDS (how long to sample, a multiple of 60 s, at least
#      120; default 3600, or 180 with BENCH_QUICK=1), BENCH_QUICK=1 (also a
#      10 s warm-up instead of 20 s), BENCH_BUILD_DIR / BENCH_BIN (prebuilt
#      binaries, see bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
if [[ ${BENCH_QUICK:-} == 1 ]]; then
  duration=${BENCH_SOAK_SECONDS:-180} warmup=10
else
  duration=${BENCH_SOAK_SECONDS:-3600} warmup=20
fi
minutes=$((duration / 60))
if ((minutes < 2)); then
  echo "bench/soak.sh: BENCH_SOAK_SECONDS must be at least 120" >&2
  exit 2
fi
# The flat part for the database: after retention's first 10 minutes, or
# the second half of a short run.
if [[ ${BENCH_QUICK:-} == 1 ]]; then
  flat_from=$((minutes * 60 / 2)) flat_rule="the second half, not after 10 min: quick mode"
elif ((minutes < 20)); then
  flat_from=$((minutes * 60 / 2)) flat_rule="the second half, not after 10 min: a run under 20 min"
else
  flat_from=600 flat_rule="after the first 10 min"
fi
flat=$(((flat_from + 59) / 60))  # the first sample at or after flat_from
targets=${TARGETS:-10000}
# shellcheck disable=SC2119 # no extra package to install
bench_prepare

fleet_config 127.0.85 5395 9595 "$targets" 10
echo "storage: { retention: 10m, history_retention: 10m }" >> "$work/crosscheck.yaml"
bench_dnsmasq "${resolver_ips%,*}" 5395 bench.test/127.0.0.1
bench_dnsmasq "${resolver_ips##*,}" 5395 bench.test/127.0.0.1
flapping=$!
log "soak: $targets targets x 5 vantages every 10 s, retention 10m (history_retention 10m), for ${minutes} min after a ${warmup}s warm-up;" \
  "the resolver of domain d5 (${resolver_ips##*,}) silent 30 s / answering 30 s; db flat part: $flat_rule"
bench_daemon "$work/crosscheck.yaml" "$fleet_api"
sleep "$warmup"

sleep_until() {  # sleeps until the epoch second $1
  sleep "$(awk -v at="$1" -v now="$(date +%s.%N)" 'BEGIN { d = at - now; printf "%.3f", (d > 0 ? d : 0) }')"
}
fewest_fds() {  # the fewest open fds of PID in 5 readings 0.2 s apart
  local i n fewest=
  for i in 1 2 3 4 5; do
    n=$(fd_count "$1")
    if [[ -z $fewest ]] || ((n < fewest)); then fewest=$n; fi
    ((i == 5)) || sleep 0.2
  done
  echo "$fewest"
}
rss_at=() fds_at=() db_at=()
sample() {  # sample K: the figures at minute K, scrape in $work/sample-K.prom
  local k=$1 minute_p99=- started=-
  rss_at[k]=$(status_mb "$daemon_pid" VmRSS)
  fds_at[k]=$(fewest_fds "$daemon_pid")
  db_at[k]=$(dir_bytes "$work/data")
  bench_scrape "$work/sample-$k.prom"
  if ((k > 0)); then
    minute_p99=$(lateness_quantile_ms 0.99 "$work/sample-$((k - 1)).prom" "$work/sample-$k.prom")
    started=$(delta crosscheck_probes_started_total "$work/sample-$((k - 1)).prom" "$work/sample-$k.prom")
  fi
  # Live data or fragmentation: glibc's bytes in use and held free (detail).
  # "-" without the family (a sanitizer build, an older binary).
  local malloc_mb=-
  if grep -q '^crosscheck_malloc_bytes{' "$work/sample-$k.prom"; then
    malloc_mb=$(awk -v used="$(metric "$work/sample-$k.prom" 'crosscheck_malloc_bytes{state="in_use"}')" \
      -v free="$(metric "$work/sample-$k.prom" 'crosscheck_malloc_bytes{state="free"}')" \
      'BEGIN { printf "%.1f MB in use, %.1f MB held free", used / 1e6, free / 1e6 }')
  fi
  log "  sample $k ($((k * 60)) s): RSS ${rss_at[k]} MB, fds ${fds_at[k]}, db $((db_at[k] / 1024)) KiB," \
    "p99 lateness ${minute_p99} ms and $started probes started over the last minute; malloc $malloc_mb"
}

t0=$(date +%s)
for ((k = 0; k <= minutes; k++)); do
  sleep_until $((t0 + 60 * k))
  sample "$k"
  ((k < minutes)) || break
  kill -STOP "$flapping"
  sleep_until $((t0 + 60 * k + 30))
  kill -CONT "$flapping"
done
log_classes "$work/sample-0.prom" "$work/sample-$minutes.prom"

growth() {  # percent growth from A to B, one decimal
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == 0) print "nan"; else printf "%.1f\n", (b - a) / a * 100 }'
}
quarter=$((minutes / 4 > 0 ? minutes / 4 : 1))
rss_growth=$(growth "${rss_at[0]}" "${rss_at[minutes]}")
rss_flat_growth=$(growth "${rss_at[flat]}" "${rss_at[minutes]}")
fds_growth=$(growth "${fds_at[0]}" "${fds_at[minutes]}")
db_growth=$(growth "${db_at[flat]}" "${db_at[minutes]}")
first_p99=$(lateness_quantile_ms 0.99 "$work/sample-0.prom" "$work/sample-$quarter.prom")
last_p99=$(lateness_quantile_ms 0.99 "$work/sample-$((minutes - quarter)).prom" "$work/sample-$minutes.prom")
worst=$(awk -v r="$rss_growth" -v f="$fds_growth" -v d="$db_growth" 'BEGIN {
  w = r; if (f > w) w = f; if (d > w) w = d; printf "%.2f\n", 1 + w / 100 }')
first_bucket=$(lateness_bucket_ms "$first_p99")
last_bucket=$(lateness_bucket_ms "$last_p99")
log "  RSS ${rss_growth}% and fds ${fds_growth}% (from sample 0), db ${db_growth}% (from sample $flat: $flat_rule);" \
  "RSS from sample $flat (detail, not judged): ${rss_flat_growth}%;" \
  "p99 lateness ${first_p99} ms (bucket ${first_bucket} ms) in the first $quarter min, ${last_p99} ms (bucket ${last_bucket} ms) in the last $quarter min"

row 8 "soak: $targets targets x 5 vantages every 10 s for $minutes min, one failure domain flapping (30 s silent / 30 s answering), retention 10m and history_retention 10m" \
  "RSS ${rss_at[0]} -> ${rss_at[minutes]} MB (${rss_growth}%), fds ${fds_at[0]} -> ${fds_at[minutes]} (${fds_growth}%), db $((db_at[flat] / 1024)) -> $((db_at[minutes] / 1024)) KiB (${db_growth}%, from $((flat * 60)) s: $flat_rule), p99 lateness ${first_p99} -> ${last_p99} ms (first -> last quarter)" \
  "goal" "flat: < 5% growth; p99 at most 1.5x" "$worst" \
  "RSS, fds and db size grow < 5% (largest last/first is the ratio); last quarter's p99 at most 1.5x the first's, or both at most 5 ms in no higher bucket" \
  "$(met "$rss_growth < 5 && $fds_growth < 5 && $db_growth < 5 && ($last_p99 <= 1.5 * $first_p99 || ($last_bucket <= 5 && $last_bucket <= $first_bucket))")"
