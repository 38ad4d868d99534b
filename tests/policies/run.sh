#!/usr/bin/env bash
# The shipped policies' tests (tests/policies/*_test.lua), run by
# `octoscale test` the way teams run theirs.
set -u
build=${1:?usage: run.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$(cd "$build" && pwd)/bin/octoscale"
cd "$root" || exit 1
"$bin" test tests/policies/*_test.lua
