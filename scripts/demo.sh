#!/usr/bin/env bash
# The main job: installs every dependency, builds crosscheck (release) and
# shows the quorum engine at work offline: it validates the packaged example
# config and replays the bundled Oct 2025 incident (one resolver publishes an
# empty answer for the DynamoDB endpoint) through the engine.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
bin=build/release/daemon/crosscheck

echo
echo "==> crosscheck check-config packaging/crosscheck.yaml"
"${bin}" check-config packaging/crosscheck.yaml
echo
echo "==> crosscheck replay tests/scenarios/empty-dns-answer.jsonl --config packaging/crosscheck.yaml"
echo "    (quad9 answers NOERROR with an empty answer for dynamodb-use1 from 06:48 to 06:58;"
echo "     the other domains still resolve it and the service answers)"
echo
"${bin}" replay tests/scenarios/empty-dns-answer.jsonl --config packaging/crosscheck.yaml
echo
echo "The verdict was held healthy and a human was paged once: no failover."
echo "Other incidents: ls tests/scenarios/*.jsonl; replay one with"
echo "  ${bin} replay tests/scenarios/true-outage.jsonl --config packaging/crosscheck.yaml"
