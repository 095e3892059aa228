#!/usr/bin/env bash
# Rows 1 and 2 of bench/run.sh: the CPU cost of one probe, crosscheck against
# references measured in the same run on the same machine.
#   row 1 (dns):  crosscheck's prober, N targets x M vantages of `dns:` checks
#                 against a local dnsmasq, versus dnsperf at the same rate on
#                 the same server, and versus prometheus-blackbox-exporter's
#                 dns module (same server, name type, UDP, IPv4) driven
#                 through /probe by wrk.
#   row 2 (http): crosscheck's prober, `http:` checks of tN.web.test, which
#                 the vantage's resolver (the dnsmasq) resolves to a local
#                 nginx, versus blackbox_exporter's http module GETting the
#                 same URL through /probe. The exporter runs in a private
#                 mount namespace whose /etc/resolv.conf names the same
#                 dnsmasq, so it resolves the same host name there (one A
#                 query: ip4, no fallback; ours asks A and AAAA). Detail on
#                 stderr: the exporter with an IP-literal URL (no DNS) and
#                 with A + AAAA (ip4 preferred, fallback on).
# Our figure is the prober's own CPU (getrusage) per completed probe; the
# exporter's is its process CPU (/proc/PID/stat utime+stime) per completed
# /probe request. ROW lines on stdout, detail on stderr. Loopback only
# (127.0.0.82, 127.0.0.83, and 127.0.0.85 port 53: resolv.conf cannot name
# another port); every process started here is stopped on exit.
# Usage: bench/probe_cost.sh [dns|http|all]
# Env: BENCH_SECONDS (measurement window per figure, default 10),
#      BENCH_BUILD_DIR (use binaries already built there; default: build
#      the release preset).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
what=${1:-all}
seconds=${BENCH_SECONDS:-10}
case $what in dns | http | all) ;; *) echo "usage: $0 [dns|http|all]" >&2; exit 2 ;; esac

dns_targets=1000 dns_vantages=5      # 5000 DNS probes/s at a 1 s interval
http_targets=300 http_vantages=3     # 900 HTTP probes/s (each with its DNS queries)
daemon_dns_targets=1000 daemon_vantages=3  # the whole daemon: 3000 DNS probes/s
interval_ms=1000
wrk_connections=2                    # the exporter's driver: fixed concurrency
resolver=127.0.0.85:53 web=127.0.0.82:8082 exporter=127.0.0.83:9583

bench_name=probe_cost bench_targets=probe_throughput
bench_prepare dnsmasq-base dnsperf nginx wrk prometheus-blackbox-exporter curl util-linux

if [[ -n $(ss -Hlun "src ${resolver%:*}" "sport = :${resolver#*:}") ]]; then
  log "$resolver is taken: $(ss -Hlunp "src ${resolver%:*}" "sport = :${resolver#*:}")"
  exit 1
fi
# tN.bench.test (DNS row) and tN.web.test (HTTP row, nginx's address).
bench_dnsmasq "${resolver%:*}" "${resolver#*:}" "bench.test/192.0.2.1 web.test/${web%:*}"
dnsmasq_pid=$!

mkdir -p "$work/www"
echo ok > "$work/www/probe.txt"
bench_nginx nginx "listen $web; root $work/www;"

cat > "$work/blackbox.yml" <<YAML
modules:
  dns_bench:            # our dns: check: t0.bench.test A over UDP, IPv4
    prober: dns
    timeout: 2s
    dns:
      transport_protocol: udp
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      query_name: t0.bench.test
      query_type: A
  http_bench:           # our http: check: GET, any 2xx (200 here); a host name costs one A query
    prober: http
    timeout: 2s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      valid_status_codes: [200]
  http_bench_a_aaaa:    # detail only: the same, asking A and AAAA as ours does
    prober: http
    timeout: 2s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: true
      valid_status_codes: [200]
YAML
# The exporter resolves through its /etc/resolv.conf: in a mount namespace of
# its own, that is a file naming our dnsmasq (the real one is not touched).
echo "nameserver ${resolver%:*}" > "$work/resolv.conf"
# shellcheck disable=SC2016 # $1 and $@ are the inner shell's
bench_start unshare --mount --propagation private sh -c \
  'conf=$1; shift; mount --bind "$conf" /etc/resolv.conf && exec /usr/bin/prometheus-blackbox-exporter "$@"' sh \
  "$work/resolv.conf" --config.file="$work/blackbox.yml" --web.listen-address="$exporter" \
  --log.level=warn 2>"$work/blackbox.log"
exporter_pid=$!

# Counts /probe answers that report success, for the exporter's figure.
cat > "$work/count.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; failed = 0 end
function response(status, headers, body)
  if status == 200 and body:find("\nprobe_success 1", 1, true) then ok = ok + 1 else failed = failed + 1 end
end
function done(summary, latency, requests)
  local o, f = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); f = f + t:get("failed") end
  io.write(string.format("probes_ok=%d probes_failed=%d\n", o, f))
