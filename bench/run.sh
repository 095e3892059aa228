#!/usr/bin/env bash
# The one command that runs every benchmark and prints one Markdown table:
# every crosscheck figure next to a reference measured in the same run on
# the same machine, as a ratio (bench/README.md says how to read it).
# Each bench script installs what it compares against, builds what it
# needs, stays on loopback, stops what it started, and prints its result
# rows on stdout as
#   ROW|<row>|<measured>|<crosscheck>|<reference>|<reference figure>|<ratio>|<goal>|<met>
# with its detail on stderr. A script that is missing or fails is reported
# as "not run" and the others still run; the exit status is then 1 (a
# figure, met or not, never makes it fail). Never part of CI.
# Usage: bench/run.sh [--quick] [--perf DIR]
#   --quick     a short run of everything (BENCH_SECONDS=3 unless set)
#   --perf DIR  also profiles (perf record -g) the daemon of rows 1, 2, 3,
#               4, 4b and 6 and `crosscheck replay` of row 7, each in a window
#               of its own after the row's measurement (the figures never
#               carry perf's cost), into a new DIR/crosscheck-perf-<time>;
#               the top functions of each are printed under the table
#               ("Where the time goes")
# Env: BENCH_SECONDS (measurement window per figure; default 10),
#      BENCH_TIMEOUT (seconds one script may take, install and build
#      included; default 1800; soak.sh gets BENCH_SOAK_SECONDS more),
#      BENCH_SOAK_SECONDS (how long soak.sh samples; default 3600, 180
#      with --quick), BENCH_BUILD_DIR (use binaries already built there
#      instead of building the release preset; passed on to every script,
#      see bench/lib.sh).
set -uo pipefail

quick=0
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --perf)
      [[ -n ${2:-} ]] || { echo "usage: bench/run.sh [--quick] [--perf DIR]" >&2; exit 2; }
      # Why a directory of its own, made before the cd below: DIR is the
      # caller's (relative to where they are), and what is printed under
      # the table must be this run's profiles, nothing else found there.
      mkdir -p "$2" || exit 2
      BENCH_PERF=$(cd "$2" && pwd)/crosscheck-perf-$(date -u +%Y%m%dT%H%M%SZ)
      mkdir "$BENCH_PERF" || exit 2
      export BENCH_PERF
      shift
      ;;
    *) echo "usage: bench/run.sh [--quick] [--perf DIR]" >&2; exit 2 ;;
  esac
  shift
done
cd "$(dirname "$0")/.." || exit 2
if ((quick)); then
  export BENCH_SECONDS=${BENCH_SECONDS:-3} BENCH_QUICK=1
else
  export BENCH_SECONDS=${BENCH_SECONDS:-10}
fi
timeout_s=${BENCH_TIMEOUT:-1800}

# Script -> the rows it produces, in table order.
scripts=(probe_cost.sh api_vs_nginx.sh scale.sh scale_100k.sh storm.sh siege.sh replay.sh soak.sh confirm.sh)
declare -A rows_of=([probe_cost.sh]="1, 2" [api_vs_nginx.sh]=3 [scale.sh]="4, 9" [scale_100k.sh]=4b [storm.sh]=5
  [siege.sh]=6 [replay.sh]="7, 7b" [soak.sh]=8 [confirm.sh]=10)
# soak.sh samples for BENCH_SOAK_SECONDS (an hour by default, 3 min with
# --quick) on top of its set-up: its bound is that much longer.
soak_seconds=${BENCH_SOAK_SECONDS:-$( ((quick)) && echo 180 || echo 3600)}

if ((EUID != 0)); then
  echo "bench/run.sh: run as root (the scripts install packages with apt-get)" >&2
  exit 2
fi

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
machine="$(nproc) CPUs (${cpu:-unknown CPU}), Linux $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo '?')"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load=$(cut -d' ' -f1-3 /proc/loadavg)

rows=()
not_run=()
for script in "${scripts[@]}"; do
  path=bench/$script
  if [[ ! -f $path ]]; then
    not_run+=("not run: $path missing (row ${rows_of[$script]})")
    continue
  fi
  echo "== $path (BENCH_SECONDS=$BENCH_SECONDS)" >&2
  script_timeout=$timeout_s
  if [[ $script == soak.sh ]]; then
    script_timeout=$((timeout_s + soak_seconds))
  fi
  out=$(timeout -k 10 "$script_timeout" bash "$path")
  rc=$?
  while IFS= read -r line; do
    if [[ $line == ROW\|* ]] && (($(awk -F'|' '{ print NF }' <<<"$line") == 9)); then
      rows+=("$line")
    elif [[ $line == ROW\|* ]]; then
      not_run+=("ignored: a malformed row from $path (not 9 fields): $line")
    elif [[ -n $line ]]; then
      echo "$path: $line" >&2  # anything else on stdout is detail
    fi
  done <<<"$out"
  if ((rc == 124)); then
    not_run+=("not run: $path failed (timed out after ${script_timeout}s; rows it printed before are kept)")
  elif ((rc != 0)); then
    not_run+=("not run: $path failed (exit $rc, see its stderr above; rows it printed before are kept)")
  fi
done

echo
echo "crosscheck benchmarks, $started: $machine; load average at start $load;" \
  "measurement window ${BENCH_SECONDS}s per figure$( ((quick)) && echo ' (--quick)')"
echo
echo "| row | measured | crosscheck | reference | reference figure | ratio | goal | met |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
if ((${#rows[@]})); then
  printf '%s\n' "${rows[@]}" | sort -t'|' -k2,2n -s |
    awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8, $9 }'
fi
if ((${#not_run[@]})); then
  echo
  printf '%s\n' "${not_run[@]}"
fi
if [[ -n ${BENCH_PERF:-} ]] && compgen -G "$BENCH_PERF/*.txt" >/dev/null; then
  echo
  echo "Where the time goes (perf, in a window of its own after each measurement):"
  for profile in "$BENCH_PERF"/*.txt; do
    echo
    echo '```'
    cat "$profile"
    echo '```'
  done
fi
echo
echo "ratio = crosscheck / reference, both measured in this run on this machine; see bench/README.md."
# A figure never fails the run; a script that is missing or failed does.
((${#not_run[@]} == 0))
