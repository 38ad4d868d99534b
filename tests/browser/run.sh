#!/usr/bin/env bash
# The HTML report (apply --report) in a real browser: headless Chromium
# loads a report that holds every kind of action and result (done, failed,
# skipped by a safety stop, waiting, reported) and must log no console
# message at all (errors, CSP violations, ...); the DOM it built must show
# both scale sets and every action; a screenshot is taken.
#
#   bash tests/browser/run.sh BUILD_DIR [SCREENSHOT.png]
#
# With SCREENSHOT.png (e.g. docs/report.png) the screenshot is kept there.
# Chromium is Debian's `chromium`, installed on demand by
# `scripts/install-deps.sh --browser`; where it cannot be installed the test
# is skipped (exit 77) with a message saying so. That console messages are
# detected at all is checked first, on a page that logs two.
source "$(dirname "$0")/../integration/apply_lib.sh" "$1"
SHOT=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)

browser() { command -v chromium || command -v chromium-browser; }
if ! browser >/dev/null; then
  echo "# chromium is missing: bash scripts/install-deps.sh --browser"
  bash "$A_REPO/scripts/install-deps.sh" --browser >&2 || true
fi
CHROMIUM=$(browser) || {
  echo "browser: SKIPPED: chromium is not installed and could not be installed" \
    "(scripts/install-deps.sh --browser needs apt-get as root or sudo)"
  exit 77
}

# chromium FILE ARGS...: loads FILE headless; its log (console messages
# included) goes to $W/chromium.log.
W=$A_WORK
chromium() {
  local page=$1 profile
  shift
  profile=$(mktemp -d "$W/profile.XXXXXX")
  DBUS_SESSION_BUS_ADDRESS=disabled: timeout 120 "$CHROMIUM" --headless --no-sandbox \
    --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --no-default-browser-check \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 \
    --virtual-time-budget=3000 "$@" "file://$page" 2>"$W/chromium.log"
}
console_messages() { grep -E ':CONSOLE(:|\()' "$W/chromium.log"; }

# ---- the detector detects --------------------------------------------------------------------
cat >"$W/control.html" <<'HTML'
<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>control</title></head>
<body><p>control</p><script>console.error("octoscale-control"); notDefined();</script></body></html>
HTML
chromium "$W/control.html" --dump-dom >"$W/control.dom"
if console_messages | grep -q 'octoscale-control' && console_messages | grep -q 'notDefined'; then
  ok "a page's console.error and uncaught error are seen in chromium's log"
else
  not_ok "console messages of a control page not detected: $(tail -5 "$W/chromium.log")"
fi

# ---- a report with every kind of action -------------------------------------------------------
a_start "$HERE/report-scenario.yaml" || exit 1
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]
  - name: api-prod
    resource_group: rg-web
    vmss: vmss-api
    environment: Production
    roles: [api-server]
    policy: api.policy.lua
  - name: worker-prod
    resource_group: rg-web
    vmss: vmss-worker
    environment: Production
    roles: [worker]" HTTP_YAML="http:
  max_attempts: 1" a_config "$W/c.yaml" "$(cat "$HERE/report-policy.lua")"
echo 'return { grace = { orphan = "0s" }, max_delete = 1 }' >"$W/api.policy.lua"
a_faults '[{"name":"refuse","route":"octopus.machine_delete","path":"/Machines-5$","status":403},
           {"name":"worker-down","route":"arm.vm_list","path":"vmss-worker","status":503}]' || exit 1
NOW=2026-11-27T10:00:00Z a_osc -c "$W/c.yaml" apply --report "$W/report.html"
expect_rc "apply: a failed action and a safety stop" 1
for want in "[done]" "[FAILED]" "[skipped]" "  wait " "  report " "  enable " "  disable " "SAFETY STOP"; do
  expect_in "the run has: $want" "$OUT" "$want"
done
stop_sim

chromium "$W/report.html" --dump-dom >"$W/report.dom"
if [[ -s $W/report.dom ]]; then ok "the report loads"; else not_ok "no DOM: $(tail -5 "$W/chromium.log")"; fi
if console_messages >/dev/null; then
  not_ok "console messages: $(console_messages | head -5)"
else
  ok "no console message"
fi
for want in web-prod api-prod worker-prod web000007 web00000A vmss-web_3 vmss-web_5 vmss-web_6 web000002; do
  expect_in "the page shows $want" "$W/report.dom" "$want"
done

# ---- a screenshot --------------------------------------------------------------------------------
chromium "$W/report.html" --hide-scrollbars --window-size=1100,2520 --screenshot="$W/report.png" >/dev/null
if [[ $(head -c 8 "$W/report.png" 2>/dev/null | od -An -tx1 | tr -d ' ') == 89504e470d0a1a0a ]] &&
  (($(stat -c %s "$W/report.png") > 20000)); then
  ok "screenshot: $(stat -c %s "$W/report.png") bytes of PNG"
  [[ -n $SHOT ]] && cp "$W/report.png" "$SHOT" && echo "# screenshot kept as $SHOT"
else
  not_ok "no screenshot: $(tail -5 "$W/chromium.log")"
fi

finish
