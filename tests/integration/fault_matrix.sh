#!/usr/bin/env bash
# The fault matrix: every read of `apply` x every way a server can fail it.
# For each cell the simulator breaks one read (on page 2 of a list, so the
# read is half done) while, without the fault, the apply would delete 2
# orphans past their grace (the control cases prove it). Each cell asserts:
#   - exit 4 (a safety stop: a read failed or was partial after retries);
#     a refusal (401) is exit 1, as the contract says (a column of its own);
#   - zero writes to Azure or Octopus (any request but GET and the token
#     POST, from the simulator's request log);
#   - the state file byte for byte unchanged;
#   - a message naming the read;
#   - and that the fault really fired.
# Retries and timeouts are kept short through the config's `http:` section,
# so a 429 storm or a timeout costs seconds.
# Usage: bash tests/integration/fault_matrix.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start "$A_INT_DIR/scenarios/fault-matrix.yaml" || exit 1
W=$A_WORK
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    tenant: Contoso
    roles: [web-server]" HTTP_YAML="http:
  connect_timeout: 1s
  timeout: 1s
  max_attempts: 2
  max_retry_time: 5s" STATE="$W/state.json" a_config "$W/c.yaml" 'return { grace = { orphan = "10m" } }'

# ---- the seed: the first apply records the 2 orphans -----------------------------
T0=$(a_now)
NOW=$T0 a_osc -c "$W/c.yaml" apply
expect_rc "seed apply records the orphans" 0
cp "$W/state.json" "$W/seed.json"
a_sim_state "$W/s0.json"
ORPHANS=$(a_ids_where "$W/s0.json" "not m.vm.exists")
expect_eq "2 orphaned targets" 2 "$(a_eval "$W/s0.json" "#split('$ORPHANS')")"
LATER=$(date -u -d "$T0 + 11 minutes" +%Y-%m-%dT%H:%M:%SZ)

# ---- control: past the grace, with no fault, apply would delete them ----------------
a_reset_log
NOW=$LATER a_osc -c "$W/c.yaml" --format json plan
expect_rc "control: plan past the grace has changes" 2
a_check "control: plan would delete exactly the 2 orphans" "$OUT" \
  "same(join((function() local o = {} for _, a in ipairs(J.scale_sets[1].actions) do if a.action == 'delete' then o[#o + 1] = a.target_id end end return o end)()), '$ORPHANS')"

# ---- the matrix -------------------------------------------------------------------------
# read: name | route | page (- for none) | its list (or payload) field |
#       text the message must contain
READS=(
  "token|entra.token|-|access_token|Azure token"
  "vmss|arm.vmss_get|-|properties|Azure VMSS GET"
  "vm-pages|arm.vm_list|2|value|Azure VM list page 2"
  "nic-pages|arm.nic_list|2|value|Azure NIC list page 2"
  "spaces|octopus.spaces_list|-|Items|Octopus space lookup 'Default'"
  "environments|octopus.environments_list|-|Items|Octopus environment lookup 'Production'"
  "tenants|octopus.tenants_list|-|Items|Octopus tenant lookup 'Contoso'"
  "machine-pages|octopus.machines_list|2|Items|Octopus machines list page 2"
)
# failure: name | exit | the fault rule's effect (JSON members; FIELD is
# the read's list field)
FAILURES=(
  '5xx|4|"status":503'
  '429-storm|4|"status":429,"retry_after":1'
  'reset|4|"reset":true'
  'timeout|4|"latency_ms":2500'
  'truncated|4|"truncate":true'
  'html-200|4|"html":true'
  'null-list|4|"set":{"FIELD":null}'
  'empty-200|4|"empty":true'
  'self-next|4|"next_link":"self"'
  'oversize|4|"oversize":67108865'
  '401-refused|1|"status":401'
)
# A next-page link means nothing on a read that is not a list.
not_applicable() {
  [[ $2 == self-next && ($1 == token || $1 == vmss) ]]
}

