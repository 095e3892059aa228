#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ for SECONDS each (default 60) under
# ASan+UBSan, on a scratch copy of its seed corpus (fuzz/corpus/<target>/, so
# the repository's seeds stay as committed). Exits non-zero if any target
# crashes, leaks, times out or trips a sanitizer; the reproducer is kept in
# build/fuzz/artifacts/<target>/. Usage:
#   ./scripts/fuzz.sh            # 60 s per target
#   ./scripts/fuzz.sh 300        # longer
#   JOBS=1 ./scripts/fuzz.sh 60  # build parallelism (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "usage: $0 [SECONDS]" >&2
  exit 2
fi
targets=(fuzz_dns_reply fuzz_config fuzz_router fuzz_peer_votes fuzz_replay)
build=build/fuzz

./scripts/install-deps.sh
# WERROR off: the project's warnings-as-errors policy is checked with gcc;
# clang-14 has other warnings, which are still printed.
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCROSSCHECK_FUZZ=ON \
  -DCROSSCHECK_SANITIZE=address,undefined -DCROSSCHECK_BUILD_TESTS=OFF \
  -DCROSSCHECK_WERROR=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
results=()
for target in "${targets[@]}"; do
  work="$build/runs/$target"
  artifacts="$build/artifacts/$target"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$artifacts"
  cp fuzz/corpus/"$target"/* "$work/corpus/"
  log="$work/log.txt"
  echo "==> $target for ${seconds}s (log: $log)"
  status=0
  "$build/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$work/corpus" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  corpus=$(find "$work/corpus" -type f | wc -l)
  if ((status == 0)); then
    result="ok"
  else
    result="FAILED (exit $status; see $log, reproducer in $artifacts/)"
    failed=1
    grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:' "$log" || true
  fi
  results+=("$(printf '%-16s %12s execs  %5s corpus files  %s' "$target" "${execs:-?}" "$corpus" "$result")")
done

echo
printf '%s\n' "${results[@]}"
exit "$failed"
