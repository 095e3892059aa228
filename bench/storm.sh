#!/usr/bin/env bash
# Retry storm check: the daemon's outbound packets per second while every
# target answers versus while every target times out, same config, same
# daemon. The daemon runs in its own network namespace, joined by a veth
# pair to a second namespace holding the servers (dnsmasq on three resolver
# addresses, nginx for HTTP); the figure is the daemon side's veth
# tx_packets over each window. "Timing out": the server namespace gets a
# blackhole route to the daemon's address, so queries and SYNs arrive and
# every reply vanishes. Only the namespaces this script creates see traffic.
# Usage: bench/storm.sh [WINDOW_SECONDS] [WARMUP_SECONDS]
#        (TARGETS=N overrides 500; half are DNS-only, half DNS + HTTP)
# Env: BENCH_SECONDS (each window unless WINDOW_SECONDS is given; default
#      30), BENCH_QUICK=1 (warm-up 3 s instead of 10 s),
#      BENCH_BUILD_DIR / BENCH_BIN (prebuilt binaries, see bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
window=${1:-${BENCH_SECONDS:-30}}
if [[ ${BENCH_QUICK:-} == 1 ]]; then warmup=${2:-3}; else warmup=${2:-10}; fi
targets=${TARGETS:-500}
bench_prepare nginx

daemon_ns=cc-storm-oracle
server_ns=cc-storm-servers
bench_netns_add "$daemon_ns"
bench_netns_add "$server_ns"
ip link add cc-storm-o netns "$daemon_ns" type veth peer name cc-storm-s netns "$server_ns"
ip -n "$daemon_ns" addr add 10.77.0.1/24 dev cc-storm-o
for address in 10.77.0.2 10.77.0.3 10.77.0.4 10.77.0.10; do
  ip -n "$server_ns" addr add "$address/24" dev cc-storm-s
done
ip -n "$daemon_ns" link set cc-storm-o up
ip -n "$server_ns" link set cc-storm-s up
in_servers=(ip netns exec "$server_ns")

bench_dnsmasq 10.77.0.2,10.77.0.3,10.77.0.4 53 storm.test/10.77.0.10 "${in_servers[@]}"
mkdir -p "$work/www"
echo ok > "$work/www/index.html"
# nginx's workers run as www-data: let them read the page.
chmod -R a+rX "$work/www"
bench_nginx nginx "listen 10.77.0.10:80 backlog=4096; root $work/www;" "${in_servers[@]}"

bench_config "$work/crosscheck.yaml" 127.0.0.1:9470 1s 800ms 2048 4000 \
  "$(vantages_yaml "10.77.0.2:53 10.77.0.3:53 10.77.0.4:53")" \
  "$(targets_yaml "$targets" storm.test 'http: { url: "http://%s/" }')"
log "storm: $targets targets (half DNS-only, half DNS + HTTP) x 3 vantages every 1 s, timeout 800 ms"
bench_daemon "$work/crosscheck.yaml" http://127.0.0.1:9470 ip netns exec "$daemon_ns"
sleep "$warmup"

tx_packets() {
  ip netns exec "$daemon_ns" cat /sys/class/net/cc-storm-o/statistics/tx_packets
}

# Outbound packets per second over one window; the classes of the probes
# that ended in it go to stderr.
# Outbound packets in a window: prints "<packets/s> <packets per probe
# started>". Why per probe too: while every target times out, turns are
# skipped (a probe outlives its interval) and rate-based figures fall by
# themselves; per probe started, a daemon that sent each query three times
# would show it.
measure() {
  bench_scrape "$work/$1-before.prom"
  local packets begun
  begun=$(mono_now)
  packets=$(tx_packets)
  sleep "$window"
  packets=$(($(tx_packets) - packets))
  local elapsed started
  elapsed=$(seconds_between "$begun" "$(mono_now)")
  bench_scrape "$work/$1-after.prom"
  started=$(delta crosscheck_probes_started_total "$work/$1-before.prom" "$work/$1-after.prom")
  log "  $1: $packets packets in ${elapsed}s, $started probes started"
  log_probes "$1" "$work/$1-before.prom" "$work/$1-after.prom"
  log_classes "$work/$1-before.prom" "$work/$1-after.prom"
  awk -v p="$packets" -v s="$elapsed" -v n="$started" \
    'BEGIN { printf "%.1f %s\n", p / s, (n > 0 ? sprintf("%.2f", p / n) : "nan") }'
}

read -r answering answering_per_probe < <(measure answering)
log "  every target answers: $answering packets/s out, $answering_per_probe per probe started"
ip -n "$server_ns" route add blackhole 10.77.0.1/32
sleep 3
read -r timing_out timing_out_per_probe < <(measure timing-out)
log "  every target times out: $timing_out packets/s out, $timing_out_per_probe per probe started"
rate_ratio=$(ratio "$timing_out" "$answering")
probe_ratio=$(ratio "$timing_out_per_probe" "$answering_per_probe")
worst=$(largest "$rate_ratio" "$probe_ratio")
log "  ratio timing-out / answering: $rate_ratio per second, $probe_ratio per probe started (goal at most 1.0 for both)"

row 5 "outbound packets while every target times out ($targets targets x 3 vantages, 1 s), per second and per probe started" \
  "$timing_out pkt/s timing out ($timing_out_per_probe per probe)" "same daemon while every target answers" \
  "$answering pkt/s ($answering_per_probe per probe)" "$worst" "at most 1.0, per second and per probe started" \
  "$(met "$worst <= 1.0")"