end
LUA

for _ in $(seq 50); do
  curl -fs "http://$web/probe.txt" >/dev/null 2>&1 &&
    curl -fs "http://$exporter/probe?module=dns_bench&target=$resolver" 2>/dev/null |
      grep -q '^probe_success 1' && break
  sleep 0.2
done

# Drives the exporter's /probe for BENCH_SECONDS at fixed concurrency after a
# 1 s warm-up; prints "<CPU us per probe> <probes/s>", detail on stderr.
exporter_cost() {
  local url="http://$exporter/probe?module=$1&target=$2" before after out ok failed
  curl -fs "$url" | grep -q '^probe_success 1' || { log "blackbox $1 probe fails: $(curl -s "$url" | grep -v '^#')"; return 1; }
  wrk -t1 -c"$wrk_connections" -d1s "$url" >/dev/null
  before=$(cpu_seconds "$exporter_pid")
  out=$(wrk -t1 -c"$wrk_connections" -d"${seconds}s" -s "$work/count.lua" "$url")
  after=$(cpu_seconds "$exporter_pid")
  ok=$(sed -n 's/.*probes_ok=\([0-9]*\).*/\1/p' <<<"$out")
  failed=$(sed -n 's/.*probes_failed=\([0-9]*\).*/\1/p' <<<"$out")
  if ((ok + failed == 0)); then log "blackbox_exporter $1: no probe completed"; return 1; fi
  log "blackbox_exporter $1 ($2): $ok probes ok, $failed failed in ${seconds}s, $wrk_connections connections, $(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.2f", b - a }') CPU s"
  awk -v a="$before" -v b="$after" -v n="$((ok + failed))" -v s="$seconds" \
    'BEGIN { printf "%.2f %.0f\n", (n > 0 ? (b - a) * 1e6 / n : 0), n / s }'
}

# Runs probe_throughput; leaves its key=value figures in the array `ours`.
declare -A ours
our_cost() {
  local out key value
  out=$("$build/bench/probe_throughput" --seconds "$seconds" --interval-ms "$interval_ms" \
    --resolver "$resolver" "$@")
  log "crosscheck: $(tr '\n' ' ' <<<"$out")"
  ours=()
  while IFS='=' read -r key value; do ours[$key]=$value; done <<<"$out"
  if ((ours[up] < ours[probes] * 99 / 100)); then
    log "WARNING: only ${ours[up]} of ${ours[probes]} probes were up: the figure is not a healthy run's"
  fi
}

