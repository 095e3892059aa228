#!/usr/bin/env bash
# Runs lintian on the package build_package.sh made; fails on any error
# (warnings are printed, and each one the package keeps is explained in
# packaging/CMakeLists.txt).
#   lintian_test.sh OUT_DIR
set -euo pipefail

out=${1:?output dir}
command -v lintian >/dev/null || { echo "skip: lintian is not installed"; exit 77; }
shopt -s nullglob
debs=("$out"/crosscheck_*.deb)
((${#debs[@]} == 1)) || { echo "FAIL: no package in $out (did the build fixture run?)"; exit 1; }
# --allow-root: the test suite runs as root in CI.
lintian --allow-root --fail-on error --display-level '>=warning' --info "${debs[0]}"
echo "ok: lintian reports no errors on $(basename "${debs[0]}")"
