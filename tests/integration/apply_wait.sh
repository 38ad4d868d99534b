#!/usr/bin/env bash
# apply --wait (docs/design.md §4): 2 new VMs are Creating
# for 30 simulated seconds, and an orphan is past its grace.
#  - a bound shorter than that with --on-timeout fail -> exit 5 after the
#    bound, JSON status "timeout", zero DELETE or PUT;
#  - the same bound with the default (proceed) -> exit 0 with a warning,
#    and the run goes on to delete the orphan;
#  - on a terminal (script(1)), the progress line is redrawn in place;
#  - with the simulator's clock driven from a background loop, --wait
#    polls (--poll-interval 1s) until the VMs are Succeeded, then proceeds:
#    Octopus progress messages while waiting, and the outputs include the
#    2 new targets.
# Usage: bash tests/integration/apply_wait.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-outputs.yaml || exit 1
W=$A_WORK
a_config "$W/c.yaml" 'return { grace = { orphan = "10m" } }'
a_sim_state "$W/s0.json"
ORPHAN=$(a_ids_where "$W/s0.json" "not m.vm.exists")
T0=$(a_now)
LATER=$(date -u -d "$T0 + 11 minutes" +%Y-%m-%dT%H:%M:%SZ)

NOW=$T0 a_osc -c "$W/c.yaml" apply
expect_rc "first apply: the orphan recorded" 0

a_action '{"scale":{"scale_set":"vmss-web","capacity":5}}' || exit 1
a_sim_state "$W/s1.json"
a_check "2 VMs Creating" "$W/s1.json" \
  "(function() local k = 0 for _, v in ipairs(J.scale_sets[1].vms) do if v.state == 'Creating' then k = k + 1 end end return k == 2 end)()"

# ---- short bound, --on-timeout fail ---------------------------------------------------
a_reset_log
NOW=$LATER a_osc -c "$W/c.yaml" --format json apply --wait=1s --poll-interval 1s --on-timeout fail
expect_rc "--wait=1s --on-timeout fail, VMs still Creating" 5
if ((ELAPSED_MS >= 1000 && ELAPSED_MS < 5000)); then ok "it waited for the bound (${ELAPSED_MS} ms)"; else not_ok "it took ${ELAPSED_MS} ms for a 1 s bound"; fi
a_log "$W/l1.json"
expect_eq "zero DELETE or PUT" "" "$(a_writes "$W/l1.json")"
a_check "it polled the scale set again" "$W/l1.json" "n('arm.vm_list') >= 2"
a_check "JSON: status timeout" "$OUT" "J.scale_sets[1].status == 'timeout'"
a_check "state: the orphan is still recorded" "$W/state.json" "has(join(keys(J.scale_sets['web-prod'].orphans)), '$ORPHAN')"

# ---- short bound, proceed -------------------------------------------------------------
a_reset_log
NOW=$LATER a_osc -c "$W/c.yaml" apply --wait=1s --poll-interval 1s
expect_rc "--wait=1s (proceed), VMs still Creating" 0
expect_in "a warning says it proceeds" "$ERR" "proceeding"
a_log "$W/l2.json"
expect_eq "it proceeded: the orphan deleted, nothing else" "DELETE octopus.machine_delete $ORPHAN 200" "$(a_writes "$W/l2.json")"

# ---- on a terminal: a live progress line ------------------------------------------------
if command -v script >/dev/null 2>&1; then
  OCTOSCALE_NOW=$LATER script -qec "'$OCTOSCALE' -c '$W/c.yaml' apply --wait=1s --poll-interval 1s" /dev/null >"$W/tty.out" 2>&1 </dev/null
  if grep -q $'\r\033\[K.*waiting for provisioning: 3/5 VMs settled' "$W/tty.out"; then
    ok "on a terminal, the progress line is redrawn in place (3/5 settled)"
  else
    not_ok "no live progress line: $(head -c 400 "$W/tty.out" | cat -v)"
  fi
else
  echo "# script(1) not found: live progress line not checked"
fi

# ---- a bound long enough: waits, then proceeds ----------------------------------------------
a_sim_state "$W/s2.json"
a_check "the 2 VMs are still Creating" "$W/s2.json" \
  "(function() local k = 0 for _, v in ipairs(J.scale_sets[1].vms) do if v.state == 'Creating' then k = k + 1 end end return k == 2 end)()"
a_reset_log
a_clock_driver 3 0.2 20 # +3 simulated seconds every 0.2 s: Succeeded after ~2 s
NOW=$LATER a_osc -c "$W/c.yaml" apply --wait=30s --poll-interval 1s --octopus-output
kill "$A_CLOCK_PID" 2>/dev/null
wait "$A_CLOCK_PID" 2>/dev/null
expect_rc "--wait=30s while the clock runs" 0
if ((ELAPSED_MS >= 1000 && ELAPSED_MS < 15000)); then ok "it waited (${ELAPSED_MS} ms)"; else not_ok "it took ${ELAPSED_MS} ms"; fi
a_log "$W/l3.json"
a_check "it polled the VM list several times" "$W/l3.json" "n('arm.vm_list') >= 2"
a_check "the last VM list was read after the VMs succeeded (>= 30 simulated s)" "$W/l3.json" \
  "(function() local last for _, r in ipairs(J) do if r.route == 'arm.vm_list' then last = r end end return last.sim_time >= '$(date -u -d "$T0 + 30 seconds" +%Y-%m-%dT%H:%M:%SZ)' end)()"
expect_eq "no DELETE or PUT (nothing left to do)" "" "$(a_writes "$W/l3.json")"
PROGRESS=$(grep -oE "^##octopus\[progress percentage='[A-Za-z0-9+/=]*' message='[A-Za-z0-9+/=]*'\]$" "$OUT" |
  sed -E "s/.*message='([^']*)'.*/\1/" | while read -r m; do printf '%s' "$m" | base64 -d; echo; done)
if grep -q 'waiting for provisioning: 3/5 VMs settled' <<<"$PROGRESS" && grep -q '5/5 VMs settled' <<<"$PROGRESS"; then
  ok "Octopus progress messages go from 3/5 to 5/5 settled"
else
  not_ok "progress messages: $PROGRESS"
fi
a_sim_state "$W/s3.json"
ALL=$(a_ids_where "$W/s3.json" "true")
expect_eq "outputs: all 5 targets, the 2 new included" "$ALL" \
  "$(a_decode_outputs_sorted "$OUT" | sed -n 's/^VMSSDeploymentTargetIds=//p')"

stop_sim
finish
