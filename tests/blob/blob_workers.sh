#!/usr/bin/env bash
# Dynamic workers: two runs on "different machines" (their own working
# directory, HOME and config copy, nothing local shared) keep one state in
# the blob (Shared Key, path-style Azurite URL). The first apply records a
# scale-in's 3 orphans, and creates the blob; the second, 11 minutes later
# on the other worker, deletes exactly those 3 (the grace spans workers).
# Then two --only-new consumers (A, B) each see the same new targets once,
# and `state show` reports the orphans, both baselines and no lock holder.
# Usage: bash tests/blob/blob_workers.sh BUILD_DIR
source "$(dirname "$0")/blob_lib.sh" "$1"

b_start apply-scale-in.yaml || exit 1
W=$A_WORK
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server, vmss-web]
    tenant: Contoso"
export ENTRIES
mkdir -p "$W/w1/home" "$W/w2/home"
b_config "$W/w1/c.yaml" 'return { grace = { orphan = "10m" } }'
b_config "$W/w2/c.yaml" 'return { grace = { orphan = "10m" } }'

code=$(b_blob "$W/b0.json")
expect_eq "no state blob before the first run" 404 "$code"

a_action '{"scale":{"scale_set":"vmss-web","capacity":5}}' || exit 1
sim_advance 10
a_sim_state "$W/s1.json"
DOOMED=$(a_ids_where "$W/s1.json" 'm.vm ~= cjson.null and (function() for _, s in ipairs(J.scale_sets) do for _, v in ipairs(s.vms) do if v.name == m.vm.name then return v.state == "Deleting" end end end return false end)()')
expect_eq "three VMs are Deleting" 3 "$(a_eval "$W/s1.json" "#split('$DOOMED')")"

# ---- worker 1 -----------------------------------------------------------------
T0=$(a_now)
cd "$W/w1" && HOME=$W/w1/home NOW=$T0 a_osc -c c.yaml apply; cd "$W"
expect_rc "worker 1: first apply" 0
a_log "$W/l1.json"
expect_eq "worker 1: no DELETE or PUT" "" "$(a_writes "$W/l1.json")"
code=$(b_blob "$W/b1.json")
expect_eq "the state blob exists now" 200 "$code"
a_check "blob: version 2, the 3 orphans since the first run" "$W/b1.json" \
  "J.format_version == 2 and join(keys(J.scale_sets['web-prod'].orphans)) == '$DOOMED' and (function() for _, t in pairs(J.scale_sets['web-prod'].orphans) do if t ~= '$T0' then return false end end return true end)()"
check "nothing local on worker 1" test ! -e "$W/w1/.octoscale"
check "nothing in worker 1's HOME" test -z "$(ls -A "$W/w1/home")"

# ---- worker 2, 11 minutes later ---------------------------------------------------
sim_advance 60
a_reset_log
cd "$W/w2" && HOME=$W/w2/home NOW=$(date -u -d "$T0 + 11 minutes" +%Y-%m-%dT%H:%M:%SZ) a_osc -c c.yaml apply; cd "$W"
expect_rc "worker 2: apply after the grace" 0
a_log "$W/l2.json"
expect_eq "worker 2 deleted exactly the 3 orphans" "$DOOMED" "$(a_deleted_ids "$W/l2.json")"
b_blob "$W/b2.json" >/dev/null
a_check "blob: no orphans left, two runs recorded" "$W/b2.json" \
  "count(J.scale_sets['web-prod'].orphans) == 0 and #J.runs == 2"

# ---- two --only-new consumers ---------------------------------------------------------
for who in A B A B; do
  a_osc -c "$W/w1/c.yaml" apply --only-new="$who" --octopus-output
  expect_rc "apply --only-new=$who" 0
  a_output "$OUT" VMSSDeploymentTargetIds >"$W/new.$who.$A_N"
done
first_a=$(cat "$W"/new.A.* | head -1)
check "A's first run lists targets" test -n "$first_a"
expect_eq "B's first run lists the same targets" "$first_a" "$(cat "$W"/new.B.* | head -1)"
expect_eq "A's second run lists none" "" "$(cat "$W"/new.A.* | tail -1)"
expect_eq "B's second run lists none" "" "$(cat "$W"/new.B.* | tail -1)"
b_blob "$W/b3.json" >/dev/null
a_check "blob: one baseline per consumer" "$W/b3.json" \
  "join(keys(J.scale_sets['web-prod'].baselines)) == 'A,B'"

# ---- state show -----------------------------------------------------------------------
a_osc -c "$W/w2/c.yaml" state show --format json
expect_rc "state show" 0
a_check "state show: baselines and no holder" "$OUT" \
  "J.locked == false and J.location == 'blob $AZ_URL' and J.scale_sets[1].name == 'web-prod' and #J.scale_sets[1].baselines == 2"
a_osc -c "$W/w2/c.yaml" state show
expect_rc "state show (text)" 0
expect_in "text names the blob" "$OUT" "$AZ_URL"
expect_not_in "no account key in the output" "$OUT" "$AZ_KEY"
expect_not_in "no account key on stderr" "$ERR" "$AZ_KEY"

stop_sim
finish
