#!/usr/bin/env bash
# Every example script (examples/scripts/*.lua) runs as its header documents
# it: the invocation in the header ("--   octoscale -c octoscale.yaml run
# examples/scripts/NAME.lua ARGS", continued with "\") is taken literally,
# with the simulator's config for octoscale.yaml, optional [ARGS] left out
# and the placeholders SCALE_SET and CAPACITY filled in. A script without a
# documented invocation, or with a placeholder this test does not know,
# fails. Each must exit 0 against a steady scale set (scale_and_wait scales
# it in by one, so the simulator runs at 20x).
source "$(dirname "$0")/lib.sh"
EXAMPLES="$REPO/examples/scripts"

start_int_sim steady.yaml --speed 20 || exit 1
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server, vmss-web]
    tenant: Contoso" write_config "$WORK/octoscale.yaml"

# The header's invocation of $1 as one line (continuations joined).
invocation() {
  awk '
    /^--   octoscale / || cont { line = line " " substr($0, 3); cont = /\\$/
                                 if (!cont) { print line; exit } sub(/\\$/, "", line) }
    /^[^-]/ { exit }' "$1" | tr -s ' ' | sed 's/^ //; s/ \\ / /g'
}

cd "$REPO" || exit 1 # the invocations name paths from the repository root
n=0
for script in "$EXAMPLES"/*.lua; do
  name=$(basename "$script")
  n=$((n + 1))
  inv=$(invocation "$script")
  if [[ -z $inv ]]; then
    not_ok "$name: no documented invocation in its header"
    continue
  fi
  read -r -a words <<<"$inv"
  prefix="octoscale -c octoscale.yaml run examples/scripts/$name"
  if [[ "${words[*]:0:5}" != "$prefix" ]]; then
    not_ok "$name: the header's invocation is '$inv', expected it to start with '$prefix'"
    continue
  fi
  args=()
  bad=""
  for w in "${words[@]:5}"; do
    case $w in
      \[*) ;; # optional: the documented defaults
      SCALE_SET) args+=(web-prod) ;;
      CAPACITY) args+=(4) ;;
      *[A-Z]*) [[ $w =~ ^[A-Z_]+$ ]] && bad="$bad $w" || args+=("$w") ;;
      *) args+=("$w") ;;
    esac
  done
  if [[ -n $bad ]]; then
    not_ok "$name: placeholders this test cannot fill:$bad"
    continue
  fi
  osc -c "$WORK/octoscale.yaml" run "examples/scripts/$name" "${args[@]}"
  if [[ $RC == 0 && -s $OUT && ! -s $ERR ]]; then
    ok "$name ${args[*]}: exit 0, $(wc -l <"$OUT") lines"
  else
    not_ok "$name ${args[*]}: exit $RC; stdout: $(head -c 300 "$OUT"); stderr: $(head -c 300 "$ERR")"
  fi
done
if ((n >= 3)); then ok "$n example scripts"; else not_ok "only $n example scripts found"; fi

stop_sim
finish
