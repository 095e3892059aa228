#!/usr/bin/env bash
# Installs the package build_package.sh made on this machine, checks it as
# an admin would, upgrades it over itself, removes and purges it, and checks
# that the purge left nothing behind. Whatever happens, the EXIT trap puts
# the machine back as it found it (purges the package, removes the user and
# the state directory if they are still there).
#   install_test.sh OUT_DIR VERSION
# Exit 77 (skip) when not root. Refuses to run (fails) when crosscheck is
# already installed or its user or files exist: those are not the test's.
set -uo pipefail

out=${1:?output dir}
version=${2:?expected version}
if [[ $(id -u) -ne 0 ]]; then
  echo "skip: dpkg -i needs root"
  exit 77
fi
shopt -s nullglob
debs=("$out"/crosscheck_*.deb)
((${#debs[@]} == 1)) || { echo "FAIL: no package in $out (did the build fixture run?)"; exit 1; }
deb=${debs[0]}
export DEBIAN_FRONTEND=noninteractive

unit=/lib/systemd/system/crosscheck.service
state=/var/lib/crosscheck
config=/etc/crosscheck/crosscheck.yaml
dsh_state=/var/lib/systemd/deb-systemd-helper-enabled

installed() { dpkg-query -W -f='${db:Status-Abbrev}' crosscheck 2>/dev/null | grep -qv '^un'; }
leftovers() {
  installed && echo "package crosscheck is known to dpkg"
  getent passwd crosscheck >/dev/null && echo "user crosscheck exists"
  getent group crosscheck >/dev/null && echo "group crosscheck exists"
  local path
  for path in /usr/bin/crosscheck "$unit" /etc/crosscheck "$state" \
    /usr/share/doc/crosscheck /usr/share/man/man8/crosscheck.8.gz \
    /usr/share/bash-completion/completions/crosscheck; do
    [[ -e $path ]] && echo "$path exists"
  done
  find /etc/systemd/system "$dsh_state" -name 'crosscheck*' 2>/dev/null | sed 's/$/ exists/'
  return 0
}

before=$(leftovers)
if [[ -n $before ]]; then
  echo "FAIL: refusing to run, this machine already has crosscheck on it:"
  echo "$before"
  exit 1
fi

cleanup() {
  local status=$?
  if installed; then
    echo "cleanup: purging crosscheck"
    dpkg --purge crosscheck >/dev/null 2>&1 || true
  fi
  getent passwd crosscheck >/dev/null && { userdel crosscheck 2>/dev/null || true; }
  getent group crosscheck >/dev/null && { groupdel crosscheck 2>/dev/null || true; }
  rm -rf "$state" /etc/crosscheck
  rm -f /etc/systemd/system/multi-user.target.wants/crosscheck.service
  exit "$status"
}
trap cleanup EXIT
# A signal (Ctrl-C, kill) ends the script through the EXIT trap too.
trap 'exit 143' TERM INT HUP

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
step() { echo "--- $*"; }
# check DESCRIPTION COMMAND...: runs COMMAND, counts a failure if it fails.
check() {
  local description=$1
  shift
  if "$@"; then echo "ok: $description"; else fail "$description"; fi
}

step "dpkg -i $(basename "$deb")"
dpkg -i "$deb" || { echo "FAIL: dpkg -i"; exit 1; }
check "dpkg says installed" \
  bash -c "dpkg-query -W -f='\${Status}' crosscheck | grep -qx 'install ok installed'"

step "as installed"
version_output=$(/usr/bin/crosscheck --version 2>&1)
check "crosscheck --version prints $version ($version_output)" \
  test "$version_output" = "crosscheck $version"
check_output=$(crosscheck check-config "$config" 2>&1)
echo "$check_output"
check "check-config accepts the installed config" \
  grep -q "^$config: ok: 1 target, 1 vantage" <<<"$check_output"
check "the installed config only probes loopback" \
  bash -c "! grep -E '^[^#]*resolver:' '$config' | grep -qv '127.0.0.1'"
check "the crosscheck user can read the config" \
  runuser -u crosscheck -- crosscheck check-config "$config"
check "user crosscheck is a system user with home $state and no login shell" \
  bash -c "getent passwd crosscheck | awk -F: '\$3 < 1000 && \$6 == \"$state\" && \$7 ~ /nologin|false/ { found = 1 } END { exit !found }'"
check "group crosscheck exists" bash -c "getent group crosscheck >/dev/null"
check "$state is the user's, mode 750" \
  test "$(stat -c '%U:%G %a' "$state" 2>/dev/null)" = "crosscheck:crosscheck 750"
check "$config is a conffile" \
  bash -c "dpkg-query -W -f='\${Conffiles}' crosscheck | grep -q ' $config '"
check "the unit is installed" test -f "$unit"
check "the unit is not enabled on install" \
  bash -c "! find /etc/systemd/system -name crosscheck.service | grep -q ."
check "the man page is installed" test -f /usr/share/man/man8/crosscheck.8.gz
check "the bash completion is installed" test -f /usr/share/bash-completion/completions/crosscheck
check "the copyright and changelog are installed" \
  test -f /usr/share/doc/crosscheck/copyright -a -f /usr/share/doc/crosscheck/changelog.Debian.gz
check "the commented reference config is installed" \
  test -f /usr/share/doc/crosscheck/examples/crosscheck.yaml
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify accepts the installed unit" \
    bash -c "out=\$(systemd-analyze verify --man=no --recursive-errors=no '$unit' 2>&1) && [[ -z \$out ]] || { echo \"\$out\"; false; }"
fi

step "upgrade over itself keeps an edited conffile and the state"
echo "# edited by install_test" >>"$config"
touch "$state/marker"
dpkg -i "$deb" || fail "dpkg -i over the installed package"
check "the edit survived" grep -q "edited by install_test" "$config"
check "the state survived" test -f "$state/marker"

if command -v systemctl >/dev/null; then
  step "an admin's systemctl enable survives an upgrade (and the purge undoes it)"
  wants=/etc/systemd/system/multi-user.target.wants/crosscheck.service
  systemctl enable crosscheck.service || fail "systemctl enable"
  check "enabled" test -L "$wants"
  dpkg -i "$deb" || fail "dpkg -i over the enabled package"
  check "still enabled after the upgrade" test -L "$wants"
fi

step "dpkg --remove keeps the config, the user and the state"
dpkg --remove crosscheck || fail "dpkg --remove"
check "the binary is gone" test ! -e /usr/bin/crosscheck
check "the unit is gone" test ! -e "$unit"
check "the config is kept" test -f "$config"
check "the user is kept" bash -c "getent passwd crosscheck >/dev/null"
check "the state is kept" test -f "$state/marker"

step "dpkg --purge removes everything"
dpkg --purge crosscheck || fail "dpkg --purge"
after=$(leftovers)
if [[ -n $after ]]; then
  fail "the purge left:"
  echo "$after"
else
  echo "ok: nothing left: no package, user, group, config, state or unit state"
fi

((failures == 0)) || { echo "$failures check(s) failed"; exit 1; }
echo "ok: installs, upgrades, removes and purges cleanly"
