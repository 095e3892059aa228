#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ for SECONDS each (default 60) under
# ASan+UBSan, in the asan preset's build (clang-14; the same build whose ctest
# runs each target for 60 s in CI). Each run uses a scratch corpus seeded from
# fuzz/corpus/<target>/, so the repository's seeds stay as committed. Exits
# non-zero if any target crashes, leaks, times out or trips a sanitizer; the
# reproducer is kept in build/asan/fuzz/runs/<target>/artifacts/. Usage:
#   ./scripts/fuzz.sh            # 60 s per target
#   ./scripts/fuzz.sh 600        # longer
#   JOBS=1 ./scripts/fuzz.sh 60  # build parallelism (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "usage: $0 [SECONDS]" >&2
  exit 2
fi
targets=(fuzz_dns_reply fuzz_config fuzz_router fuzz_peer_votes fuzz_replay)
build=build/asan

./scripts/install-deps.sh
cmake --preset asan >/dev/null
cmake --build --preset asan -j "${JOBS:-$(nproc)}" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
for target in "${targets[@]}"; do
  fuzz/run-target.sh "$build/fuzz/$target" "fuzz/corpus/$target" \
    "$build/fuzz/runs/$target" "$seconds" || failed=1
done
exit "$failed"
