#!/usr/bin/env bash
# Runs every benchmark and prints its table. Installs what the benchmarks
# compare against (dnsperf, dnsmasq). Loopback only; each run is bounded.
# Usage: bench/run.sh [probe_throughput flags], e.g. --targets 2000 --vantages 5
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
if ! command -v dnsperf >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dnsperf
fi
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target probe_throughput
build/release/bench/probe_throughput "$@"
