#!/usr/bin/env bash
# The main job: installs every dependency, builds crosscheck (release) and
# starts the offline lab: three simulated resolvers in three failure domains
# and a web service on loopback, the real oracle judging them with its REST
# API on 127.0.0.1:9470, and a scripted incident (healthy, one resolver
# publishes an empty answer, the service really goes down, it recovers).
# Ctrl-C stops everything it started. Arguments go to `crosscheck lab`, e.g.
#   ./scripts/demo.sh --scenario congested-vantage
#   ./scripts/demo.sh --list
#   ./scripts/demo.sh --exit-when-done      # bounded: exit status says whether
#                                           # every step showed what it should
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
bin=build/release/daemon/crosscheck

echo
echo "==> ${bin} lab $*"
exec "${bin}" lab "$@"
