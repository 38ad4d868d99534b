#!/usr/bin/env bash
# Authentication: every credential kind against the simulator, `auto`
# selection, refusals as exit 1 with one line, and no key, secret, header
# value or token in any output (-v included).
source "$(dirname "$0")/lib.sh"

start_int_sim paging.yaml || exit 1
SECRET_VALUE=$(sim_auth client_secret)
KEY_VALUE=$(sim_auth api_key)
IDH_VALUE=$(sim_auth identity_header)
ASSERTION_VALUE=$(sim_auth federated_assertion)
printf '%s\n' "$ASSERTION_VALUE" >"$WORK/federated-token"
ALL_OUT="$WORK/all-output"
: >"$ALL_OUT"

keep_output() { cat "$OUT" "$ERR" >>"$ALL_OUT"; }

# token_route EXPECTED-ROUTE DESCRIPTION: exactly one token request, of
# that kind, and the ARM reads accepted it
token_route() {
  fetch_log "$WORK/tok.json"
  lcheck "$2: one token from $1" "$WORK/tok.json" \
    "n('$1') == 1 and n('entra.token') + n('imds.token') + n('appservice.token') == 1 and find(J, 'route', 'arm.vmss_get').status == 200"
}

# ---- client secret (explicit and auto) -----------------------------------------
reset_log
write_config "$WORK/cs.yaml"
osc -v -c "$WORK/cs.yaml" plan
keep_output
expect_rc "client secret" 0
token_route entra.token "client secret"

reset_log
AUTH=auto write_config "$WORK/auto-cs.yaml"
osc -v -c "$WORK/auto-cs.yaml" plan
keep_output
expect_rc "auto with a secret" 0
token_route entra.token "auto picks the client secret"

# ---- IMDS managed identity (endpoint override) ------------------------------------
reset_log
AUTH=managed_identity SECRET_LINE="" write_config "$WORK/mi.yaml"
osc -v -c "$WORK/mi.yaml" plan
keep_output
expect_rc "managed identity (IMDS)" 0
token_route imds.token "IMDS"
lcheck "IMDS query: api-version 2018-02-01, ARM resource" "$WORK/tok.json" \
  "(function() local q = find(J, 'route', 'imds.token').query return q:find('api-version=2018-02-01', 1, true) and q:find('resource=https://management.azure.com/', 1, true) end)()"

reset_log
AUTH=auto SECRET_LINE="" write_config "$WORK/auto-mi.yaml"
osc -v -c "$WORK/auto-mi.yaml" plan
keep_output
expect_rc "auto without anything else" 0
token_route imds.token "auto falls back to IMDS"

# ---- App Service identity ------------------------------------------------------------
reset_log
IDENTITY_ENDPOINT="$SIM_URL/msi/token" IDENTITY_HEADER="$IDH_VALUE" \
  osc -v -c "$WORK/mi.yaml" plan
keep_output
expect_rc "managed identity (App Service)" 0
token_route appservice.token "App Service"
lcheck "App Service query: api-version 2019-08-01" "$WORK/tok.json" \
  "find(J, 'route', 'appservice.token').query:find('api-version=2019-08-01', 1, true) ~= nil"

reset_log
IDENTITY_ENDPOINT="$SIM_URL/msi/token" IDENTITY_HEADER="$IDH_VALUE" \
  osc -v -c "$WORK/auto-mi.yaml" plan
keep_output
expect_rc "auto with IDENTITY_ENDPOINT" 0
token_route appservice.token "auto picks App Service"

IDENTITY_ENDPOINT="$SIM_URL/msi/token" IDENTITY_HEADER="not-the-header" \
  osc -c "$WORK/mi.yaml" plan
keep_output
expect_rc "App Service with a wrong header" 1
expect_in "refusal names the 401" "$ERR" "HTTP 401"

