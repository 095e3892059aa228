#!/usr/bin/env bash
# Builds the Debian package from BUILD_DIR's CPack configuration into OUT_DIR
# (emptied first) and checks that exactly one crosscheck_*.deb came out.
# The fixture the lintian and install tests use.
#   build_package.sh BUILD_DIR OUT_DIR
set -euo pipefail

build=${1:?build dir}
out=${2:?output dir}
rm -rf "$out"
mkdir -p "$out"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$out"
shopt -s nullglob
debs=("$out"/crosscheck_*.deb)
if ((${#debs[@]} != 1)); then
  echo "FAIL: expected one crosscheck_*.deb in $out, found ${#debs[@]}"
  exit 1
fi
dpkg-deb --info "${debs[0]}"
dpkg-deb --contents "${debs[0]}"
