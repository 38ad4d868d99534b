#!/usr/bin/env bash
# The engine library (CMake target osc_engine) stays pure C: every symbol it
# needs is its own or the C library's. A Lua, libcurl, libyaml or other
# octoscale symbol it leaves undefined means a layer leaked into the engine
# (docs/design.md §2). Usage: check-engine-symbols.sh libosc_engine.a
set -euo pipefail
lib=${1:?usage: check-engine-symbols.sh libosc_engine.a}
command -v nm >/dev/null || { echo "check-engine-symbols: nm not found" >&2; exit 1; }

defined=$(nm --defined-only -g "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u)
undefined=$(nm -u "$lib" 2>/dev/null | awk 'NF == 2 { print $2 }' | sort -u)
[ -n "$defined" ] || { echo "check-engine-symbols: $lib defines nothing" >&2; exit 1; }

bad=$(comm -23 <(printf '%s\n' "$undefined") <(printf '%s\n' "$defined") |
  grep -E '^(lua|luaL|luaopen|curl|yaml|osc|cjson)_' || true)
if [ -n "$bad" ]; then
  echo "check-engine-symbols: $lib needs symbols from outside the engine:" >&2
  printf '  %s\n' $bad >&2
  exit 1
fi
echo "engine: $(printf '%s\n' "$defined" | grep -c '^osc_') symbols, none from Lua, curl, yaml or other layers"
