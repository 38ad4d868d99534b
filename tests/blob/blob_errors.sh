#!/usr/bin/env bash
# What can go wrong with a state blob, and the two other ways in:
#  - a wrong account key, a missing container, a corrupt blob: exit 1 with
#    one clear line (the container named; the key never printed), and a
#    corrupt blob is never overwritten;
#  - SAS authorization works like Shared Key;
#  - a version-1 state (the file format before named baselines) is upgraded
#    on the first apply: its baseline becomes "default";
#  - `state copy` round trip file -> blob -> file keeps every record;
#  - `state unlock` prints the holder, needs --yes, then breaks the lease.
# Usage: bash tests/blob/blob_errors.sh BUILD_DIR
source "$(dirname "$0")/blob_lib.sh" "$1"

b_start apply-outputs.yaml || exit 1
W=$A_WORK
b_config "$W/c.yaml"

# ---- wrong key -------------------------------------------------------------------
WRONG=$(printf 'not the key, but 64 bytes long: 0123456789012345678901234567' | base64 -w0)
STATE="{url: \"$AZ_URL\", auth: shared_key, account_key: \"$WRONG\"}" a_config "$W/wrong.yaml"
a_osc -c "$W/wrong.yaml" apply
expect_rc "apply with a wrong account key" 1
expect_in "HTTP 403 and the storage error code" "$ERR" "HTTP 403 AuthorizationFailure"
expect_in "it says the key was refused" "$ERR" "the account key (state.account_key) was refused"
expect_not_in "the key is not printed" "$ERR" "$WRONG"
expect_eq "one line" 1 "$(wc -l <"$ERR")"
a_osc -c "$W/wrong.yaml" plan
expect_rc "plan with a wrong key" 1

# ---- missing container -------------------------------------------------------------
URL="$AZ_ENDPOINT/nosuchcontainer/state.json" STATE=$(URL="$AZ_ENDPOINT/nosuchcontainer/state.json" b_state_yaml) a_config "$W/nocontainer.yaml"
a_osc -c "$W/nocontainer.yaml" apply
expect_rc "apply with a missing container" 1
expect_in "the message names the container" "$ERR" "container 'nosuchcontainer' of storage account 'devstoreaccount1'"
expect_in "and the code" "$ERR" "ContainerNotFound"

# ---- SAS ----------------------------------------------------------------------------
AUTH_KIND=sas b_config "$W/sas.yaml"
a_osc -c "$W/sas.yaml" -v apply
expect_rc "apply with a SAS token" 0
code=$(b_blob "$W/sas.json")
expect_eq "the SAS run created the blob" 200 "$code"
a_check "and recorded its run" "$W/sas.json" "J.format_version == 2 and #J.runs == 1"
SIG=$(az_account_sas | sed 's/.*sig=//')
expect_not_in "the SAS signature is not logged" "$ERR" "$SIG"

# ---- version 1 -> 2 ------------------------------------------------------------------
a_sim_state "$W/s0.json"
ONE=$(a_eval "$W/s0.json" '(function() for _, m in ipairs(J.machines) do if m.vm ~= cjson.null then return m.id end end end)()')
cat >"$W/v1.json" <<JSON
{"format_version": 1, "updated_at": "2026-11-27T10:00:00Z",
 "scale_sets": {"web-prod": {"orphans": {"Machines-999": "2026-11-27T10:00:00Z"},
   "last_success": {"at": "2026-11-27T10:00:00Z", "targets": [{"id": "$ONE", "name": "x"}]}}},
 "runs": []}
