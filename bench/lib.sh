# shellcheck shell=bash
# Shared parts of the bench/*.sh scripts (sourced, not run): installing and
# building, starting and always stopping what a script starts (processes,
# network namespaces, a temp dir), reading a process's CPU and memory from
# /proc, scraping /metrics, and printing result rows for bench/run.sh.
# Never sends traffic anywhere but loopback or namespaces a script created.
#
# Environment: BENCH_BUILD_DIR=DIR uses binaries already built in DIR
# (DIR/daemon/crosscheck, DIR/bench/probe_throughput); BENCH_BIN=/path/to/
# crosscheck uses that daemon binary. Without them the release preset is
# built. BENCH_SECONDS (measurement window) and BENCH_QUICK (short warm-up)
# are read by the scripts themselves.
# BENCH_PERF=DIR (bench/run.sh --perf DIR) records a `perf` profile of the
# measured process in a window of its own after each measurement that calls
# perf_profile (DIR/<name>.data), and writes its top functions to
# DIR/<name>.txt and stderr. BENCH_PERF_CALLGRAPH=dwarf unwinds each
# sample's stack from a copy of it (perf --call-graph dwarf, 99 samples a
# second): slower and larger, but a function's share with what it calls
# is whole for stacks up to 32 KB (deeper ones are cut, so a root may be
# listed twice), and NAME.txt also lists the top functions by that share.
# Variables a script may set before bench_prepare: bench_name (prefix of its
# log lines), bench_targets (CMake targets it needs; default crosscheck),
# bench_ready_seconds (how long bench_daemon waits for /readyz).

log() { printf '%s\n' "${bench_name:+$bench_name: }$*" >&2; }

