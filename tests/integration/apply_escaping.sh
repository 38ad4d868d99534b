#!/usr/bin/env bash
# Server- and policy-supplied text never becomes an Octopus service message
# (docs/design.md section 8): every target name here ends in
#   \n##octopus[setVariable name='SW5qZWN0ZWQ=' value='VHJ1ZQ==']
# ("Injected" = "True"), and one orphan too. In the text plan, the apply
# summary and outputs with --octopus-output, the -v logs and an error line
# the name prints escaped ("\n" as two characters; a policy's print of it
# too): no line of stdout or
# stderr starts a service message octoscale did not write itself.
# Usage: bash tests/integration/apply_escaping.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

INJECT="##octopus[setVariable name='SW5qZWN0ZWQ=' value='VHJ1ZQ==']"
cat >"$A_WORK/inject.yaml" <<EOF
name: inject
start: 2026-11-27T10:00:00Z
azure:
  subscriptions:
    - id: 00000000-0000-4000-8000-000000000001
      resource_groups:
        - name: rg-web
          location: westeurope
          scale_sets:
            - name: vmss-web
              vms: 4
              computer_name_prefix: web
octopus:
  spaces:
    - name: Default
      environments: [Production]
      machines:
        - from_scale_set: vmss-web
          roles: [web-server]
          environment: Production
          name: "{computer_name}\\n$INJECT"
        - name: "gone\\r\\n$INJECT"
          roles: [web-server]
          environment: Production
          vm: none
EOF
a_start "$A_WORK/inject.yaml" || exit 1
W=$A_WORK
a_config "$W/c.yaml" "return {
  grace = { orphan = '10m' },
  owns = function(target, ctx) return true end, -- every target is the set's
  target_name = function(vm, ctx)
    print('naming ' .. vm.computer_name .. '\\n' .. [=[$INJECT]=])
    return vm.computer_name .. '\\n' .. [=[$INJECT]=]
  end,
}"
T0=$(a_now)
at() { date -u -d "$T0 + $1 minutes" +%Y-%m-%dT%H:%M:%SZ; }

# No line of FILE may be a service message octoscale did not write: the only
# ones it writes name its own outputs (base64 of VMSS...) or are progress,
# highlight or artifact messages.
no_injection() {
  local desc=$1 file=$2
  if grep -q "^##octopus\[setVariable name='SW5qZWN0ZWQ='" "$file"; then
    not_ok "$desc: an injected service message: $(grep -n "SW5qZWN0ZWQ" "$file" | head -2)"
  else
    ok "$desc: no injected service message"
  fi
}

# ---- plan: text and -v logs -------------------------------------------------------------
NOW=$T0 a_osc -c "$W/c.yaml" -v plan
expect_rc "plan" 0
no_injection "plan stdout" "$OUT"
no_injection "plan -v stderr" "$ERR"
expect_in "the text plan shows the name escaped" "$OUT" "web000001\\n$INJECT"
expect_in "the orphan's name too, \\r included" "$OUT" "gone\\r\\n$INJECT"
expect_in "the policy's print shows the name escaped" "$ERR" "naming web000001\\n$INJECT"

# ---- apply --octopus-output: summary, outputs line, setVariable -------------------------
NOW=$T0 a_osc -c "$W/c.yaml" -v apply --octopus-output
expect_rc "apply --octopus-output" 0
no_injection "apply stdout" "$OUT"
no_injection "apply stderr" "$ERR"
expect_in "the outputs line shows the names escaped" "$OUT" "VMSSDeploymentTargetNames=web000000\\n$INJECT"
a_decode_outputs "$W/out.$A_N" >"$W/vars"
expect_not_in "no output named Injected" "$W/vars" "Injected="
if grep -q "^VMSSDeploymentTargetNames=web000000$" "$W/vars" && grep -qF "$INJECT" "$W/vars"; then
  ok "the output variable keeps the real names (newline and all, inside base64)"
else
  not_ok "output variable: $(head -c 400 "$W/vars")"
fi

# ---- an error line naming the target: the orphan's DELETE fails ------------------------
a_faults '[{"name":"no-delete","route":"octopus.machine_delete","status":500}]' || exit 1
NOW=$(at 11) a_osc -c "$W/c.yaml" apply --octopus-output
expect_rc "apply whose DELETE fails" 1
no_injection "failed apply stdout" "$OUT"
no_injection "failed apply stderr" "$ERR"
expect_in "the error names the target, escaped" "$ERR" "gone\\r\\n$INJECT"
a_log "$W/l1.json"
a_check "the DELETE was tried" "$W/l1.json" "n('octopus.machine_delete', 'DELETE') >= 1"

stop_sim
finish