# ---- workload identity ----------------------------------------------------------------
reset_log
AUTH=workload_identity SECRET_LINE="" write_config "$WORK/wi.yaml"
AZURE_FEDERATED_TOKEN_FILE="$WORK/federated-token" \
  osc -v -c "$WORK/wi.yaml" plan
keep_output
expect_rc "workload identity" 0
token_route entra.token "workload identity"

reset_log
AZURE_FEDERATED_TOKEN_FILE="$WORK/federated-token" \
  osc -v -c "$WORK/auto-mi.yaml" plan
keep_output
expect_rc "auto with AZURE_FEDERATED_TOKEN_FILE" 0
token_route entra.token "auto picks workload identity"

echo "not-the-assertion" >"$WORK/bad-token"
AZURE_FEDERATED_TOKEN_FILE="$WORK/bad-token" osc -c "$WORK/wi.yaml" plan
keep_output
expect_rc "workload identity refused" 1
expect_in "refusal carries the Entra code" "$ERR" "AADSTS700213"

# ---- refusals: one line, exit 1 ----------------------------------------------------------
API_KEY="API-WRONGKEY00000000000000000000" write_config "$WORK/badkey.yaml"
osc -c "$WORK/badkey.yaml" plan
keep_output
expect_rc "wrong Octopus API key" 1
expect_in "names the 401" "$ERR" "HTTP 401"
expect_eq "one line on stderr" 1 "$(wc -l <"$ERR")"

SECRET="wrong-secret" write_config "$WORK/badsecret.yaml"
osc -c "$WORK/badsecret.yaml" plan
keep_output
expect_rc "wrong Azure secret" 1
expect_in "Entra error code" "$ERR" "AADSTS7000215"
expect_in "Entra error" "$ERR" "invalid_client"
expect_eq "one line on stderr" 1 "$(wc -l <"$ERR")"
expect_not_in "the wrong secret is not echoed" "$ERR" "wrong-secret"
stop_sim

# ---- the federated token file is re-read on every fetch ------------------------------------
start_int_sim short-token.yaml || exit 1
printf '%s\n' "$(sim_auth federated_assertion)" >"$WORK/rotating-token"
AUTH=workload_identity SECRET_LINE="" write_config "$WORK/wi2.yaml"
cat >"$WORK/reread.lua" <<'EOF'
-- first call with the good assertion; the test rotates the file to a bad
-- one while we sleep; the next token fetch must read the new contents
local az = assert(azure.client())
assert(az:scale_set{ resource_group = "rg-web", vmss = "vmss-web" })
script.sleep(1.5)
local s, err = az:scale_set{ resource_group = "rg-web", vmss = "vmss-web" }
if s then return 10 end
print(err.code, tostring(err))
return err.code == "invalid_client" and 0 or 11
EOF
( sleep 0.7; echo "rotated-bad-assertion" >"$WORK/rotating-token" ) &
rotator=$!
AZURE_FEDERATED_TOKEN_FILE="$WORK/rotating-token" \
  osc -c "$WORK/wi2.yaml" run "$WORK/reread.lua"
wait "$rotator"
keep_output
expect_rc "token file re-read on the next fetch" 0
fetch_log "$WORK/rr.json"
lcheck "two token requests (short-lived tokens)" "$WORK/rr.json" "n('entra.token') == 2"
stop_sim

# ---- nothing secret in any output ------------------------------------------------------------
for secret in "$SECRET_VALUE" "$KEY_VALUE" "$IDH_VALUE" "$ASSERTION_VALUE" "eyJ" "Bearer "; do
  if grep -qF -- "$secret" "$ALL_OUT"; then
    not_ok "output contains '${secret:0:6}...': $(grep -F -- "$secret" "$ALL_OUT" | head -2)"
  else
    ok "no '${secret:0:6}...' in $(wc -l <"$ALL_OUT") lines of output (-v included)"
  fi
done
if grep -q "octoscale: http:" "$ALL_OUT"; then ok "-v output was captured"; else not_ok "no -v request lines captured"; fi

finish
