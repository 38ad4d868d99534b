#!/usr/bin/env bash
# apply --report FILE.html: one self-contained page
# (no external scripts, styles, images or fonts) naming the scale set and
# every action with its reason and result, with an inline chart; with
# --octopus-output the report is announced by a createArtifact message
# whose path (absolute, also for a relative --report), name and length
# decode to the real file.
# Usage: bash tests/integration/apply_report.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-outputs.yaml || exit 1
W=$A_WORK
a_config "$W/c.yaml" 'return { grace = { orphan = "10m" },
  on_scale_in = function() return "delete", "scale-in confirmed" end }'
a_sim_state "$W/s0.json"
ORPHAN=$(a_ids_where "$W/s0.json" "not m.vm.exists")
ORPHAN_NAME=$(a_names_where "$W/s0.json" "not m.vm.exists")
T0=$(a_now)
NOW=$T0 a_osc -c "$W/c.yaml" apply
expect_rc "first apply: the orphan recorded" 0

a_reset_log
mkdir -p "$W/run"
R="$W/run/report.html"
NOW=$(date -u -d "$T0 + 11 minutes" +%Y-%m-%dT%H:%M:%SZ) a_osc -c "$W/c.yaml" apply --report "$R" --octopus-output
expect_rc "apply --report --octopus-output" 0
a_log "$W/l1.json"
expect_eq "the action the report lists really happened" "DELETE octopus.machine_delete $ORPHAN 200" "$(a_writes "$W/l1.json")"
check "the report was written" test -s "$R"
check "it is an HTML document" grep -qi '^<!DOCTYPE html>' "$R"
check "it is complete" grep -qi '</html>' "$R"
expect_not_in "no external script" "$R" "<script src"
expect_not_in "no external stylesheet" "$R" "<link"
expect_not_in "no @import" "$R" "@import"
if grep -qiE "(src|href|xlink:href)=[\"']?(https?:)?//|url\\([\"']?(https?:)?//" "$R"; then
  not_ok "external reference: $(grep -oiE "(src|href|xlink:href)=[\"']?(https?:)?//[^ ]*|url\\([^)]*\\)" "$R" | head -3)"
else
  ok "no external asset of any kind"
fi
expect_in "names the scale set" "$R" "web-prod"
expect_in "lists the deleted target" "$R" "$ORPHAN_NAME"
expect_in "with its id" "$R" "$ORPHAN"
expect_in "with the reason" "$R" "grace 10m"
expect_in "and the policy's own reason" "$R" "grace 10m: scale-in confirmed"
if grep -F "$ORPHAN_NAME" "$R" | grep -i 'delete' | grep -qi 'done'; then
  ok "its row gives the action (delete) and the result (done)"
else
  not_ok "no row with $ORPHAN_NAME, delete and done: $(grep -F "$ORPHAN_NAME" "$R" | head -3)"
fi
check "has an inline chart" grep -qiE '<svg|<canvas|class="bar' "$R"

LINE=$(grep -E "^##octopus\[createArtifact " "$OUT")
if [[ $LINE =~ ^##octopus\[createArtifact\ path=\'([A-Za-z0-9+/=]*)\'\ name=\'([A-Za-z0-9+/=]*)\'\ length=\'([A-Za-z0-9+/=]*)\'\]$ ]]; then
  ok "one createArtifact message"
  expect_eq "artifact path" "$(cd "$W/run" && pwd -P)/report.html" "$(printf '%s' "${BASH_REMATCH[1]}" | base64 -d)"
  expect_eq "artifact name" "report.html" "$(printf '%s' "${BASH_REMATCH[2]}" | base64 -d)"
  expect_eq "artifact length" "$(stat -c %s "$R")" "$(printf '%s' "${BASH_REMATCH[3]}" | base64 -d)"
else
  not_ok "no well-formed createArtifact line: $(grep -F createArtifact "$OUT")"
fi

# ---- a relative --report path: the artifact path is absolute ---------------------------
(cd "$W/run" && NOW=$(date -u -d "$T0 + 12 minutes" +%Y-%m-%dT%H:%M:%SZ) a_osc -c "$W/c.yaml" apply --report again.html --octopus-output
  echo "$RC" >"$W/rel.rc"
  grep -E "^##octopus\[createArtifact " "$OUT" >"$W/rel.line")
expect_eq "relative --report: exit" 0 "$(cat "$W/rel.rc")"
check "relative --report: written in the working directory" test -s "$W/run/again.html"
P=$(sed -E "s/.*path='([^']*)'.*/\1/" "$W/rel.line" | base64 -d)
expect_eq "relative --report: artifact path is absolute" "$(cd "$W/run" && pwd -P)/again.html" "$P"

stop_sim
finish
