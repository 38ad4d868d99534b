#!/usr/bin/env bash
# Progress of a long apply (README "Progress"): 300 deletions paced by
# octopus.requests_per_minute: 200 (the first ~200 requests go at once, the
# other ~100 at 3.3/s: about 30 s) show progress at least every 10 s in each
# mode. The four runs go side by side, one scale set each:
#  - on a terminal (script(1)): a live line redrawn in place, with done/total,
#    rate, ETA and "paced";
#  - plain (stderr is a file or pipe): a first line once the work has
#    lasted a moment, then one every 10 s, never more often, while stdout
#    stays one --format json document;
#  - --octopus-output: ##octopus[progress] service messages, a bounded number;
#  - -q (on a terminal, with --octopus-output): no progress on any stream.
# Every run deletes exactly its 300 targets (request log) and its summary
# says so. Times are taken as the lines arrive (bash's EPOCHREALTIME).
# Usage: bash tests/integration/apply_progress.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

if ! command -v script >/dev/null 2>&1 || ! command -v stdbuf >/dev/null 2>&1; then
  echo "# script(1) or stdbuf(1) not found: the terminal mode cannot be checked" >&2
  exit 1
fi

a_start "$A_INT_DIR/scenarios/progress.yaml" || exit 1
W=$A_WORK
POLICY='return { grace = { orphan = "0s" }, max_delete = 300 }'
for m in t l o q; do
  ENTRIES="  - name: set-$m
    resource_group: rg-web
    vmss: vmss-$m
    environment: Env-${m^^}
    roles: [web-server]" OCTOPUS_YAML="  requests_per_minute: 200" STATE="$W/state-$m.json" \
    a_config "$W/$m.yaml" "$POLICY"
done

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
# Prefixes every line of stdin with the time it arrived (microseconds).
stamp() {
  local line
  while IFS= read -r line || [[ -n $line ]]; do
    printf '%s %s\n' "${EPOCHREALTIME/[.,]/}" "$line"
  done
}

# ---- the four runs, side by side ---------------------------------------------------------
RUNS=()
T0=$(now_ms)
(
  script -qfec "'$OCTOSCALE' -c '$W/t.yaml' apply" /dev/null </dev/null |
    stdbuf -o0 tr '\r' '\n' | stamp >"$W/t.out"
  echo "${PIPESTATUS[0]}" >"$W/t.rc"
  now_ms >"$W/t.end"
) &
RUNS+=($!)
(
  "$OCTOSCALE" -c "$W/l.yaml" --format json apply 2>&1 >"$W/l.out" </dev/null | stamp >"$W/l.err"
  echo "${PIPESTATUS[0]}" >"$W/l.rc"
  now_ms >"$W/l.end"
) &
RUNS+=($!)
(
  "$OCTOSCALE" -c "$W/o.yaml" apply --octopus-output 2>"$W/o.err" </dev/null | stamp >"$W/o.out"
  echo "${PIPESTATUS[0]}" >"$W/o.rc"
  now_ms >"$W/o.end"
) &
RUNS+=($!)
(
  script -qfec "'$OCTOSCALE' -q -c '$W/q.yaml' apply --octopus-output" /dev/null </dev/null >"$W/q.out"
  echo "$?" >"$W/q.rc"
) &
RUNS+=($!)
A_BG_PIDS+=("${RUNS[@]}")
wait "${RUNS[@]}"

# gaps FILE TEXT END_MS: "COUNT MAX MIN" over the lines holding TEXT: COUNT
# lines; MAX the longest gap from the start (T0) through each line to the
# end; MIN the shortest gap between two of them (ms).
gaps() {
  awk -v s="$T0" -v e="$3" -v pat="$2" '
    index($0, pat) { t = int($1 / 1000); n++; g = t - p; if (n == 1) g = t - s
                     if (g > max) max = g; if (n > 1 && (min == "" || g < min)) min = g; p = t }
    END { g = e - p; if (n == 0) g = e - s; if (g > max) max = g
          printf "%d %d %d\n", n, max, (min == "" ? 0 : min) }' "$1"
}
# 10 s, plus up to a second: a line is due at 10 s but shows at the next
# wake-up of the HTTP loop (at most 1 s later; ~0.3 s when paced), and the
# first gap includes the process's start.
MAX_GAP=11000

for m in t l o q; do
  expect_eq "run $m: exit 0" 0 "$(cat "$W/$m.rc")"
done

# ---- every run did its 300 deletions, paced -------------------------------------------------
a_log "$W/log.json"
a_check "1,200 DELETEs, all 2xx" "$W/log.json" \
  "n('octopus.machine_delete', 'DELETE') == 1200 and #where(function(r) return r.route == 'octopus.machine_delete' and r.status // 100 == 2 end) == 1200"
ELAPSED=$(($(cat "$W/l.end") - T0))
if ((ELAPSED >= 20000)); then ok "paced: 300 deletions took ${ELAPSED} ms at 200/min"; else not_ok "300 deletions took only ${ELAPSED} ms: not paced"; fi

