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
# CROSSCHECK_DEMO_BINARY=path skips installing and building and plays the
# tour with that binary (the test suite does, with the build it tests).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n ${CROSSCHECK_DEMO_BINARY:-} ]]; then
  # The test suite plays the tour with the binary it already built, so CI
  # does not cold-build a third preset (install and build are plain steps).
  bin=$CROSSCHECK_DEMO_BINARY
else
  ./scripts/install-deps.sh
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)"
  bin=build/release/daemon/crosscheck
fi

echo
echo "==> ${bin} lab $*"
exec "${bin}" lab "$@"
