#!/usr/bin/env bash
# Paging loops and lists that change while being read (safety rule 2,
# README "Safety") end a run at once with exit 4 and nothing
# written: an ARM nextLink pointing at its own page (VM and NIC lists), a
# page repeating its $skiptoken, a page with a next link but no item, an
# Octopus Links["Page.Next"] loop, and a TotalResults that changes between
# pages; with the machine pages after the first fetched together, a failed,
# short or misplaced page among them. The self-pointing cases also measure the peak RSS (under 64 MiB;
# the sanitizer build, whose shadow memory alone is larger, under 512 MiB)
# and count the list requests (a loop is noticed within two pages).
# A control run without faults then deletes the 2 orphans, so the stops
# above really prevented deletions.
# Usage: bash tests/integration/apply_loops.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start "$A_INT_DIR/scenarios/loops.yaml" || exit 1
W=$A_WORK
a_config "$W/c.yaml"
T0=$(a_now)
LATER=$(a_now 3600)
RSS_LIMIT_KB=$((64 * 1024))
if grep -q __asan_init "$OCTOSCALE" 2>/dev/null; then RSS_LIMIT_KB=$((512 * 1024)); fi

NOW=$T0 a_osc -c "$W/c.yaml" apply
expect_rc "first apply records the 2 orphans" 0

# loop_case NAME FAULTS_JSON ROUTE MAX_REQUESTS EXPECTED_TEXT
loop_case() {
  local name=$1 faults=$2 route=$3 max=$4 text=$5 t0 t1
  a_faults "$faults" || return 1
  a_reset_log
  OUT="$W/out.$name" ERR="$W/err.$name"
  t0=$(date +%s%3N)
  OCTOSCALE_NOW=$LATER /usr/bin/time -f %M -o "$W/rss.$name" \
    "$OCTOSCALE" -c "$W/c.yaml" --format json apply >"$OUT" 2>"$ERR" </dev/null
  RC=$?
  t1=$(date +%s%3N)
  expect_rc "$name: safety stop" 4
  a_log "$W/log.$name.json"
  expect_eq "$name: zero DELETE or PUT" "" "$(a_writes "$W/log.$name.json")"
  a_check "$name: at most $max $route requests" "$W/log.$name.json" \
    "n('$route') >= 1 and n('$route') <= $max"
  a_check "$name: JSON status safety_stop" "$OUT" \
    "J.scale_sets[1].status == 'safety_stop' and J.scale_sets[1].message:find('$text', 1, true) ~= nil"
  expect_in "$name: stderr names the loop" "$ERR" "$text"
  local rss
  rss=$(tail -n 1 "$W/rss.$name")
  if [[ $rss =~ ^[0-9]+$ && $rss -lt $RSS_LIMIT_KB ]]; then
    ok "$name: peak RSS ${rss} KiB < ${RSS_LIMIT_KB} KiB ($((t1 - t0)) ms)"
  else
    not_ok "$name: peak RSS '$rss' KiB (limit ${RSS_LIMIT_KB})"
  fi
  if ((t1 - t0 < 30000)); then ok "$name: ended within seconds"; else not_ok "$name: took $((t1 - t0)) ms"; fi
}

loop_case vm-self '[{"route":"arm.vm_list","next_link":"self"}]' arm.vm_list 2 "loop"
loop_case vm-page2-self '[{"route":"arm.vm_list","page":2,"next_link":"self"}]' arm.vm_list 3 "repeats an earlier one"
loop_case nic-self '[{"route":"arm.nic_list","next_link":"self"}]' arm.nic_list 2 "loop"
loop_case vm-empty-page '[{"route":"arm.vm_list","page":2,"drop_items":2}]' arm.vm_list 2 "no item points at a next page"
loop_case machines-self '[{"route":"octopus.machines_list","next_link":"self"}]' octopus.machines_list 2 "loop"
loop_case machines-page3-self '[{"route":"octopus.machines_list","page":3,"next_link":"self"}]' octopus.machines_list 4 "loop"
# Octopus pages 2..4 go out together once page 1 reports TotalResults and
# ItemsPerPage: each case may see all 4 requested, and every page is still
# checked (its total, its items, where its next link points).
loop_case machines-total '[{"route":"octopus.machines_list","page":2,"set":{"TotalResults":9}}]' octopus.machines_list 4 "reported total changed from 8 to 9"
loop_case machines-page2-404 '[{"route":"octopus.machines_list","page":2,"status":404}]' octopus.machines_list 4 "machines list page 2"
a_check "machines-page2-404: pages 3 and 4 were requested with page 2, not after it" \
  "$W/log.machines-page2-404.json" "n('octopus.machines_list') == 4"
loop_case machines-page3-short '[{"route":"octopus.machines_list","page":3,"drop_items":1}]' octopus.machines_list 4 "returned 7 of 8 machines"
loop_case machines-last-next '[{"route":"octopus.machines_list","page":4,"next_link":"self"}]' octopus.machines_list 4 "page 4 of 4 (by TotalResults) points at a next page"

a_sim_state "$W/s1.json"
a_check "Octopus still holds all 8 targets" "$W/s1.json" "#J.machines == 8"

# ---- control: the same run without faults deletes the 2 orphans --------------
a_faults '[]' || exit 1
a_reset_log
NOW=$LATER a_osc -c "$W/c.yaml" --format json apply
expect_rc "control: apply without faults" 0
a_log "$W/log.control.json"
expect_eq "control: the 2 orphans are deleted" "$(a_ids_where "$W/s1.json" "m.name == 'web000006' or m.name == 'web000007'")" \
  "$(a_deleted_ids "$W/log.control.json")"
a_check "control: machines read in 4 pages of 2" "$W/log.control.json" "n('octopus.machines_list') == 4"

finish