# ---- terminal ----------------------------------------------------------------------------------
read -r N MAX _ <<<"$(gaps "$W/t.out" "deleting targets: " "$(cat "$W/t.end")")"
if ((N >= 10 && MAX <= MAX_GAP)); then
  ok "terminal: $N redraws, never more than ${MAX} ms apart"
else
  not_ok "terminal: $N redraws, longest gap ${MAX} ms: $(cut -d' ' -f2- "$W/t.out" | head -c 600 | cat -v)"
fi
expect_in "terminal: the line is redrawn in place" "$W/t.out" $'\033[Kdeleting targets: '
if grep -qE 'deleting targets: [0-9]+/300 targets \([0-9]+%\), [0-9.]+/s, ETA [0-9hms]+, paced' "$W/t.out"; then
  ok "terminal: done/total, rate, ETA and pacing shown"
else
  not_ok "terminal: no line with done/total, rate, ETA, paced: $(grep -a 'deleting' "$W/t.out" | tail -2 | cat -v)"
fi
expect_in "terminal: the last line shows 300/300" "$W/t.out" "deleting targets: 300/300 targets (100%)"
expect_in "terminal: the summary says what was done" "$W/t.out" "apply: 300 deleted, 0 failed, 0 disabled, 0 enabled, 0 skipped in "

# ---- plain ----------------------------------------------------------------------------------------
# (on a slow machine the reads may take long enough to show a line first)
read -r N MAX MIN <<<"$(gaps "$W/l.err" "octoscale: " "$(cat "$W/l.end")")"
if ((N >= 3 && MAX <= MAX_GAP)); then
  ok "plain: $N lines, never more than ${MAX} ms apart"
else
  not_ok "plain: $N lines, longest gap ${MAX} ms: $(cut -d' ' -f2- "$W/l.err" | head -c 600)"
fi
if ((MIN >= 9500)); then ok "plain: at most one line every 10 s (shortest gap ${MIN} ms)"; else not_ok "plain: lines ${MIN} ms apart"; fi
expect_in "plain: lines say the requests are paced" "$W/l.err" ", paced to the request rate limit"
expect_not_in "plain: no warning or error" "$W/l.err" "octoscale: error"
expect_not_in "plain: no terminal control characters" "$W/l.err" $'\033'
a_check "plain, --format json: stdout is the one JSON document, with the run's counts" "$W/l.out" \
  "J.command == 'apply' and J.run.deleted == 300 and J.run.failed == 0 and J.run.requests >= 300 and J.run.duration_ms >= 20000"

# ---- --octopus-output ------------------------------------------------------------------------------
grep -E "^[0-9]+ ##octopus\[progress percentage='[A-Za-z0-9+/=]*' message='[A-Za-z0-9+/=]*'\]$" "$W/o.out" |
  while read -r t line; do
    pct=$(sed -E "s/.*percentage='([^']*)'.*/\1/" <<<"$line" | base64 -d)
    msg=$(sed -E "s/.*message='([^']*)'.*/\1/" <<<"$line" | base64 -d)
    printf '%s %s %s\n' "$t" "$pct" "$msg"
  done >"$W/o.progress"
read -r N MAX _ <<<"$(gaps "$W/o.progress" "deleting targets: " "$(cat "$W/o.end")")"
SECS=$((($(cat "$W/o.end") - T0) / 1000))
if ((N >= 3 && MAX <= MAX_GAP)); then
  ok "--octopus-output: $N progress messages, never more than ${MAX} ms apart"
else
  not_ok "--octopus-output: $N messages, longest gap ${MAX} ms: $(head -5 "$W/o.progress")"
fi
if ((N <= SECS / 5 + 4)); then ok "--octopus-output: a bounded rate ($N in ${SECS} s)"; else not_ok "--octopus-output: $N messages in ${SECS} s"; fi
if awk '$2 !~ /^[0-9]+$/ || $2 > 100 { bad = 1 } END { exit bad }' "$W/o.progress"; then
  ok "--octopus-output: percentages are 0..100"
else
  not_ok "--octopus-output: bad percentages: $(head -3 "$W/o.progress")"
fi
expect_in "--octopus-output: the last message is 100%" "$(tail -1 "$W/o.progress" >"$W/o.last" && echo "$W/o.last")" " 100 deleting targets: 300/300"
expect_not_in "--octopus-output: nothing on stderr is progress" "$W/o.err" "deleting targets"
expect_in "--octopus-output: the highlighted summary" "$W/o.out" "octoscale apply: 300 deleted, 0 failed, 0 disabled, 0 enabled, 0 skipped in "

# ---- -q ---------------------------------------------------------------------------------------------
expect_not_in "-q: no progress message" "$W/q.out" "##octopus[progress"
expect_not_in "-q: no progress line" "$W/q.out" "deleting targets"
expect_not_in "-q: no reading line" "$W/q.out" "reading Azure"
expect_not_in "-q: no terminal redraw" "$W/q.out" $'\033[K'
expect_in "-q: the outputs are still set" "$W/q.out" "##octopus[setVariable"

stop_sim
finish
