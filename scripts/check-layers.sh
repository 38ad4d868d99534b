#!/usr/bin/env bash
# The layer rules of core/, checked from the sources (in the spirit of curl's
# checksrc; README, "Layout"):
#  (a) only the Lua layer (core/lua/) and the JSON reader's implementation
#      (core/osc_json.c) include lua.h, lauxlib.h or lualib.h;
#  (b) the #include graph of core/ and core/lua/ has no cycle; a module's
#      x.c and x.h count as one node.
# Prints one line per violation (file:line for (a), the cycle for (b)) and
# exits 1 when there is any. Plain bash and awk: it runs before the build.
# Usage: bash scripts/check-layers.sh [ROOT]
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
status=0

# --- (a) lua.h stays in the Lua layer ----------------------------------------
lua_include='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](lua|lauxlib|lualib)\.h[>"]'
# One grep over all files, no fork per file: the check stays instant.
declare -A lua_line=()
while IFS=: read -r f line _; do
  [[ -n ${lua_line[$f]:-} ]] || lua_line[$f]=$line
done < <(grep -nE "$lua_include" core/*.c core/*.h || true)
for f in core/*.c core/*.h; do
  [[ $f != core/osc_json.c ]] || continue
  if [[ -n ${lua_line[$f]:-} ]]; then
    echo "$f:${lua_line[$f]}: includes a Lua header outside core/lua/ (only the Lua layer and core/osc_json.c may)"
    status=1
  fi
done

# --- (b) no include cycle -----------------------------------------------------
# Edges "from to" between nodes (paths without .c/.h), then a depth-first
# search that prints each cycle it closes, e.g.
#   include cycle: core/lua/osc_a -> core/lua/osc_b -> core/lua/osc_a
cycles=$(
  awk '
    match($0, /^[ \t]*#[ \t]*include[ \t]*"core\/[^"]*\.h"/) {
      to = substr($0, RSTART, RLENGTH)
      sub(/^[^"]*"/, "", to)
      sub(/\.h"$/, "", to)
      from = FILENAME
      sub(/\.[ch]$/, "", from)
      print from, to
    }' core/*.[ch] core/lua/*.[ch] | sort -u | awk '
    $1 != $2 {
      if (!($1 in adj)) { nodes[++n] = $1 }
      adj[$1] = adj[$1] " " $2
    }
    function visit(node, depth,    k, m, next_nodes, i, cycle) {
      state[node] = 1
      path[depth] = node
      m = split(adj[node], next_nodes, " ")
      for (k = 1; k <= m; k++) {
        if (state[next_nodes[k]] == 1) {
          cycle = ""
          for (i = 1; i <= depth; i++) {
            if (cycle != "" || path[i] == next_nodes[k]) {
              cycle = cycle path[i] " -> "
            }
          }
          print "include cycle: " cycle next_nodes[k]
        } else if (state[next_nodes[k]] == 0) {
          visit(next_nodes[k], depth + 1)
        }
      }
      state[node] = 2
    }
    END { for (i = 1; i <= n; i++) if (state[nodes[i]] == 0) visit(nodes[i], 1) }'
)
if [[ -n $cycles ]]; then
  echo "$cycles"
  status=1
fi

exit "$status"