# Installs the Debian packages named that are missing, with a policy-rc.d
# that keeps their services from starting (the scripts run their own); a
# policy-rc.d that was there before is left as it was.
bench_install() {
  local missing=() package own_policy=0 status=0
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  ((${#missing[@]} > 0)) || return 0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    status=$?
  if ((own_policy)); then
    rm -f /usr/sbin/policy-rc.d
  fi
  return "$status"
}

# Installs the project's packages and any extra Debian packages named;
# builds (or finds) what the script needs: $build is the build dir, $bin the
# daemon. Makes the temp dir $work (readable by nginx's workers) and arms
# the clean-up.
bench_prepare() {
  ./scripts/install-deps.sh >/dev/null
  bench_install "$@"
  if [[ -n ${BENCH_PERF:-} ]]; then bench_install linux-perf; fi
  local -a cmake_targets
  read -ra cmake_targets <<<"${bench_targets:-crosscheck}"
  if [[ -n ${BENCH_BUILD_DIR:-} ]]; then
    build=$BENCH_BUILD_DIR
  elif [[ -n ${BENCH_BIN:-} && ${cmake_targets[*]} == crosscheck ]]; then
    build=
  else
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$(nproc)" --target "${cmake_targets[@]}" >/dev/null
    build=$PWD/build/release
  fi
  bin=${BENCH_BIN:-$build/daemon/crosscheck}
  # Thousands of probe sockets and API connections: more than the usual 1024.
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  work=$(mktemp -d /tmp/crosscheck-bench.XXXXXX)
  chmod 755 "$work"  # nginx workers (www-data) read files under it
  bench_pids=()
  bench_netns=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# Stops every process started with bench_start (resumed first: a script
# may have paused one with SIGSTOP, and a stopped process would never act on
# the TERM), deletes the namespaces made with bench_netns_add and the temp dir.
bench_cleanup() {
  local pid ns
  for pid in "${bench_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true
  done
  for pid in "${bench_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  for ns in "${bench_netns[@]}"; do
    ip netns delete "$ns" 2>/dev/null || true
  done
  rm -rf "$work"
}

# Runs a command in the background, remembered for clean-up; $! is its pid.
bench_start() {
  "$@" &
  bench_pids+=($!)
}

# Creates a network namespace (removed on exit) with its loopback up.
bench_netns_add() {
  ip netns delete "$1" 2>/dev/null || true
  ip netns add "$1"
  bench_netns+=("$1")
  ip -n "$1" link set lo up
}

# dnsmasq answering every name under each DOMAIN with its ADDRESS, listening
# on the comma-separated LISTEN addresses at PORT: bench_dnsmasq LISTEN PORT
# "DOMAIN/ADDRESS[ DOMAIN/ADDRESS...]" [command prefix, e.g. ip netns exec NS].
# $! is its pid.
bench_dnsmasq() {
  local listen=$1 port=$2 mapping
  local -a names=()
  for mapping in $3; do
    names+=(--local="/${mapping%%/*}/" --address="/$mapping")
  done
  shift 3
  bench_start "$@" /usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts \
    --conf-file=/dev/null --bind-interfaces --listen-address="$listen" --port="$port" \
    "${names[@]}" --local-ttl=60 --cache-size=10000 \
    --dns-forward-max=10000 --pid-file= --user=root --log-facility=/dev/null
}

# nginx with one worker serving the server block SERVER (its directives:
# listen, root, ...), config and logs under $work/NAME*: bench_nginx NAME
# SERVER [command prefix]. $! is its pid.
bench_nginx() {
  local name=$1 server=$2
  shift 2
  cat > "$work/$name.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/$name.pid;
error_log $work/$name-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server { $server }
}
NGINX
  bench_start "$@" nginx -c "$work/$name.conf"
}

# Writes the daemon's config: bench_config FILE LISTEN INTERVAL TIMEOUT
# MAX_IN_FLIGHT MAX_PER_SECOND VANTAGES_YAML TARGETS_YAML [STALE_AFTER]
# (VANTAGES_YAML and TARGETS_YAML are lines of YAML flow maps, one vantage
# or target each; STALE_AFTER defaults to 30s and must be at least
# interval + a tenth of it + timeout, or the config is refused).
bench_config() {
  local file=$1 listen=$2 interval=$3 timeout=$4 in_flight=$5 per_second=$6 stale_after=${9:-30s}
  local -a vantage_lines target_lines
  mapfile -t vantage_lines <<<"$7"
  mapfile -t target_lines <<<"$8"
  mkdir -p "$work/data"
  {
    echo "node: { name: bench, data_dir: $work/data }"
    echo "api: { listen: $listen }"
    echo "defaults: { interval: $interval, timeout: $timeout, stale_after: $stale_after }"
    echo "probing: { max_in_flight: $in_flight, max_per_second: $per_second }"
    echo "vantages:"
    printf '  - %s\n' "${vantage_lines[@]}"
    echo "targets:"
    printf '  - %s\n' "${target_lines[@]}"
  } > "$file"
}

# With BENCH_PERF set (bench/run.sh --perf DIR): profiles PID (call
# graphs) for SECONDS into $BENCH_PERF/NAME.data, *after* the measured
# window, so that perf's own cost never enters a figure: call it once the
# figures are read, while the load still runs. Writes the 20 functions with
# the most samples of their own (what that window's CPU went to), to
# $BENCH_PERF/NAME.txt (run.sh prints every one under its table) and to the
# log. Without BENCH_PERF it does nothing.
perf_profile() {
  perf_record "$3" -p "$1" -- sleep "$2"
}

# The same for a command that runs to its end: perf_command NAME CMD...
# (its output is discarded).
perf_command() {
  local name=$1
  shift
  perf_record "$name" -- "$@"
}

# What both share: perf_record NAME PERF_RECORD_ARGS... records into
# $BENCH_PERF/NAME.data and summarizes it (nothing without BENCH_PERF).
perf_record() {
  [[ -n ${BENCH_PERF:-} ]] || return 0
  local name=$1
  shift
  mkdir -p "$BENCH_PERF"
  local -a how=(-F 499 -g)
  if [[ ${BENCH_PERF_CALLGRAPH:-} == dwarf ]]; then how=(-F 99 --call-graph "dwarf,32768"); fi
  if ! perf record -q "${how[@]}" -o "$BENCH_PERF/$name.data" "$@" >/dev/null 2>&1; then
    log "perf record of $name failed (is perf installed, and perf_event_paranoid low enough?)"
    return 0
  fi
  perf_summarize "$name"
}

# Why self time, not with children: the release build has no frame
# pointers, so perf's call chains are short and partly wrong; a function's
# own samples are sound. With BENCH_PERF_CALLGRAPH=dwarf the chains are
# whole up to 32 KB of stack, and the share with children is listed too.
perf_summarize() {
  {
    echo "$1: share of samples by function (self), top 20 ($BENCH_PERF/$1.data)"
    perf report -q -i "$BENCH_PERF/$1.data" --no-children --sort dso,symbol -g none 2>/dev/null |
      awk '$1 ~ /%$/' | head -20 | cut -c1-160
    if [[ ${BENCH_PERF_CALLGRAPH:-} == dwarf ]]; then
      echo "$1: share of samples by function with what it calls (children), top 40"
      perf report -q -i "$BENCH_PERF/$1.data" --children --sort symbol -g none 2>/dev/null |
        awk '$1 ~ /%$/' | head -40 | cut -c1-160
    fi
  } > "$BENCH_PERF/$1.txt" || true
  log "perf profile of $1:"
  sed 's/^/  /' "$BENCH_PERF/$1.txt" >&2
}

# Starts the daemon (optionally under a command prefix) and waits until
# /readyz answers: bench_daemon CONFIG URL [prefix...]. Sets $daemon_pid and
# $api (the base URL) and $ns_exec (the prefix, for curl). Gives up after
# $bench_ready_seconds (default 120; /readyz waits for every pair's first
# probe: one interval plus the timeout after the config is read).
bench_daemon() {
  local config=$1
  api=$2
  shift 2
  ns_exec=("$@")
  bench_start "$@" "$bin" run --config "$config" --log-level warn --log-format text
  daemon_pid=$!
  local deadline=$((SECONDS + ${bench_ready_seconds:-120}))
  until "${ns_exec[@]}" curl -fs -o /dev/null "$api/readyz"; do
    if ((SECONDS > deadline)) || ! kill -0 "$daemon_pid" 2>/dev/null; then
      log "the daemon did not become ready"
      exit 1
    fi
    sleep 0.5
  done
}

# /metrics of the daemon into FILE.
bench_scrape() {
  "${ns_exec[@]}" curl -fsS --max-time 60 -o "$1" "$api/metrics"
}

# The sum of the samples of family NAME (exactly; all label sets) in FILE.
metric() {
  awk -v name="$2" '$1 == name || index($1, name "{") == 1 { sum += $NF } END { printf "%.0f\n", sum }' "$1"
}

# How much family NAME grew between two scrapes: delta NAME BEFORE AFTER.
delta() {
  echo $(($(metric "$3" "$1") - $(metric "$2" "$1")))
}

# Logs what the scheduler did between two scrapes: log_probes LABEL BEFORE AFTER.
log_probes() {
  log "  $1: probes started +$(delta crosscheck_probes_started_total "$2" "$3")," \
    "deferred +$(delta crosscheck_probes_deferred_total "$2" "$3")," \
    "skipped +$(delta crosscheck_probes_skipped_total "$2" "$3")," \
    "in flight peak $(metric "$3" crosscheck_probes_in_flight_peak)"
}

# Logs the probe results by class between two scrapes (crosscheck_probes_total).
log_classes() {
  awk 'FNR == 1 { file++ }
       /^crosscheck_probes_total\{/ {
         match($1, /class="[^"]*"/); class = substr($1, RSTART + 7, RLENGTH - 8)
         n[class] += (file == 1 ? -$NF : $NF)
       }
       END { for (c in n) if (n[c] != 0) printf "    class %s: %d\n", c, n[c] }' "$1" "$2" >&2
}

# Quantile Q of a histogram over the window between two scrapes, in
# milliseconds: histogram_quantile_ms Q BUCKETS BEFORE AFTER, BUCKETS the
# start of its bucket lines up to the `le` label, e.g.
# 'crosscheck_evaluation_duration_seconds_bucket{phase="judge",'. The
# difference of the cumulative bucket counts, interpolated linearly inside
# the bucket that holds the rank (bucket-interpolated, as PromQL's
# histogram_quantile; from 0 inside the first bucket; the highest finite
# bound when the rank is in +Inf).
histogram_quantile_ms() {
  local q=$1 buckets=$2 before=$3 after=$4
  awk -v q="$q" -v prefix="$buckets" '
    FNR == 1 { file++ }
    index($1, prefix) == 1 {
      match($1, /le="[^"]*"/)
      le = substr($1, RSTART + 4, RLENGTH - 5)
      if (file == 1) { start[le] = $NF } else { end[le] = $NF; order[n++] = le }
    }
    END {
      total = end["+Inf"] - start["+Inf"]
      if (total <= 0) { print "nan"; exit }
      rank = q * total
      lower = 0; below = 0
      for (i = 0; i < n; i++) {
        le = order[i]
        count = end[le] - start[le]
        if (le == "+Inf") { printf "%.2f\n", lower * 1000; exit }
        if (count >= rank) {
          inside = count - below
          fraction = inside > 0 ? (rank - below) / inside : 1
          printf "%.2f\n", (lower + (le - lower) * fraction) * 1000
          exit
        }
        lower = le; below = count
      }
    }' "$before" "$after"
}

# Quantile Q of crosscheck_probe_start_lateness_seconds between two scrapes,
# in milliseconds (histogram_quantile_ms).
lateness_quantile_ms() {
  histogram_quantile_ms "$1" 'crosscheck_probe_start_lateness_seconds_bucket{' "$2" "$3"
}

# Logs the service thread's evaluation passes between two scrapes
# (crosscheck_evaluation_duration_seconds): per phase, how many, their mean
# and p99 in ms: log_evaluation LABEL BEFORE AFTER.
log_evaluation() {
  local phase line=""
  for phase in judge publish; do
    local series="crosscheck_evaluation_duration_seconds"
    local stats
    stats=$(awk -v sum="${series}_sum{phase=\"$phase\"}" -v count="${series}_count{phase=\"$phase\"}" '
      FNR == 1 { file++ }
      $1 == sum { s[file] = $NF }
      $1 == count { c[file] = $NF }
      END {
        n = c[2] - c[1]; total = s[2] - s[1]
        if (n <= 0) { print "none"; exit }
        printf "%d passes, mean %.2f ms", n, total / n * 1000
      }' "$2" "$3")
    line+=" $phase: $stats, p99 $(histogram_quantile_ms 0.99 "${series}_bucket{phase=\"$phase\"," "$2" "$3") ms;"
  done
  log "  $1: evaluation passes${line%;}"
}

# The upper bound, in ms, of the probe start lateness bucket that holds
# VALUE ms (the buckets of crosscheck_probe_start_lateness_seconds; 1e12
# for the +Inf bucket, nan for nan). lateness_quantile_ms reports a
# quantile in +Inf as the last bound, 10000: that is +Inf here too.
lateness_bucket_ms() {
  awk -v v="$1" 'BEGIN {
    if (v == "nan" || v == "") { print "nan"; exit }
    n = split("0.5 1 2.5 5 10 25 50 100 250 500 1000 2500 5000", bound, " ")
    for (i = 1; i <= n; i++) if (v + 0 <= bound[i] + 0) { print bound[i]; exit }
    if (v + 0 < 10000) { print 10000; exit }
    print 1e12
  }'
}

# What a wrk report (on stdin) says was answered and what failed, as
# "<requests answered> <answered non-2xx> <socket errors on requests (read,
# write, timeout)> <connections that failed (connect)>". wrk's "N requests"
# counts answers only: a request that timed out is in the errors alone.
wrk_outcome() {
  awk '
    / requests in / { answered = $1 }
    /Non-2xx/ { non2xx += $NF }
    /Socket errors/ {
      for (i = 3; i < NF; i += 2) {
        n = $(i + 1); sub(",", "", n)
        if ($i == "connect") connect += n; else errors += n
      }
    }
    END { printf "%d %d %d %d\n", answered, non2xx, errors, connect }'
}

# CPU ticks (utime + stime) in a /proc stat FILE (a process's or one
# thread's: /proc/PID/task/TID/stat); the fields after the ")" of the name.
stat_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$1"
}

# CPU ticks (utime + stime) of PID, all its threads.
cpu_ticks() {
  stat_ticks "/proc/$1/stat"
}

# CPU seconds (utime + stime) PID has used so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" -v ticks="$(cpu_ticks "$1")" 'BEGIN { print ticks / hz }'
}

# Bytes PID has caused to be written to storage so far (/proc/PID/io
# write_bytes: counted when pages are dirtied, so SQLite's WAL appends and
# its checkpoints into the database file both count).
written_bytes() {
  awk '$1 == "write_bytes:" { print $2 }' "/proc/$1/io"
}

# A /proc/PID/status field in MB (VmHWM, VmRSS): decimal megabytes
# (10^6 bytes), the unit of the goals; /proc says kB for KiB.
status_mb() {
  awk -v field="$2:" '$1 == field { printf "%.1f\n", $2 * 1024 / 1e6 }' "/proc/$1/status"
}

# Seconds since boot with centisecond resolution (/proc/uptime): the clock
# of every measured window. Why not bash's $SECONDS: it counts whole
# seconds, so a 10 s window could read 11 and understate a rate by 10 %.
mono_now() {
  cut -d' ' -f1 /proc/uptime
}

# Seconds between two mono_now readings, two decimals.
seconds_between() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'
}

# Percent of one core used by PID between two cpu_ticks readings over SECONDS.
cpu_percent() {
  awk -v a="$1" -v b="$2" -v s="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f\n", (b - a) / hz / s * 100 }'
}

