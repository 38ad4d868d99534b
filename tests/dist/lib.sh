# Shared by the tests/dist scripts: a scratch directory $tmp (removed on
# exit), the repository root $root, and TAP-like ok / not_ok / check lines;
# $failed is 1 once anything failed.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok   $*"; }
not_ok() {
  echo "FAIL $*"
  failed=1
}
# check DESCRIPTION COMMAND...: ok when COMMAND exits 0; its output is kept
# in $tmp/out and shown when it fails
check() {
  local d=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then ok "$d"; else
    not_ok "$d"
    sed 's/^/     /' "$tmp/out" | head -20
  fi
}
# the project's version, from CMakeLists.txt
version=$(sed -n 's/^project(octoscale VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
