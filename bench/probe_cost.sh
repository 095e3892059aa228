#!/usr/bin/env bash
# Rows 1 and 2 of bench/run.sh: the CPU cost of one probe, crosscheck against
# references measured in the same run on the same machine.
#   row 1 (dns):  crosscheck's prober, N targets x M vantages of `dns:` checks
#                 against a local dnsmasq, versus dnsperf at the same rate on
#                 the same server, and versus prometheus-blackbox-exporter's
#                 dns module (same server, name type, UDP, IPv4) driven
#                 through /probe by wrk.
#   row 2 (http): crosscheck's prober, `http:` checks whose host names the
#                 vantage's resolver (dnsmasq) resolves to a local nginx,
#                 versus blackbox_exporter's http module GETting the same
#                 nginx file through /probe (IP-literal URL: no DNS).
# Our figure is the prober's own CPU (getrusage) per completed probe; the
# exporter's is its process CPU (/proc/PID/stat utime+stime) per completed
# /probe request. ROW lines on stdout, detail on stderr. Loopback only
# (127.0.0.81-83); every process started here is stopped on exit.
# Usage: bench/probe_cost.sh [dns|http|all]
# Env: BENCH_SECONDS (measurement window per figure, default 10),
#      BENCH_BUILD_DIR (use binaries already built there; default: build
#      the release preset).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
seconds=${BENCH_SECONDS:-10}
case $what in dns | http | all) ;; *) echo "usage: $0 [dns|http|all]" >&2; exit 2 ;; esac

dns_targets=1000 dns_vantages=5      # 5000 DNS probes/s at a 1 s interval
http_targets=300 http_vantages=3     # 900 HTTP probes/s (each with its DNS query)
interval_ms=1000
wrk_connections=2                    # the exporter's driver: fixed concurrency
resolver=127.0.0.81:5381 web=127.0.0.82:8082 exporter=127.0.0.83:9583

log() { echo "probe_cost: $*" >&2; }

# Installs Debian packages without letting their services start.
install_packages() {
  local missing=() p own_policy=0
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  ((own_policy)) && rm -f /usr/sbin/policy-rc.d
  return 0
}

# CPU seconds (user + system) a running process has used so far.
cpu_seconds() {
  awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / tck }' "/proc/$1/stat"
}

# Formatting for ROW lines: ratio = ours / theirs with 2 decimals.
ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
at_most() { if awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a <= b) }'; then echo yes; else echo no; fi; }
row() { local IFS='|'; echo "ROW|$*"; }

install_packages dnsmasq-base dnsperf nginx wrk prometheus-blackbox-exporter curl
if [[ -n ${BENCH_BUILD_DIR:-} ]]; then
  build=$BENCH_BUILD_DIR
else
  cmake --preset release >/dev/null
  cmake --build --preset release --target probe_throughput >&2
  build=$PWD/build/release
fi

work=$(mktemp -d)
chmod 755 "$work"  # nginx workers (not root) read files under it
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# tN.bench.test (DNS row) and tN.web.test (HTTP row, nginx's address).
/usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
  --bind-interfaces --listen-address="${resolver%:*}" --port="${resolver#*:}" \
  --address=/bench.test/192.0.2.1 --address=/web.test/"${web%:*}" --local-ttl=60 \
  --cache-size=10000 --pid-file= --user=root --log-facility=/dev/null &
pids+=($!)
dnsmasq_pid=$!

mkdir -p "$work/www"
echo ok > "$work/www/probe.txt"
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen $web; root $work/www; }
}
NGINX
nginx -c "$work/nginx.conf" &
pids+=($!)

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
  http_bench:           # our http: check: GET, any 2xx (200 here)
    prober: http
    timeout: 2s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      valid_status_codes: [200]
YAML
/usr/bin/prometheus-blackbox-exporter --config.file="$work/blackbox.yml" \
  --web.listen-address="$exporter" --log.level=warn 2>"$work/blackbox.log" &
pids+=($!)
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
  log "blackbox_exporter $1: $ok probes ok, $failed failed in ${seconds}s, $wrk_connections connections, $(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.2f", b - a }') CPU s"
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

  measured="DNS probe cost ($dns_targets x $dns_vantages dns: checks, UDP A, loopback dnsmasq)"
  row 1 "$measured" "$us us CPU/probe" \
    "dnsperf, same server and rate: a bare query loop, the floor" "$perf_us us CPU/query" \
    "$(ratio_of "$us" "$perf_us")" "at most 25 us CPU per probe (absolute; ratio = overhead over the floor)" \
    "$(at_most "$us" 25)"
  row 1 "$measured" "$us us CPU/probe" \
    "blackbox_exporter dns module via /probe, same server and name ($box_rate probes/s)" \
    "$box_us us CPU/probe" "$(ratio_of "$us" "$box_us")" "at least 10x cheaper (ratio <= 0.10)" \
    "$(at_most "$(ratio_of "$us" "$box_us")" 0.10)"
fi

if [[ $what == http || $what == all ]]; then
  url="http://{target}.web.test:${web#*:}/probe.txt"
  log "row 2: $http_targets targets x $http_vantages vantages of http: checks ($url) every ${interval_ms} ms, ${seconds}s"
  our_cost --targets "$http_targets" --vantages "$http_vantages" --http-url "$url"
  us=$(printf '%.1f' "${ours[cpu_us_per_probe]}")
  box=$(exporter_cost http_bench "http://$web/probe.txt")
  read -r box_us box_rate <<<"$box"
  row 2 "HTTP probe cost ($http_targets x $http_vantages http: checks, GET of a small file from loopback nginx; ours includes its DNS query, blackbox's IP-literal URL has none)" \
    "$us us CPU/probe" \
    "blackbox_exporter http module via /probe, same nginx file ($box_rate probes/s)" \
    "$box_us us CPU/probe" "$(ratio_of "$us" "$box_us")" "at least 6x cheaper (ratio <= 0.17)" \
    "$(at_most "$(ratio_of "$us" "$box_us")" 0.17)"
fi