# A / B with two decimals; nan when either is missing or nan, or B is 0.
ratio() {
  if [[ -z $1 || -z $2 || $1 == *nan* || $2 == *nan* ]]; then
    echo nan
    return
  fi
  awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.2f\n", a / b }'
}

# The largest of several ratios, two decimals; nan when any is missing or
# nan (a row's ratio is its farthest budget: largest A B [C...]).
largest() {
  local value
  for value in "$@"; do
    if [[ -z $value || $value == *nan* ]]; then
      echo nan
      return
    fi
  done
  printf '%s\n' "$@" | awk 'NR == 1 || $1 > w { w = $1 } END { printf "%.2f\n", w }'
}

# yes when the awk condition holds, else no: met "x <= 1.0" (no when a
# figure is missing: nan)
met() {
  [[ $1 == *nan* ]] && { echo no; return; }
  awk "BEGIN { print ($1) ? \"yes\" : \"no\" }"
}

# One result row for bench/run.sh, on stdout:
# row N WHAT OURS REFERENCE REFERENCE_FIGURE RATIO GOAL MET
row() {
  local IFS='|'
  printf 'ROW|%s\n' "$*"
}

# Lines of N targets (YAML flow maps) named tNNNNN resolving NAME.DOMAIN:
# targets N DOMAIN [EXTRA] where EXTRA is added to every other target (an
# http: check, say; %s in it is replaced by the host name).
targets_yaml() {
  awk -v n="$1" -v domain="$2" -v extra="${3:-}" 'BEGIN {
    for (i = 1; i <= n; i++) {
      host = sprintf("t%05d.%s", i, domain)
      more = ""
      if (extra != "" && i % 2 == 0) { more = extra; gsub(/%s/, host, more); more = ", " more }
      printf "{ name: t%05d, dns: { name: %s }%s }\n", i, host, more
    }
  }'
}

