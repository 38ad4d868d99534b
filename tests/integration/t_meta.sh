#!/usr/bin/env bash
# lua/_meta stays true: every documented class's fields against the tables
# the API pushes (scripts and policy hooks), every documented method and
# function against what exists, the embedded modules lua/_meta/octoscale.lua
# documents against their fields, and every method the C sources register
# against the stubs. A drift in either direction fails.
source "$(dirname "$0")/lib.sh"

# The stubs' text and the registered method names, as a module beside the
# checking script.
methods() { # FILE ARRAY: the names of a luaL_Reg array
  awk -v arr="$2" '$0 ~ "luaL_Reg " arr "\\[\\]" {on = 1; next} on && /};/ {on = 0} on' "$1" |
    grep -o '{"[a-z_]*"' | tr -d '{"' | sed 's/.*/"&",/' | tr -d '\n'
}
{
  echo "return { stubs = {"
  for f in "$REPO"/lua/_meta/*.lua; do
    printf '["%s"] = [==[\n%s\n]==],\n' "lua/_meta/${f##*/}" "$(cat "$f")"
  done
  echo "}, registered = {"
  echo "plan = { $(methods "$REPO/core/lua/osc_bind_reconcile.c" plan_methods) },"
  echo "azure = { $(methods "$REPO/core/lua/osc_bind_azure.c" client_methods) },"
  echo "octopus = { $(methods "$REPO/core/lua/osc_bind_octopus.c" client_methods) },"
  echo "} }"
} >"$WORK/meta_text.lua"
cp "$REPO/tests/integration/meta/meta_drift.lua" "$WORK/"
[[ $(grep -c '"' <<<"$(grep -A1 'registered' "$WORK/meta_text.lua")") -gt 0 ]] || not_ok "registered method names extracted"

start_int_sim tenanted.yaml || exit 1
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]
    settings:
      team: web" write_config "$WORK/m.yaml"
osc -c "$WORK/m.yaml" run "$WORK/meta_drift.lua" web-prod
expect_rc "meta_drift.lua: no drift" 0
grep '^FAIL' "$OUT" | while read -r line; do not_ok "$line"; done
grep '^note' "$OUT" | sed 's/^/# /'
n_ok=$(grep -c '^ok ' "$OUT")
if [[ $n_ok -ge 100 ]]; then ok "meta_drift.lua: $n_ok checks"; else not_ok "meta_drift.lua ran $n_ok checks: $(tail -5 "$OUT") $(head -c 400 "$ERR")"; fi

# the check itself catches drift: a field the stubs do not know, and a
# documented one the API does not push
sed -i 's/^--- @field overprovision boolean$/--- @field overprovisioned boolean/' "$WORK/meta_text.lua"
osc -c "$WORK/m.yaml" run "$WORK/meta_drift.lua" web-prod
expect_in "an undocumented field fails" "$OUT" "FAIL az:scale_set[1].overprovision is documented in lua/_meta/azure.lua"
expect_in "a documented field never pushed fails" "$OUT" "FAIL az:scale_set[1] has azure.ScaleSet.overprovisioned"
finish
