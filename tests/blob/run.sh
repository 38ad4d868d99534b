#!/usr/bin/env bash
# Blob-state suite: octoscale's state and lock in Azure Blob Storage, against
# Azurite (Microsoft's storage emulator, installed by scripts/install-deps.sh)
# and octoscale-sim. Azurite missing is a failure, never a skip.
# Usage, from the repository root: bash tests/blob/run.sh BUILD_DIR [CASE...]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:?usage: run.sh BUILD_DIR [CASE...]}" && pwd)
shift
export BUILD

for tool in azurite-blob openssl curl lua5.4; do
  if ! command -v "$tool" >/dev/null; then
    echo "blob: $tool is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
  fi
done
if [[ $# -gt 0 ]]; then
  cases=()
  for c in "$@"; do cases+=("$here/${c%.sh}.sh"); done
else
  cases=("$here"/blob_*.sh)
  cases=("${cases[@]/*blob_lib.sh/}")
fi
failed=()
n=0
for c in "${cases[@]}"; do
  [[ -n $c ]] || continue
  n=$((n + 1))
  name=$(basename "$c" .sh)
  echo "# $name"
  bash "$c" "$BUILD" || failed+=("$name")
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "blob: FAILED: ${failed[*]}"
  exit 1
fi
echo "blob: all $n cases passed"