# Lines of N vantages, each its own failure domain, the i-th resolving
# through the i-th address of RESOLVERS (space-separated ip:port).
vantages_yaml() {
  local i=0 resolver
  for resolver in $1; do
    i=$((i + 1))
    echo "{ name: v$i, domain: d$i, resolver: \"$resolver\" }"
  done
}

# Open file descriptors of PID (sockets included).
fd_count() {
  find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l
}

# Bytes under DIR (du -sb: the database, its WAL and shared memory file).
dir_bytes() {
  du -sb "$1" | cut -f1
}

# The dns: fleet of rows 4, 4b and 8: TARGETS targets tNNNNN.bench.test x 5
# vantages (5 failure domains), vantage i resolving through PREFIX.i:PORT,
# probed every INTERVAL_SECONDS with a 2 s timeout, API on
# PREFIX.10:API_PORT: fleet_config PREFIX PORT API_PORT TARGETS
# INTERVAL_SECONDS. Writes $work/crosscheck.yaml (a caller may append a
# storage: line before starting the daemon) and sets $resolvers (the 5
# ip:port), $resolver_ips (the 5 addresses, comma-separated, as dnsmasq's
# --listen-address takes them) and $fleet_api (the API's base URL). The
# caller starts the dnsmasq(s) answering bench.test and then bench_daemon.
# Caps: 4096 in flight, twice the steady start rate per second (at least
# 10,000); stale_after twice the interval (at least 30 s).
fleet_config() {
  local prefix=$1 port=$2 api_port=$3 targets=$4 interval=$5 i
  resolvers='' resolver_ips=''
  for i in 1 2 3 4 5; do
    resolvers+="${resolvers:+ }$prefix.$i:$port"
    resolver_ips+="${resolver_ips:+,}$prefix.$i"
  done
  # shellcheck disable=SC2034 # read by the scripts
  fleet_api=http://$prefix.10:$api_port
  local per_second=$((2 * targets * 5 / interval)) stale_after=$((2 * interval))
  ((per_second >= 10000)) || per_second=10000
  ((stale_after >= 30)) || stale_after=30
  bench_config "$work/crosscheck.yaml" "$prefix.10:$api_port" "${interval}s" 2s 4096 "$per_second" \
    "$(vantages_yaml "$resolvers")" "$(targets_yaml "$targets" bench.test)" "${stale_after}s"
}