# The whole daemon as users run it: `crosscheck run` with TARGETS x
# VANTAGES checks (each vantage its own failure domain, all through the
# dnsmasq) every 1 s; its process CPU (/proc/PID/stat) over the window /
# probes completed (crosscheck_probes_total). Leaves "<us> <probes/s>"
# in `daemon_figure`. daemon_cost TARGETS VANTAGES CHECK_YAML (%s is the
# target's name).
daemon_cost() {
  local targets=$1 vantages=$2 check=$3 port=$((9600 + RANDOM % 300)) before after ticks_a ticks_b
  local config=$work/daemon.yaml
  bench_config "$config" "127.0.0.83:$port" 1s 900ms 4096 100000 \
    "$(vantages_yaml "$(for _ in $(seq "$vantages"); do printf '%s ' "$resolver"; done)")" \
    "$(awk -v n="$targets" -v check="$check" 'BEGIN {
      for (i = 0; i < n; i++) { c = check; gsub(/%s/, "t" i, c); printf "{ name: t%d, %s }\n", i, c }
    }')"
  bench_daemon "$config" "http://127.0.0.83:$port"
  local pid=$daemon_pid
  sleep 5  # warm-up: the first turns are phased over the interval
  bench_scrape "$work/d_before.prom"
  ticks_a=$(cpu_ticks "$pid")
  local started
  started=$(mono_now)
  sleep "$seconds"
  ticks_b=$(cpu_ticks "$pid")
  local elapsed
  elapsed=$(seconds_between "$started" "$(mono_now)")
  bench_scrape "$work/d_after.prom"
  local rss
  rss=$(status_mb "$pid" VmRSS 2>/dev/null || echo '?')
  perf_profile "$pid" "$seconds" "row1_2_daemon_${check%%:*}"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  local probes up
  probes=$(delta crosscheck_probes_total "$work/d_before.prom" "$work/d_after.prom")
  up=$(($(awk '/^crosscheck_probes_total\{/ && /outcome="up"/ { s += $NF } END { printf "%.0f", s }' "$work/d_after.prom") -
    $(awk '/^crosscheck_probes_total\{/ && /outcome="up"/ { s += $NF } END { printf "%.0f", s }' "$work/d_before.prom")))
  log "crosscheck run: $probes probes ($up up) in ${elapsed}s, $(cpu_percent "$ticks_a" "$ticks_b" "$elapsed")% of a core, RSS $rss MB"
  if ((up < probes * 99 / 100)); then
    log "WARNING: only $up of $probes probes were up: the figure is not a healthy run's"
  fi
  # Why nan without probes: 0 us a probe would be a ratio of 0, met.
  daemon_figure=$(awk -v a="$ticks_a" -v b="$ticks_b" -v hz="$(getconf CLK_TCK)" -v n="$probes" -v s="$elapsed" \
    'BEGIN { if (n > 0) printf "%.1f %.0f\n", (b - a) / hz * 1e6 / n, n / s; else print "nan 0" }')
}

if [[ $what == dns || $what == all ]]; then
  log "row 1: $dns_targets targets x $dns_vantages vantages of dns: checks every ${interval_ms} ms, ${seconds}s"
  before=$(cpu_seconds "$dnsmasq_pid")
  our_cost --targets "$dns_targets" --vantages "$dns_vantages"
  after=$(cpu_seconds "$dnsmasq_pid")
  log "dnsmasq answering them: $(awk -v a="$before" -v b="$after" -v n="${ours[probes]}" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }') us CPU per query"
  us=$(printf '%.1f' "${ours[cpu_us_per_probe]}")

  for t in $(seq 0 $((dns_targets - 1))); do echo "t$t.bench.test A"; done > "$work/queries.txt"
  rate=$(awk -v r="${ours[probes_per_second]}" 'BEGIN { printf "%d", r + 1 }')
  TIMEFORMAT='%3U %3S'
  { time dnsperf -s "${resolver%:*}" -p "${resolver#*:}" -d "$work/queries.txt" -l "$seconds" \
      -Q "$rate" -c 1 >"$work/dnsperf.log" 2>&1; } 2>"$work/dnsperf.time"
  queries=$(awk '/Queries completed:/ { print $3 }' "$work/dnsperf.log")
  perf_us=$(awk -v n="$queries" '{ printf "%.1f", (n > 0 ? ($1 + $2) * 1e6 / n : 0) }' "$work/dnsperf.time")
  log "dnsperf: $queries queries in ${seconds}s at up to $rate/s, CPU $(cat "$work/dnsperf.time") s (user sys), $perf_us us per query"
  box=$(exporter_cost dns_bench "$resolver")
  read -r box_us box_rate <<<"$box"
  log "row 1: the whole daemon, $daemon_dns_targets targets x $daemon_vantages vantages of dns: checks every 1 s"
  daemon_cost "$daemon_dns_targets" "$daemon_vantages" "dns: { name: %s.bench.test }"
  read -r run_us run_rate <<<"$daemon_figure"

  measured="DNS probe cost ($dns_targets x $dns_vantages dns: checks, UDP A, loopback dnsmasq)"
  row 1 "prober alone (detail): $measured" "$us us CPU/probe" \
    "dnsperf, same server and rate: a bare query loop, the floor" "$perf_us us CPU/query" \
    "$(ratio "$us" "$perf_us")" "none: the floor (ratio = what the check chain adds)" "-"
  row 1 "prober alone (detail): $measured" "$us us CPU/probe" \
    "blackbox_exporter dns module via /probe, same server and name ($box_rate probes/s)" \
    "$box_us us CPU/probe" "$(ratio "$us" "$box_us")" "none: the row is the whole daemon" "-"
  box_ratio=$(ratio "$run_us" "$box_us")
  row 1 "whole \`crosscheck run\` CPU per DNS probe ($daemon_dns_targets x $daemon_vantages dns: checks every 1 s, $run_rate probes/s; engine, storage, metrics, publication included)" \
    "$run_us us CPU/probe" \
    "blackbox_exporter dns module via /probe, same server and name ($box_rate probes/s)" \
    "$box_us us CPU/probe" "$box_ratio" "ratio <= 0.08" "$(met "$box_ratio <= 0.08")"