JSON
expect_eq "a version-1 state in the blob" 201 "$(b_put_blob "$W/v1.json")"
a_osc -c "$W/c.yaml" apply --only-new --octopus-output
expect_rc "apply --only-new on a version-1 state" 0
NEW=$(a_output "$OUT" VMSSDeploymentTargetIds)
check "outputs list targets" test -n "$NEW"
check "the version-1 baseline counts: $ONE is not new" bash -c "! grep -qw '$ONE' <<<'$NEW'"
b_blob "$W/v2.json" >/dev/null
a_check "the blob is version 2 with a default baseline, no last_success" "$W/v2.json" \
  "J.format_version == 2 and J.scale_sets['web-prod'].baselines.default ~= nil and J.scale_sets['web-prod'].last_success == nil"

# ---- state copy round trip ---------------------------------------------------------------
a_osc -c "$W/c.yaml" state copy "$AZ_URL" "$W/copy.json"
expect_rc "state copy blob -> file" 0
expect_in "it says what it copied" "$OUT" "copied state (1 scale set"
OTHER="$AZ_ENDPOINT/state/migrated/state.json"
a_osc -c "$W/c.yaml" state copy "$W/copy.json" "$OTHER"
expect_rc "state copy file -> another blob" 0
a_osc -c "$W/c.yaml" state copy "$OTHER" "$W/back.json"
expect_rc "state copy that blob -> file" 0
check "the round trip keeps every byte" cmp "$W/copy.json" "$W/back.json"
a_check "the copy has the orphan and the baseline" "$W/back.json" \
  "J.scale_sets['web-prod'].baselines.default ~= nil and #J.runs >= 1"
a_osc -c "$W/c.yaml" state copy "$W/missing.json" "$OTHER"
expect_rc "copying a missing state" 1

# ---- corrupt blob ----------------------------------------------------------------------------
printf '{"format_version": 2, "scale_sets": {"web-prod": {"orph' >"$W/corrupt.json"
expect_eq "a corrupt blob" 201 "$(b_put_blob "$W/corrupt.json")"
a_reset_log
a_osc -c "$W/c.yaml" apply
expect_rc "apply on a corrupt blob" 1
expect_in "it says so" "$ERR" "state blob $AZ_URL is corrupt"
a_log "$W/l5.json"
expect_eq "nothing changed in Octopus" "" "$(a_writes "$W/l5.json")"
b_blob "$W/after.json" >/dev/null
check "the corrupt blob is not overwritten" cmp "$W/corrupt.json" "$W/after.json"
expect_eq "and not left leased" available "$(b_lease_state)"

# ---- state unlock ------------------------------------------------------------------------------
b_put_blob "$W/back.json" >/dev/null
expect_eq "someone takes the lease" 201 "$(az_req PUT /state/octoscale/state.json comp=lease "" \
  "x-ms-lease-action: acquire" "x-ms-lease-duration: 60" "x-ms-proposed-lease-id: 0f0f0f0f-0000-4000-8000-000000000001")"
expect_eq "and records itself" 200 "$(az_req PUT /state/octoscale/state.json comp=metadata "" \
  "x-ms-lease-id: 0f0f0f0f-0000-4000-8000-000000000001" "x-ms-meta-octoscale_pid: 777" \
  "x-ms-meta-octoscale_host: worker-9" "x-ms-meta-octoscale_started: 2026-11-27T10:00:00Z")"
a_osc -c "$W/c.yaml" state show --format json
a_check "state show names the holder" "$OUT" \
  "J.locked == true and J.holder == 'pid 777 (started 2026-11-27T10:00:00Z on host worker-9)'"
a_osc -c "$W/c.yaml" state unlock
expect_rc "state unlock without --yes" 3
expect_in "it prints the holder first" "$OUT" "locked by pid 777 (started 2026-11-27T10:00:00Z on host worker-9)"
expect_eq "the lease is still there" leased "$(b_lease_state)"
a_osc -c "$W/c.yaml" state unlock --yes
expect_rc "state unlock --yes" 0
expect_in "it says it broke the lease" "$OUT" "unlocked"
expect_eq "the lease is broken" broken "$(b_lease_state)"
a_osc -c "$W/c.yaml" apply
expect_rc "apply after the unlock" 0

stop_sim
finish