# Measures the running daemon ($daemon_pid) over WINDOW seconds and logs the
# detail: fleet_measure WINDOW WANTED_PROBES_PER_SECOND. Sets $elapsed
# (seconds), $hwm and $rss (peak and current RSS, MB), $cpu (% of one core
# over the window), $per_second (probes started a second), $skipped (turns
# skipped in the window: the pair's previous probe still ran), $p99 (probe
# start lateness over the window, ms, bucket-interpolated) and $load_held
# (1 when the daemon started at least 99 % of the wanted probes and skipped
# no turn, else 0: a daemon that falls behind does less work, so its CPU and
# its lateness, which counts only the turns started, look better than they
# are; a row is met only with load_held). Leaves the scrapes in
# $work/before.prom and $work/after.prom. With BENCH_PERF, profiles another
# window of the same length after this one (perf_profile).
fleet_measure() {
  local window=$1 wanted=$2 db_before db_after ticks_before ticks_after started
  local probes_started committed dropped
  bench_scrape "$work/before.prom"
  db_before=$(dir_bytes "$work/data")
  ticks_before=$(cpu_ticks "$daemon_pid")
  started=$(mono_now)
  sleep "$window"
  ticks_after=$(cpu_ticks "$daemon_pid")
  elapsed=$(seconds_between "$started" "$(mono_now)")
  hwm=$(status_mb "$daemon_pid" VmHWM)
  rss=$(status_mb "$daemon_pid" VmRSS)
  db_after=$(dir_bytes "$work/data")
  bench_scrape "$work/after.prom"

  cpu=$(cpu_percent "$ticks_before" "$ticks_after" "$elapsed")
  probes_started=$(delta crosscheck_probes_started_total "$work/before.prom" "$work/after.prom")
  skipped=$(delta crosscheck_probes_skipped_total "$work/before.prom" "$work/after.prom")
  per_second=$(awk -v n="$probes_started" -v s="$elapsed" 'BEGIN { printf "%.0f\n", n / s }')
  load_held=$(awk -v got="$per_second" -v want="$wanted" -v skipped="$skipped" \
    'BEGIN { print (got >= 0.99 * want && skipped == 0) ? 1 : 0 }')
  p99=$(lateness_quantile_ms 0.99 "$work/before.prom" "$work/after.prom")
  committed=$(delta crosscheck_storage_writes_committed_total "$work/before.prom" "$work/after.prom")
  dropped=$(delta crosscheck_storage_writes_dropped_total "$work/before.prom" "$work/after.prom")
  log_probes window "$work/before.prom" "$work/after.prom"
  log_evaluation window "$work/before.prom" "$work/after.prom"
  log_classes "$work/before.prom" "$work/after.prom"
  log "  window ${elapsed}s: RSS ${rss} MB (peak ${hwm} MB), CPU ${cpu}% of one core"
  log "  probes started: ${per_second}/s (wanted ${wanted}/s), $skipped turns skipped, p99 start lateness ${p99} ms (bucket-interpolated)"
  if ((load_held == 0)); then
    log "  WARNING: the daemon did not keep up with the load (under 99 % of the wanted starts, or turns skipped): the row is not met, whatever its figures"
  fi
  log "  storage: $committed records committed, $dropped dropped; data dir $((db_before / 1024)) KiB -> $((db_after / 1024)) KiB (+$(((db_after - db_before) / 1024)) KiB)"
  log "  $(find "$work/data" -type f -printf '%f %s B; ')"
  perf_profile "$daemon_pid" "$window" "$(basename "$0" .sh)_fleet"
}
