#!/usr/bin/env bash
# CLI golden tests: each directory under tests/cli/cases/ is one case.
#   cmd     a bash snippet run from the repo root; $OCTOSCALE is the binary,
#           $CASE the case directory, $TMP a fresh scratch directory
#   code    the expected exit code (required)
#   stdout  the expected stdout, exactly (optional: not compared when absent)
#   stderr  the expected stderr, exactly (optional)
# OCTOSCALE_NOW is fixed to 2026-11-27T10:00:00Z unless the case sets it.
# UPDATE=1 rewrites stdout/stderr/code of the cases that exist from the actual
# output (review the diff before committing).
set -u
build=${1:?usage: run.sh BUILD_DIR [CASE...]}
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$build" && pwd)
export OCTOSCALE="$build/bin/octoscale"
cd "$root" || exit 1

cases=("$@")
if [[ ${#cases[@]} -eq 0 ]]; then
  for d in tests/cli/cases/*/; do cases+=("$(basename "$d")"); done
fi

pass=0
fail=0
for name in "${cases[@]}"; do
  dir="tests/cli/cases/$name"
  tmp=$(mktemp -d)
  out="$tmp/.stdout"
  errf="$tmp/.stderr"
  (
    export CASE="$root/$dir" TMP="$tmp"
    export OCTOSCALE_NOW="2026-11-27T10:00:00Z"
    unset OCTOSCALE_CONFIG
    bash "$dir/cmd"
  ) >"$out" 2>"$errf" </dev/null
  code=$?
  ok=1
  why=""
  if [[ ${UPDATE:-0} == 1 ]]; then
    echo "$code" >"$dir/code"
    [[ -f $dir/stdout ]] && cp "$out" "$dir/stdout"
    [[ -f $dir/stderr ]] && cp "$errf" "$dir/stderr"
  fi
  want=$(cat "$dir/code" 2>/dev/null || echo missing)
  if [[ $code != "$want" ]]; then
    ok=0
    why="exit code $code, expected $want"
  fi
  if [[ $ok == 1 && -f $dir/stdout ]] && ! diff -u "$dir/stdout" "$out" >"$tmp/.diff"; then
    ok=0
    why="stdout differs"
  fi
  if [[ $ok == 1 && -f $dir/stderr ]] && ! diff -u "$dir/stderr" "$errf" >"$tmp/.diff"; then
    ok=0
    why="stderr differs"
  fi
  if [[ $ok == 1 ]]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: $why"
    [[ -s $tmp/.diff ]] && sed 's/^/    /' "$tmp/.diff" | head -40
    echo "    --- stderr ---"
    sed 's/^/    /' "$errf" | head -10
  fi
  rm -rf "$tmp"
done
echo "cli: $pass passed, $fail failed"
[[ $fail == 0 ]]
