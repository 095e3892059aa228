#!/usr/bin/env bash
# Style checks over the whole tree.
#   scripts/lint.sh format        every C++ source is clang-format clean (CI runs this)
#   scripts/lint.sh fix           rewrites them in place
#   scripts/lint.sh tidy [FILE..] clang-tidy (.clang-tidy) with build/dev's compile
#                                 commands; every .cpp when no FILE is given (slow:
#                                 the Asio/Beast translation units take minutes)
#   scripts/lint.sh tidy-ci [BUILD]  clang-tidy over the pure engine and the JSON
#                                 mapping (consensus, json; base with them),
#                                 findings are errors; CI runs it as a test of
#                                 the dev build (about 3 minutes of one core)
set -euo pipefail
cd "$(dirname "$0")/.."

sources() {
  find base consensus config json net probes storage lab escalation snapshot peers api daemon cli \
    tests fuzz bench -name '*.cpp' -o -name '*.hpp' | LC_ALL=C sort
}

case ${1:-format} in
  format)
    mapfile -t files < <(sources)
    clang-format --dry-run --Werror "${files[@]}"
    echo "lint: ${#files[@]} files are clang-format clean"
    ;;
  fix)
    mapfile -t files < <(sources)
    clang-format -i "${files[@]}"
    ;;
  tidy)
    shift
    if (($# == 0)); then
      mapfile -t files < <(sources | grep '\.cpp$')
    else
      files=("$@")
    fi
    [[ -f build/dev/compile_commands.json ]] || cmake --preset dev >/dev/null
    clang-tidy -p build/dev --quiet "${files[@]}"
    ;;
  tidy-ci)
    build=${2:-build/dev}
    mapfile -t files < <(find consensus json -name '*.cpp' | LC_ALL=C sort)
    [[ -f ${build}/compile_commands.json ]] || {
      echo "lint: ${build}/compile_commands.json is missing (configure first)" >&2
      exit 2
    }
    clang-tidy -p "${build}" --quiet --warnings-as-errors='*' "${files[@]}"
    echo "lint: ${#files[@]} files are clang-tidy clean"
    ;;
  *)
    echo "usage: scripts/lint.sh [format|fix|tidy [FILE...]|tidy-ci [BUILD]]" >&2
    exit 2
    ;;
esac
