#!/usr/bin/env bash
# Runs lintian on the package build_package.sh made; fails on any error
# (warnings are printed, and each one the package keeps is explained in
# packaging/CMakeLists.txt), and on any hardening tag: the binary is linked
# with full RELRO and bind-now, and an optimised build (BUILD_TYPE Release or
# RelWithDebInfo) also has fortified functions. A Debug build has no
# _FORTIFY_SOURCE (it needs optimisation), so that one tag is allowed there.
#   lintian_test.sh OUT_DIR BUILD_TYPE
set -euo pipefail

out=${1:?output dir}
build_type=${2:?build type}
command -v lintian >/dev/null || { echo "skip: lintian is not installed"; exit 77; }
shopt -s nullglob
debs=("$out"/crosscheck_*.deb)
((${#debs[@]} == 1)) || { echo "FAIL: no package in $out (did the build fixture run?)"; exit 1; }
# --allow-root: the test suite runs as root in CI.
lintian --allow-root --fail-on error --display-level '>=warning' --info "${debs[0]}"
hardening=$(lintian --allow-root --display-level '>=info' "${debs[0]}" | grep 'hardening-' || true)
if [[ $build_type == Debug ]]; then
  hardening=$(grep -v 'hardening-no-fortify-functions' <<<"$hardening" || true)
fi
if [[ -n $hardening ]]; then
  echo "FAIL: lintian reports hardening tags ($build_type build):"
  echo "$hardening"
  exit 1
fi
echo "ok: no hardening tag ($build_type build)"
echo "ok: lintian reports no errors on $(basename "${debs[0]}")"
