#!/usr/bin/env bash
# Installs every dependency, builds crosscheck twice (dev: gcc, Debug, warnings
# as errors; asan: clang-14 with AddressSanitizer + UndefinedBehaviorSanitizer
# and the libFuzzer targets) and runs the whole test suite in both; in asan
# that includes each fuzz target for 60 s. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

# CI shows the start and the end of a long log: after a failed run, the end
# of what each failed test printed is repeated last, where it is seen.
print_failures() {
  local log="build/$1/Testing/Temporary/LastTest.log"
  [[ -f "${log}" ]] || return 0
  echo "==> $1: the end of what each failed test printed"
  awk '
    /^[0-9]+\/[0-9]+ Test: / { name = $0; sub(/^[0-9]+\/[0-9]+ Test: /, "", name) }
    /^Output:$/ { getline; reading = 1; n = 0; next }
    /^<end of output>$/ { reading = 0; next }
    reading { lines[n++] = $0; next }
    /^Test Failed/ {
      print "--- " name
      for (i = (n > 60 ? n - 60 : 0); i < n; i++) print lines[i]
    }
  ' "${log}"
}

jobs=$(nproc)
for preset in dev asan; do
  echo "==> configure, build and test: ${preset}"
  start=$(date +%s)
  cmake --preset "${preset}" >/dev/null
  cmake --build --preset "${preset}" -j "${jobs}"
  echo "==> ${preset} built in $(($(date +%s) - start))s"
  status=0
  ctest --preset "${preset}" || status=$?
  if ((status != 0)); then
    print_failures "${preset}"
    exit "${status}"
  fi
done
echo "==> all tests passed in dev and asan builds"
