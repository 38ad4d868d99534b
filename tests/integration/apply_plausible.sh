#!/usr/bin/env bash
# Safety rule 2 (README "Safety") against answers that look fine
# but are not: a VMSS body without sku, with a null or 64-bit-overflowing
# capacity, each with an empty VM list; and a VM list of 3 while the scale
# set reports capacity 5 (no nextLink, not Updating, no VM Creating). Each
# is applied twice - once to see the targets "orphaned", once past the
# orphan grace - and must end in exit 4 with zero DELETE or PUT and no
# orphan clock started. A control run then shows the same config deletes
# the one real orphan.
# Usage: bash tests/integration/apply_plausible.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start "$A_INT_DIR/scenarios/data-safety.yaml" || exit 1
W=$A_WORK
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]
  - name: app-prod
    resource_group: rg-web
    vmss: vmss-app
    environment: Production
    roles: [app-server]" a_config "$W/c.yaml"
T0=$(a_now)

# stop_case NAME ENTRY FAULTS_JSON TEXT
stop_case() {
  local name=$1 entry=$2 faults=$3 text=$4 when
  rm -f "$W/state.json"
  a_faults "$faults" || return 1
  a_reset_log
  for when in 60 3600; do
    NOW=$(a_now "$when") a_osc -c "$W/c.yaml" -s "$entry" --format json apply
    expect_rc "$name (+${when}s): safety stop" 4
    a_check "$name (+${when}s): status safety_stop naming the numbers" "$OUT" \
      "J.scale_sets[1].status == 'safety_stop' and J.scale_sets[1].message:find('$text', 1, true) ~= nil"
  done
  expect_in "$name: stderr says why" "$ERR" "$text"
  a_log "$W/log.$name.json"
  expect_eq "$name: zero DELETE or PUT" "" "$(a_writes "$W/log.$name.json")"
  if [[ -f $W/state.json ]]; then
    a_check "$name: no orphan clock started" "$W/state.json" \
      "next((J.scale_sets['$entry'] or {}).orphans or {}) == nil"
  else
    ok "$name: no orphan clock started (no state written)"
  fi
}

stop_case no-sku-flexible app-prod \
  '[{"route":"arm.vmss_get","remove":["sku"]},{"route":"arm.flex_vm_list","drop_items":100}]' \
  "capacity is unknown (the scale set body has no sku)"
stop_case no-sku-uniform web-prod \
  '[{"route":"arm.vmss_get","remove":["sku"]},{"route":"arm.vm_list","drop_items":100}]' \
  "capacity is unknown (the scale set body has no sku)"
stop_case null-capacity web-prod \
  '[{"route":"arm.vmss_get","set":{"sku.capacity":null}},{"route":"arm.vm_list","drop_items":100}]' \
  "capacity is unknown (sku.capacity is null)"
stop_case huge-capacity web-prod \
  '[{"route":"arm.vmss_get","set":{"sku.capacity":18446744073709551616}},{"route":"arm.vm_list","drop_items":100}]' \
  "fits in 64 bits"
stop_case short-list web-prod \
  '[{"route":"arm.vm_list","drop_items":2}]' \
  "capacity 5 but the VM list has 3 VMs"
stop_case short-list-flexible app-prod \
  '[{"route":"arm.flex_vm_list","drop_items":1}]' \
  "capacity 3 but the VM list has 2 VMs"

a_sim_state "$W/s1.json"
a_check "Octopus still holds all 11 targets" "$W/s1.json" "#J.machines == 11"

# ---- control: no faults, the real orphan goes after the grace -----------------
rm -f "$W/state.json"
a_faults '[]' || exit 1
a_reset_log
NOW=$T0 a_osc -c "$W/c.yaml" -s web-prod apply
expect_rc "control: first sighting" 0
NOW=$(a_now 3600) a_osc -c "$W/c.yaml" -s web-prod --format json apply
expect_rc "control: past the grace" 0
a_log "$W/log.control.json"
expect_eq "control: web000009 deleted" "$(a_ids_where "$W/s1.json" "m.name == 'web000009'")" \
  "$(a_deleted_ids "$W/log.control.json")"

finish
