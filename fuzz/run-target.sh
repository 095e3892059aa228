#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS on a scratch corpus in WORK_DIR,
# seeded read-only from SEED_DIR (the repository's seeds stay as committed).
# Exits with the fuzzer's status: non-zero on a crash, leak, timeout or
# sanitizer report; the reproducer is kept in WORK_DIR/artifacts/.
# Used by scripts/fuzz.sh and by ctest (tests fuzz.<target> in the asan build).
# Usage: fuzz/run-target.sh BINARY SEED_DIR WORK_DIR SECONDS
set -euo pipefail
if (($# != 4)); then
  echo "usage: $0 BINARY SEED_DIR WORK_DIR SECONDS" >&2
  exit 2
fi
binary=$1 seeds=$2 work=$3 seconds=$4
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
status=0
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" >"$work/log.txt" 2>&1 || status=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log.txt" | tail -1)
units=$(find "$work/corpus" -type f | wc -l)
name=$(basename "$binary")
if ((status == 0)); then
  printf '%-16s ok: %s execs in %ss, %s new corpus units\n' "$name" "${execs:-?}" "$seconds" "$units"
else
  printf '%-16s FAILED (exit %s): log %s, reproducer in %s/artifacts/\n' "$name" "$status" \
    "$work/log.txt" "$work"
  grep -m3 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:|SUMMARY:' \
    "$work/log.txt" || true
fi
exit "$status"
