#!/usr/bin/env bash
# Drives packaging/crosscheck.bash-completion the way bash does on TAB (fills
# COMP_WORDS/COMP_CWORD, calls the function, reads COMPREPLY): once on its
# own and once with the bash-completion package's helpers loaded, when they
# are installed (then _init_completion is used).
#   completion_test.sh COMPLETION_FILE
set -uo pipefail

completion=${1:?completion file}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
touch "$scratch/crosscheck.yaml" "$scratch/observations.jsonl"

failures=0
# expect_completion "LINE" "WORD..." checks that completing LINE (the cursor
# at its end) offers each WORD; expect_completion "LINE" "" offers nothing.
expect_completion() {
  local line=$1 expected=$2
  read -r -a COMP_WORDS <<<"$line"
  [[ $line == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE=$line
  COMP_POINT=${#line}
  COMPREPLY=()
  _crosscheck crosscheck "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  local offered=" ${COMPREPLY[*]} "
  if [[ -z $expected ]]; then
    if ((${#COMPREPLY[@]} != 0)); then
      echo "FAIL: '$line' offered [${COMPREPLY[*]}], expected nothing"
      failures=$((failures + 1))
    fi
    return
  fi
  local word
  for word in $expected; do
    if [[ $offered != *" $word "* ]]; then
      echo "FAIL: '$line' offered [${COMPREPLY[*]}], expected '$word' among them"
      failures=$((failures + 1))
    fi
  done
}

run_cases() {
  expect_completion "crosscheck " \
    "run check-config probe status explain gate replay lab help --version"
  expect_completion "crosscheck ga" "gate"
  expect_completion "crosscheck run --" "--config --log-level --help"
  expect_completion "crosscheck run --log-level w" "warn"
  expect_completion "crosscheck run --config $scratch/cross" "$scratch/crosscheck.yaml"
  expect_completion "crosscheck check-config $scratch/cr" "$scratch/crosscheck.yaml"
  expect_completion "crosscheck replay $scratch/obs" "$scratch/observations.jsonl"
  expect_completion "crosscheck replay x --" "--config --json --tick"
  expect_completion "crosscheck gate db --" \
    "--expect --for --stable-for --generation --oracle --require --recheck --token-file --timeout --pubkey"
  expect_completion "crosscheck gate db --expect " "healthy unhealthy"
  expect_completion "crosscheck gate db --for " "service dns any"
  expect_completion "crosscheck status --for " ""
  expect_completion "crosscheck gate db --oracle " ""
  expect_completion "crosscheck status --w" "--wide --watch"
  expect_completion "crosscheck explain web --" "--api --config --timeout --json"
  expect_completion "crosscheck probe web --" "--config --vantage"
  expect_completion "crosscheck lab --" "--scenario --list --listen --dir --exit-when-done"
  expect_completion "crosscheck frobnicate --" ""
}

# shellcheck source=/dev/null
source "$completion"
complete -p crosscheck >/dev/null || { echo "FAIL: no 'complete' for crosscheck"; exit 1; }
run_cases

if [[ -r /usr/share/bash-completion/bash_completion ]]; then
  # shellcheck source=/dev/null
  source /usr/share/bash-completion/bash_completion
  declare -F _init_completion >/dev/null || { echo "FAIL: no _init_completion"; exit 1; }
  run_cases
fi

((failures == 0)) || exit 1
echo "ok: completion offers the commands, options and files"
