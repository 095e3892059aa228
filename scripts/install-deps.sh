#!/usr/bin/env bash
# Installs every Debian 12 package crosscheck needs to build, test and run.
# Idempotent: packages already present are skipped, and apt-get runs only
# when something is missing. Must run as root (or with sudo available).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes
  clang-14 libclang-rt-14-dev
  # libraries (Boost 1.81: asio/beast are header-only; json/url/program_options compiled)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libboost-program-options1.81-dev
  libldns-dev libsqlite3-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libssl-dev libsystemd-dev
  # tests, and scripts/lint.sh (format checked in CI; tidy by hand)
  catch2 python3 sqlite3 clang-format clang-tidy
  # the openssl tool: signing and TLS tests make their keys, CAs and
  # certificates, and run `openssl s_server`, with it
  openssl
  # clock-step e2e test (tests/e2e/clock_step_test.cpp): libfaketime is
  # LD_PRELOADed into the daemon alone to step its wall clock by hours
  faketime libfaketime
  # TLS tests make their certificates with the openssl command line tool
  # (tests/support/test_certs.hpp); docs/tls.md's commands use it and curl
  openssl curl
  # real resolvers for system tests (unbound: Extended DNS Errors, and the
  # DNSSEC tests' zone server and validators, the zone signed with libldns;
  # its service stays stopped, the tests start their own on loopback)
  dnsmasq-base unbound
  # promtool (checks /metrics and the alert rules); the server stays stopped
  prometheus
  # Alertmanager as a real escalation sink in the e2e tests; the server stays stopped
  prometheus-alertmanager
  # protocol checks (redis:, postgres:, mysql:): libpq and MariaDB
  # Connector/C are linked in; the servers are started by the system tests
  # on loopback as an unprivileged user (their services stay stopped)
  libpq-dev libmariadb-dev redis-server postgresql mariadb-server
  # the Debian package: dpkg-shlibdeps computes Depends:, lintian checks the .deb
  dpkg-dev lintian
  # the status page's test in a real browser (tests/browser): headless
  # Chromium driven through chromedriver by Debian's Selenium; no download
  chromium chromium-driver python3-selenium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A package's postinst must not start its service (prometheus would start a
# server; there may be no init system at all): policy-rc.d exiting 101 tells
# invoke-rc.d "not allowed". Any policy-rc.d already there is put back after.
policy=/usr/sbin/policy-rc.d
saved=""
if [[ -e $policy ]]; then
  saved=$(mktemp)
  $SUDO cp -p "$policy" "$saved"
fi
restore_policy() {
  if [[ -n $saved ]]; then
    $SUDO mv -f "$saved" "$policy"
  else
    $SUDO rm -f "$policy"
  fi
}
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
$SUDO chmod +x "$policy"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