fi

if [[ $what == http || $what == all ]]; then
  url="http://{target}.web.test:${web#*:}/probe.txt"
  log "row 2: $http_targets targets x $http_vantages vantages of http: checks ($url) every ${interval_ms} ms, ${seconds}s"
  before=$(cpu_seconds "$dnsmasq_pid")
  our_cost --targets "$http_targets" --vantages "$http_vantages" --http-url "$url"
  after=$(cpu_seconds "$dnsmasq_pid")
  log "dnsmasq answering them: $(awk -v a="$before" -v b="$after" -v n="${ours[probes]}" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }') us CPU per probe (A + AAAA)"
  us=$(printf '%.1f' "${ours[cpu_us_per_probe]}")
  # The same host name through the same dnsmasq: one A query per /probe.
  box=$(exporter_cost http_bench "http://t0.web.test:${web#*:}/probe.txt")
  read -r box_us box_rate <<<"$box"
  # Detail: A + AAAA (the queries ours makes), and an IP literal (no DNS).
  read -r dual_us _ <<<"$(exporter_cost http_bench_a_aaaa "http://t0.web.test:${web#*:}/probe.txt")"
  read -r literal_us _ <<<"$(exporter_cost http_bench "http://$web/probe.txt")"
  log "blackbox_exporter http per probe: $box_us us (host name, A), $dual_us us (host name, A + AAAA), $literal_us us (IP literal, no DNS); ours $us us (A + AAAA)"
  log "row 2: the whole daemon, $http_targets targets x $http_vantages vantages of http: checks every 1 s"
  daemon_cost "$http_targets" "$http_vantages" "http: { url: \"http://%s.web.test:${web#*:}/probe.txt\" }"
  read -r run_us run_rate <<<"$daemon_figure"
  row 2 "prober alone (detail): HTTP probe cost ($http_targets x $http_vantages http: checks of tN.web.test, A and AAAA through a loopback dnsmasq, GET from loopback nginx)" \
    "$us us CPU/probe" \
    "blackbox_exporter http module via /probe, same host name, one A query ($box_rate probes/s)" \
    "$box_us us CPU/probe" "$(ratio "$us" "$box_us")" "none: the row is the whole daemon" "-"
  box_ratio=$(ratio "$run_us" "$box_us")
  row 2 "whole \`crosscheck run\` CPU per HTTP probe ($http_targets x $http_vantages http: checks of tN.web.test every 1 s, $run_rate probes/s; resolved by a loopback dnsmasq, A and AAAA; GET of a small file from loopback nginx)" \
    "$run_us us CPU/probe" \
    "blackbox_exporter http module via /probe, same host name through the same dnsmasq (ip4, no fallback: one A query), same nginx file ($box_rate probes/s)" \
    "$box_us us CPU/probe" "$box_ratio" "ratio <= 0.15" \
    "$(met "$box_ratio <= 0.15")"
fi
