#!/usr/bin/env bash
# Installs every dependency, builds crosscheck twice (dev: gcc, Debug, warnings
# as errors; asan: clang-14 with AddressSanitizer + UndefinedBehaviorSanitizer
# and the libFuzzer targets) and runs the whole test suite in both; in asan
# that includes each fuzz target for 60 s. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

jobs=$(nproc)
for preset in dev asan; do
  echo "==> configure, build and test: ${preset}"
  start=$(date +%s)
  cmake --preset "${preset}" >/dev/null
  cmake --build --preset "${preset}" -j "${jobs}"
  echo "==> ${preset} built in $(($(date +%s) - start))s"
  ctest --preset "${preset}"
done
echo "==> all tests passed in dev and asan builds"
