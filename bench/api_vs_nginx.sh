#!/usr/bin/env bash
# Verdict API throughput against nginx serving the same bytes as a static
# file, same connections and duration, same machine, same run. Starts a
# dnsmasq (so the oracle is really probing), the oracle and nginx on
# loopback, and stops them all. Usage: bench/api_vs_nginx.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
./scripts/install-deps.sh >/dev/null
for tool in wrk nginx; do
  if ! command -v "$tool" >/dev/null; then
    # Keep the package's own service from starting: this script runs its own.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
    rm -f /usr/sbin/policy-rc.d
  fi
done
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target crosscheck >/dev/null
bin=$PWD/build/release/daemon/crosscheck
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

/usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
  --bind-interfaces --listen-address=127.0.0.91 --port=5391 --local=/test/ \
  --host-record=web.test,127.0.0.1 --local-ttl=60 --pid-file= --user=root --log-facility=/dev/null &
pids+=($!)
cat > "$work/crosscheck.yaml" <<YAML
node: { name: bench, data_dir: $work/data }
api: { listen: 127.0.0.1:9591 }
defaults: { interval: 1s, timeout: 500ms, stale_after: 5s }
vantages:
  - { name: a, domain: a, resolver: "127.0.0.91:5391" }
  - { name: b, domain: b, resolver: "127.0.0.91:5391" }
  - { name: c, domain: c, resolver: "127.0.0.91:5391" }
targets:
  - { name: web, dns: { name: web.test } }
YAML
mkdir -p "$work/data"
"$bin" run --config "$work/crosscheck.yaml" --log-level warn &
pids+=($!)
for _ in $(seq 50); do curl -fs http://127.0.0.1:9591/readyz >/dev/null 2>&1 && break; sleep 0.2; done
mkdir -p "$work/www"
curl -fs http://127.0.0.1:9591/v1/verdicts/web > "$work/www/web.json"
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen 127.0.0.1:9592; root $work/www; location / { default_type application/json; } }
}
NGINX
nginx -c "$work/nginx.conf" &
pids+=($!)
sleep 0.5
bytes=$(wc -c < "$work/www/web.json")
echo "GET /v1/verdicts/web ($bytes bytes), $connections connections, ${seconds}s, 1 wrk thread each"
ours=$(wrk -t1 -c"$connections" -d"${seconds}s" http://127.0.0.1:9591/v1/verdicts/web | awk '/Requests\/sec/ {print $2}')
theirs=$(wrk -t1 -c"$connections" -d"${seconds}s" http://127.0.0.1:9592/web.json | awk '/Requests\/sec/ {print $2}')
printf '%-40s %12s\n' "" "requests/s"
printf '%-40s %12.0f\n' "crosscheck API (probing running)" "$ours"
printf '%-40s %12.0f\n' "nginx, same bytes as a static file" "$theirs"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "ratio crosscheck/nginx: %.2f (goal 0.80)\n", a / b }'
