#!/usr/bin/env bash
# Octopus pacing (README, "Octopus pacing"), against the simulator's token
# bucket (200 a minute, burst 20) with 30 orphans to delete:
#  - default config (auto): unpaced until the first 429 (the whole burst is
#    spent before it), paced after it (one info line naming the rate), few
#    429s in all (those in flight when the first came, and at most two
#    more), every deletion done, exit 0;
#  - the same server without its limit: no 429, no pacing;
#  - requests_per_minute: 0 never paces: the 429s are waited out
#    (Retry-After) and retried, and every deletion is still done.
# Behaviour only: nothing here asserts on time.
# Usage: bash tests/integration/apply_pacing.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

POLICY='return { grace = { orphan = "0s" }, max_delete = "100%" }'
RATE_LIMIT='[{"name":"octopus-rate-limit","route":"octopus.*","rate_limit":{"per_minute":200,"burst":20}}]'
W=$A_WORK

# Lua over the request log: Octopus requests, their 429s, and how many the
# server accepted before its first 429.
OCTO='local function octo() return where(function(r) return r.route:match("^octopus%.") ~= nil end) end
local function n429() return #where(function(r) return r.route:match("^octopus%.") and r.status == 429 end) end
local function before_first_429() local k = 0 for _, r in ipairs(octo()) do if r.status == 429 then return k end k = k + 1 end return k end'

fresh() { # restart the simulator from the scenario: 30 orphans again
  stop_sim
  a_start octopus-pacing.yaml || exit 1
  a_config "$W/c.yaml" "$POLICY"
  rm -f "$W/state.json"
}

# ---- auto (the default) against a limited server -------------------------------
fresh
a_osc -c "$W/c.yaml" apply
expect_rc "auto: apply" 0
a_log "$W/auto.json"
a_sim_state "$W/s-auto.json"
a_check "auto: every orphan deleted (10 targets left, one per VM)" "$W/s-auto.json" "#J.machines == 10"
a_check "auto: 30 DELETEs accepted" "$W/auto.json" \
  "#where(function(r) return r.method == 'DELETE' and r.status == 200 end) == 30"
a_check "auto: the whole burst (20) was spent before the first 429: no pacing before it" \
  "$W/auto.json" "(function() $OCTO return before_first_429() == 20 end)()"
a_check "auto: the server answered 429 at least once" "$W/auto.json" "(function() $OCTO return n429() >= 1 end)()"
a_check "auto: few 429s: at most the 8 in flight plus 2" "$W/auto.json" "(function() $OCTO return n429() <= 10 end)()"
expect_eq "auto: pacing switched on once, at 200 a minute" 1 \
  "$(grep -c 'answered HTTP 429: pacing its requests at 200 a minute' "$ERR")"

# ---- auto against the same server without a limit ---------------------------------
fresh
a_faults '[]'
a_osc -c "$W/c.yaml" apply
expect_rc "unlimited: apply" 0
a_log "$W/free.json"
a_check "unlimited: 30 DELETEs, no 429" "$W/free.json" \
  "#where(function(r) return r.method == 'DELETE' and r.status == 200 end) == 30 and #where(function(r) return r.status == 429 end) == 0"
expect_eq "unlimited: pacing never switched on" 0 "$(grep -c 'pacing its requests' "$ERR")"

# ---- requests_per_minute: 0 -----------------------------------------------------------
fresh
a_faults "$RATE_LIMIT"
sed -i 's/^  space: Default$/  space: Default\n  requests_per_minute: 0/' "$W/c.yaml"
a_osc -c "$W/c.yaml" apply
expect_rc "0: apply" 0
a_log "$W/zero.json"
a_check "0: the 429s were retried and every orphan deleted" "$W/zero.json" \
  "(function() $OCTO return n429() >= 1 end)() and #where(function(r) return r.method == 'DELETE' and r.status == 200 end) == 30"
expect_eq "0: never paced" 0 "$(grep -c 'pacing its requests' "$ERR")"

finish