TABLE="$W/table.md"
printf '| read | failure | exit | writes | state | ms | message |\n|---|---|---|---|---|---|---|\n' >"$TABLE"
CASE_N=0
# Each run is bounded (a loop that is not caught must fail the cell, not
# hang the suite).
run_bounded() {
  OUT="$W/out.$CASE_N" ERR="$W/err.$CASE_N"
  OCTOSCALE_NOW=$LATER timeout -k 5 120 "$OCTOSCALE" "$@" >"$OUT" 2>"$ERR" </dev/null
  RC=$?
}

run_case() {
  local read=$1 route=$2 page=$3 want=$4 text=$5 fname=$6 effect=$7
  local label="$read x $fname" rule writes state msg
  rule="{\"name\":\"matrix\",\"route\":\"$route\"${page/#-/}"
  [[ $page != - ]] && rule="{\"name\":\"matrix\",\"route\":\"$route\",\"page\":$page"
  rule="[$rule,$effect}]"
  cp "$W/seed.json" "$W/state.json"
  a_faults "$rule" || return
  a_reset_log
  CASE_N=$((CASE_N + 1))
  local t0
  t0=$(date +%s%3N)
  run_bounded -c "$W/c.yaml" apply
  ELAPSED_MS=$(($(date +%s%3N) - t0))
  a_log "$W/l.$CASE_N.json"
  expect_rc "$label: exit" "$want"
  # one pass over the request log: writes, and requests the rule answered
  local counts fired
  counts=$(a_eval "$W/l.$CASE_N.json" "#where(function(r) return r.method ~= 'GET' and r.route ~= 'entra.token' end) .. ' ' .. #where(function(r) return r.faults and r.faults[1] == 'matrix' end)")
  read -r writes fired <<<"$counts"
  expect_eq "$label: zero writes" 0 "$writes"
  if cmp -s "$W/seed.json" "$W/state.json"; then state=same; ok "$label: state unchanged"; else
    state=changed
    not_ok "$label: state changed: $(diff "$W/seed.json" "$W/state.json" | head -5)"
  fi
  expect_in "$label: message names the read" "$ERR" "$text"
  if [[ ${fired:-0} -ge 1 ]]; then ok "$label: the fault fired"; else not_ok "$label: the fault never fired"; fi
  msg=$(grep -F -m1 -- "$text" "$ERR" || head -1 "$ERR")
  msg=${msg//|/\\|}
  msg=${msg#octoscale: error: web-prod: }
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$read" "$fname" "$RC" "$writes" "$state" "$ELAPSED_MS" "${msg:0:150}" >>"$TABLE"
  # a broken case must not leave the world changed for the next ones
  if [[ $writes != 0 ]]; then
    not_ok "$label: writes happened; the remaining cells run on a changed world"
  fi
}

for r in "${READS[@]}"; do
  IFS='|' read -r read route page field text <<<"$r"
  for f in "${FAILURES[@]}"; do
    IFS='|' read -r fname want effect <<<"$f"
    effect=${effect//FIELD/$field}
    if not_applicable "$read" "$fname"; then
      printf '| %s | %s | n/a | | | | not a list: no next link to follow |\n' "$read" "$fname" >>"$TABLE"
      continue
    fi
    run_case "$read" "$route" "$page" "$want" "$text" "$fname" "$effect"
  done
done
a_faults '[]' || exit 1

# ---- control: the same apply without a fault deletes the 2 orphans ------------------------
cp "$W/seed.json" "$W/state.json"
a_reset_log
NOW=$LATER a_osc -c "$W/c.yaml" apply
expect_rc "control: apply past the grace" 0
a_log "$W/lc.json"
expect_eq "control: apply deleted exactly the 2 orphans" "$ORPHANS" "$(a_deleted_ids "$W/lc.json")"

echo "# fault matrix"
cat "$TABLE"
stop_sim
finish
