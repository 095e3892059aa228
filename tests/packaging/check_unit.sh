#!/usr/bin/env bash
# Checks packaging/crosscheck.service with systemd-analyze, offline (these
# machines have no systemd as PID 1).
#   check_unit.sh verify   UNIT BINARY   # `systemd-analyze verify` is clean
#   check_unit.sh security UNIT          # exposure 2.0 or lower ("OK")
# verify needs ExecStart's binary to exist, so it checks a copy of the unit
# whose ExecStart points at BINARY (the one just built). Any output at all
# (an unknown key, a bad value) fails, not only a non-zero status.
# Exit 77 (skip) when systemd-analyze is not installed.
set -euo pipefail

mode=${1:?usage: check_unit.sh verify|security UNIT [BINARY]}
unit=${2:?unit file}
command -v systemd-analyze >/dev/null || { echo "skip: no systemd-analyze"; exit 77; }
max_exposure=2.0

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

case $mode in
  verify)
    binary=${3:?binary for ExecStart}
    [[ -x $binary ]] || { echo "FAIL: $binary is not executable"; exit 1; }
    copy=$scratch/$(basename "$unit")
    sed "s|^ExecStart=/usr/bin/crosscheck |ExecStart=$binary |" "$unit" >"$copy"
    grep -q "^ExecStart=$binary " "$copy" || {
      echo "FAIL: $unit has no 'ExecStart=/usr/bin/crosscheck ...' line"
      exit 1
    }
    status=0
    output=$(systemd-analyze verify --man=no --recursive-errors=no "$copy" 2>&1) || status=$?
    if ((status != 0)) || [[ -n $output ]]; then
      echo "FAIL: systemd-analyze verify (status $status):"
      echo "$output"
      exit 1
    fi
    echo "ok: systemd-analyze verify is clean"
    ;;
  security)
    status=0
    systemd-analyze security --offline=true "$unit" >"$scratch/out" 2>"$scratch/err" || status=$?
    cat "$scratch/out"
    if ((status != 0)) || [[ -s $scratch/err ]]; then
      echo "FAIL: systemd-analyze security (status $status):"
      cat "$scratch/err"
      exit 1
    fi
    # "→ Overall exposure level for crosscheck.service: 1.1 OK 🙂"
    level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$scratch/out")
    [[ -n $level ]] || { echo "FAIL: no overall exposure level in the output"; exit 1; }
    if awk -v level="$level" -v max="$max_exposure" 'BEGIN { exit !(level > max) }'; then
      echo "FAIL: exposure $level is above $max_exposure"
      exit 1
    fi
    echo "ok: exposure $level (at most $max_exposure)"
    ;;
  *)
    echo "usage: check_unit.sh verify|security UNIT [BINARY]" >&2
    exit 2
    ;;
esac
