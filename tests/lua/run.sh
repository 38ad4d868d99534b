#!/usr/bin/env bash
# Lua library and sandbox tests: every tests/lua/*_test.lua runs inside the
# sandbox through `octoscale test` (so they test the sandbox too), plus the
# checks that need a process of their own (limits that must stop a file).
set -u
build=${1:?usage: run.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$(cd "$build" && pwd)/bin/octoscale"
cd "$root" || exit 1
export OCTOSCALE_NOW="2026-11-27T10:00:00Z"
fail=0

"$bin" test tests/lua/*_test.lua || fail=1

# A runaway test cannot take the runner down, nor swallow its limit with
# pcall: the file reports it and the next test still runs.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/runaway_test.lua" <<'LUA'
local t = require "octoscale.testing"
t.test("swallow", function()
  while true do pcall(function() while true do end end) end
end)
t.test("memory", function()
  local keep = {}
  while true do keep[#keep + 1] = string.rep("x", 8 << 20) .. #keep end
end)
t.test("policy loops at load", function()
  pcall(t.plan, { policy = "tests/lua/policies/loop_at_load.lua" })
end)
t.test("hook loops", function()
  pcall(t.plan, { policy = "tests/lua/policies/hook_loop.lua", vms = { t.vm(1) } })
end)
t.test("pattern", function()
  local s = string.rep("a", 30000)
  while true do pcall(string.find, s, ".-.-.-.-.-.-b") end
end)
t.test("after", function() end)
LUA
budget="execution budget exceeded (limit 100000000 instructions or 1000 ms)"
{
  echo "# $tmp/runaway_test.lua"
  echo "not ok - swallow: $tmp/runaway_test.lua:3: $budget"
  echo "not ok - memory: $tmp/runaway_test.lua:7: memory limit exceeded (limit 64 MiB)"
  echo "not ok - policy loops at load: tests/lua/policies/loop_at_load.lua:3: $budget"
  echo "not ok - hook loops: tests/lua/policies/hook_loop.lua:3: $budget"
  echo "not ok - pattern: $tmp/runaway_test.lua:17: $budget"
  echo "ok - after"
  echo "1 passed, 5 failed"
} >"$tmp/want"
start=$(date +%s%N)
"$bin" test "$tmp/runaway_test.lua" >"$tmp/out" 2>"$tmp/err"
code=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [[ $code != 1 ]] || ! diff -u "$tmp/want" "$tmp/out"; then
  echo "FAIL runaway tests (exit $code)"
  sed 's/^/    /' "$tmp/err"
  fail=1
else
  echo "ok - runaway tests stop, pcall cannot swallow the limits (${ms} ms)"
fi
[[ $fail == 0 ]]
