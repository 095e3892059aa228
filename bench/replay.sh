#!/usr/bin/env bash
# Row 7: `crosscheck replay` throughput and memory. Generates a recording of
# LINES observations (default 1,000,000): 200 targets x 5 vantages (5
# failure domains) every 10 s of simulated time, with outages of a few
# targets seen by every domain and one vantage that flaps, so the engine
# changes verdicts, disputes and escalates as it would in an incident.
# Replays it with `--json` into /dev/null and measures observations per
# second (wall time) and the peak RSS; runs a tenth of the file the same
# way, so "memory flat" is the ratio of the two peaks (goal: at most 1.1).
# Nothing on the network.
# Usage: bench/replay.sh [LINES]
# Env: BENCH_QUICK=1 (100,000 lines unless LINES is given),
#      BENCH_BUILD_DIR / BENCH_BIN (prebuilt binaries, see bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bench_name=replay
source bench/lib.sh
if [[ ${BENCH_QUICK:-} == 1 ]]; then lines=${1:-100000}; else lines=${1:-1000000}; fi
targets=200
vantages=5
# shellcheck disable=SC2119 # no extra package to install
bench_prepare time

resolvers="127.0.0.1:53 127.0.0.2:53 127.0.0.3:53 127.0.0.4:53 127.0.0.5:53"
bench_config "$work/crosscheck.yaml" 127.0.0.1:9 10s 2s 64 500 \
  "$(vantages_yaml "$resolvers")" "$(targets_yaml "$targets" bench.test)"

# recording FILE N: N lines, in time order (one round of every pair each
# 10 s). Targets t00001-t00004 are down from every vantage in rounds 10-15
# of every 20 (confirmed, then recovered); vantage v5 says down for
# everything in every 7th round.
recording() {
  awk -v n="$2" -v targets="$targets" -v vantages="$vantages" 'BEGIN {
    start = 1767225600  # 2026-01-01T00:00:00Z
    line = 0
    for (round = 0; line < n; round++) {
      t = start + round * 10
      stamp = strftime("%Y-%m-%dT%H:%M:%SZ", t, 1)
      phase = round % 20
      for (i = 1; i <= targets && line < n; i++) {
        for (v = 1; v <= vantages && line < n; v++) {
          down = (i <= 4 && phase >= 10 && phase < 16) || (v == 5 && round % 7 == 0)
          if (down) {
            printf "{\"t\": \"%s\", \"target\": \"t%05d\", \"vantage\": \"v%d\", \"outcome\": \"down\", \"detail\": \"connect: 192.0.2.%d:443 refused\"}\n", stamp, i, v, i % 250
          } else {
            printf "{\"t\": \"%s\", \"target\": \"t%05d\", \"vantage\": \"v%d\", \"outcome\": \"up\", \"latency_ms\": %d.5, \"answers\": [\"192.0.2.%d\"]}\n", stamp, i, v, 5 + (i + v + round) % 40, i % 250
          }
          line++
        }
      }
    }
  }' > "$1"
}

# replay_run FILE: "<seconds> <peak RSS MB> <output lines>" of one replay.
# Replays FILE; prints "<seconds> <peak RSS MB> <lines out>". The peak is
# the process's own maximum resident set (GNU time's %M, from wait4's
# rusage), not a sample: a peak in the last milliseconds counts.
replay_run() {
  local started ended peak_kb
  started=$(mono_now)
  /usr/bin/time -f '%M' -o "$work/time.out" \
    "$bin" replay "$1" --config "$work/crosscheck.yaml" --json > "$work/out.jsonl"
  ended=$(mono_now)
  peak_kb=$(tail -1 "$work/time.out")
  awk -v a="$started" -v b="$ended" -v kb="$peak_kb" -v out="$(wc -l < "$work/out.jsonl")" \
    'BEGIN { printf "%.3f %.1f %d\n", b - a, kb * 1024 / 1e6, out }'
}

log "generating $lines observations ($targets targets x $vantages vantages every 10 s)"
recording "$work/big.jsonl" "$lines"
recording "$work/small.jsonl" $((lines / 10))
read -r small_s small_mb small_out < <(replay_run "$work/small.jsonl")
read -r big_s big_mb big_out < <(replay_run "$work/big.jsonl")
rate=$(awk -v n="$lines" -v s="$big_s" 'BEGIN { printf "%.0f\n", n / s }')
growth=$(ratio "$big_mb" "$small_mb")
log "  $((lines / 10)) lines: ${small_s}s, peak RSS ${small_mb} MB, $small_out lines out"
log "  $lines lines: ${big_s}s, peak RSS ${big_mb} MB, $big_out lines out"
perf_command replay "$bin" replay "$work/big.jsonl" --config "$work/crosscheck.yaml" --json
if ((big_out == 0)); then
  log "warning: the replay printed nothing: the recording exercised no verdict change"
fi

row 7 "\`crosscheck replay --json\` of $lines observations ($targets targets x $vantages vantages, outages and a flapping vantage)" \
  "$rate observations/s, peak RSS ${big_mb} MB" "goal" "1,000,000 observations/s" \
  "$(ratio "$rate" 1000000)" ">= 1,000,000/s" "$(met "$rate >= 1000000")"
row 7b "replay memory: peak RSS of $lines lines vs a tenth of them" \
  "${big_mb} MB" "$((lines / 10)) lines" "${small_mb} MB" "$growth" "<= 1.10 (flat)" \
  "$(met "$growth <= 1.10")"
