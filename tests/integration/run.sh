#!/usr/bin/env bash
# Integration suite: octoscale against octoscale-sim (live plan, snapshot,
# run, auth, paging, retries, request budgets). Usage, from the repository
# root:  bash tests/integration/run.sh BUILD_DIR [CASE...]
# Each case is tests/integration/t_<name>.sh; it prints "ok"/"FAIL" lines
# and exits non-zero on failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:?usage: run.sh BUILD_DIR [CASE...]}" && pwd)
shift
export BUILD

for bin in octoscale octoscale-sim; do
  if [[ ! -x $BUILD/bin/$bin ]]; then
    echo "integration: $BUILD/bin/$bin is missing (build first)" >&2
    exit 1
  fi
done
command -v lua5.4 >/dev/null || { echo "integration: lua5.4 needed" >&2; exit 1; }
command -v curl >/dev/null || { echo "integration: curl needed" >&2; exit 1; }

if [[ $# -gt 0 ]]; then
  cases=()
  for c in "$@"; do
    c=${c%.sh}
    if [[ -f $here/$c.sh ]]; then cases+=("$here/$c.sh"); else cases+=("$here/t_${c#t_}.sh"); fi
  done
else
  # every case file: t_*.sh, apply_*.sh, ... (not this runner or helpers)
  cases=()
  for c in "$here"/*.sh; do
    # fault_matrix.sh is a CTest test of its own (it runs beside the rest)
    case ${c##*/} in run.sh | lib.sh | *_lib.sh | fault_matrix.sh) ;; *) cases+=("$c") ;; esac
  done
fi

failed=()
for c in "${cases[@]}"; do
  name=$(basename "$c" .sh)
  echo "# $name"
  if bash "$c"; then
    :
  else
    failed+=("$name")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "integration: FAILED: ${failed[*]}"
  exit 1
fi
echo "integration: all ${#cases[@]} cases passed"
