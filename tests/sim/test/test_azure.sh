#!/usr/bin/env bash
# Azure endpoints: Entra ID, IMDS and App Service tokens, ARM auth and
# errors, and every body's key set against tests/fixtures/api/azure.
set -uo pipefail
SIM_BIN=${1:-${SIM_BIN:-}}
# shellcheck source=tests/sim/test/lib.sh
. "$(dirname "$0")/lib.sh"
FX="$SIM_FIXTURES/azure"
FIXTURES=1
have_fixtures || FIXTURES=0
fkeys() { if ((FIXTURES)); then keys "$@"; fi; }

start_sim steady.yaml || exit 1
D=$SIM_DIR
TENANT=$(sim_auth tenant)
CLIENT=$(sim_auth client_id)
SUB=00000000-0000-4000-8000-000000000001
RGP="$SIM_URL/subscriptions/$SUB/resourceGroups/rg-web/providers"
V="api-version=2024-11-01"

# ---- Entra ID v2 ----------------------------------------------------------
token_req() { # OUT extra curl args...
  local out=$1
  shift
  sim_curl "$out" -X POST "$SIM_URL/$TENANT/oauth2/v2.0/token" \
    --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$CLIENT" \
    --data-urlencode scope=https://management.azure.com/.default "$@"
}
code=$(token_req "$D/tok.json" --data-urlencode "client_secret=$(sim_auth client_secret)")
expect_eq "entra: client secret -> 200" 200 "$code"
fkeys "entra: token keys match the fixture" "$FX/entra-token-response.json" . "$D/tok.json" .
jcheck "entra: expires_in is a number, token_type Bearer" "$D/tok.json" \
  'math.type(J.expires_in) ~= nil and J.token_type == "Bearer" and #J.access_token > 100'
TOKEN=$(jget "$D/tok.json" J.access_token)

code=$(token_req "$D/bad.json" --data-urlencode client_secret=wrong)
expect_eq "entra: wrong secret -> 401" 401 "$code"
fkeys "entra: error keys match the fixture" "$FX/entra-token-error-400.json" . "$D/bad.json" .
jcheck "entra: wrong secret is invalid_client / AADSTS7000215" "$D/bad.json" \
  'J.error == "invalid_client" and J.error_codes[1] == 7000215 and J.error_description:find("^AADSTS7000215")'

code=$(token_req "$D/fed.json" \
  --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
  --data-urlencode "client_assertion=$(sim_auth federated_assertion)")
expect_eq "entra: federated client assertion -> 200" 200 "$code"
code=$(token_req "$D/fedbad.json" \
  --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
  --data-urlencode client_assertion=eyJ.not-the-one)
expect_eq "entra: wrong assertion -> 400" 400 "$code"
jcheck "entra: wrong assertion is invalid_client" "$D/fedbad.json" 'J.error == "invalid_client"'
code=$(sim_curl "$D/scope.json" -X POST "$SIM_URL/$TENANT/oauth2/v2.0/token" \
  --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$CLIENT" \
  --data-urlencode "client_secret=$(sim_auth client_secret)" --data-urlencode scope=https://management.azure.com/)
expect_eq "entra: scope without /.default -> 400" 400 "$code"
jcheck "entra: invalid_scope 70011 (the fixture's case)" "$D/scope.json" 'J.error == "invalid_scope" and J.error_codes[1] == 70011'
code=$(sim_curl "$D/tenant.json" -X POST "$SIM_URL/other-tenant/oauth2/v2.0/token" -d grant_type=client_credentials)
expect_eq "entra: unknown tenant -> 400" 400 "$code"
code=$(sim_curl "$D/basic.json" -X POST "$SIM_URL/$TENANT/oauth2/v2.0/token" -u "$CLIENT:$(sim_auth client_secret)" \
  --data-urlencode grant_type=client_credentials --data-urlencode scope=https://management.azure.com/.default)
expect_eq "entra: HTTP Basic client credentials -> 200" 200 "$code"

# ---- IMDS and App Service managed identity ----------------------------------
IMDS="$SIM_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F"
code=$(sim_curl "$D/imds-nohdr.json" "$IMDS")
expect_eq "imds: no Metadata header -> 400" 400 "$code"
jcheck "imds: the 400 has an error body" "$D/imds-nohdr.json" 'J.error == "invalid_request" and J.error_description:find("metadata header")'
code=$(sim_curl "$D/imds.json" -H "Metadata: true" "$IMDS")
expect_eq "imds: Metadata: true -> 200" 200 "$code"
fkeys "imds: keys match the fixture" "$FX/imds-msi-token-response.json" . "$D/imds.json" .
jcheck "imds: numbers are strings (the real quirk)" "$D/imds.json" \
  'type(J.expires_in) == "string" and type(J.expires_on) == "string" and type(J.not_before) == "string" and J.expires_in == "3599"'
MI_TOKEN=$(jget "$D/imds.json" J.access_token)

APP="$SIM_URL/msi/token?resource=https%3A%2F%2Fmanagement.azure.com%2F&api-version=2019-08-01"
code=$(sim_curl "$D/app-bad.json" -H "X-IDENTITY-HEADER: nope" "$APP")
expect_eq "app service: wrong X-IDENTITY-HEADER -> 401" 401 "$code"
code=$(sim_curl "$D/app.json" -H "X-IDENTITY-HEADER: $(sim_auth identity_header)" "$APP")
expect_eq "app service: right header -> 200" 200 "$code"
fkeys "app service: keys match the fixture" "$FX/appservice-msi-token-response.json" . "$D/app.json" .
jcheck "app service: expires_on is a string" "$D/app.json" 'type(J.expires_on) == "string"'

# ---- ARM authentication and errors ---------------------------------------------
VMSS="$RGP/Microsoft.Compute/virtualMachineScaleSets/vmss-web"
code=$(sim_curl "$D/noauth.json" "$VMSS?$V")
expect_eq "arm: no Authorization -> 401" 401 "$code"
jcheck "arm: 401 body is {error:{code,message}} AuthenticationFailed" "$D/noauth.json" \
  'J.error.code == "AuthenticationFailed" and J.error.message ~= nil'
code=$(sim_curl "$D/badtok.json" -H "Authorization: Bearer made-up" "$VMSS?$V")
expect_eq "arm: unknown token -> 401" 401 "$code"
jcheck "arm: InvalidAuthenticationToken" "$D/badtok.json" 'J.error.code == "InvalidAuthenticationToken"'
sim_curl "$D/vault.json" -H "Metadata: true" \
  "$SIM_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net" >/dev/null
code=$(sim_curl "$D/aud.json" -H "Authorization: Bearer $(jget "$D/vault.json" J.access_token)" "$VMSS?$V")
expect_eq "arm: token for another audience -> 401" 401 "$code"
jcheck "arm: InvalidAuthenticationTokenAudience" "$D/aud.json" 'J.error.code == "InvalidAuthenticationTokenAudience"'
AUTH=(-H "Authorization: Bearer $TOKEN")
code=$(sim_curl "$D/nover.json" "${AUTH[@]}" "$VMSS")
expect_eq "arm: no api-version -> 400" 400 "$code"
if ((FIXTURES)); then
  check "arm: missing api-version body equals the fixture" lua5.4 -e "
    local c = require 'cjson'
    local function rd(p) local f = assert(io.open(p)); local s = f:read('a'); f:close(); return c.decode(s) end
    local a, b = rd('$FX/arm-error-missing-api-version-400.json'), rd('$D/nover.json')
    assert(a.error.code == b.error.code and a.error.message == b.error.message, c.encode(b))"
fi

# ---- VMSS GET (Uniform) ----------------------------------------------------------
code=$(sim_curl "$D/vmss.json" -H "Authorization: Bearer $MI_TOKEN" "$VMSS?$V")
expect_eq "vmss get: 200 with a managed-identity token" 200 "$code"
fkeys "vmss get: top-level keys" "$FX/vmss-get-uniform.json" . "$D/vmss.json" .
fkeys "vmss get: sku keys" "$FX/vmss-get-uniform.json" sku "$D/vmss.json" sku
fkeys "vmss get: properties keys" "$FX/vmss-get-uniform.json" properties "$D/vmss.json" properties hostGroup
fkeys "vmss get: virtualMachineProfile keys" "$FX/vmss-get-uniform.json" properties.virtualMachineProfile \
  "$D/vmss.json" properties.virtualMachineProfile applicationProfile,userData
jcheck "vmss get: capacity 5, lowercase succeeded, no orchestrationMode, prefix web" "$D/vmss.json" \
  'J.sku.capacity == 5 and J.properties.provisioningState == "succeeded" and J.properties.orchestrationMode == nil and J.properties.virtualMachineProfile.osProfile.computerNamePrefix == "web" and J.properties.overprovision == false and #J.properties.uniqueId == 36'
jcheck "vmss get: timeCreated is an ARM timestamp" "$D/vmss.json" \
  'J.properties.timeCreated:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d+%+00:00$")'
LOWER="$SIM_URL/subscriptions/$SUB/resourcegroups/RG-WEB/providers/microsoft.compute/virtualmachinescalesets/VMSS-WEB"
code=$(sim_curl "$D/lower.json" "${AUTH[@]}" "$LOWER?$V")
expect_eq "vmss get: path segments are case-insensitive" 200 "$code"
code=$(sim_curl "$D/404.json" "${AUTH[@]}" "$RGP/Microsoft.Compute/virtualMachineScaleSets/temp2?$V")
expect_eq "vmss get: missing scale set -> 404" 404 "$code"
fkeys "vmss get: 404 keys match the fixture" "$FX/arm-error-vmss-not-found-404.json" error "$D/404.json" error
jcheck "vmss get: 404 code ResourceNotFound" "$D/404.json" 'J.error.code == "ResourceNotFound" and J.error.message:find("temp2")'
code=$(sim_curl "$D/rg404.json" "${AUTH[@]}" "$SIM_URL/subscriptions/$SUB/resourceGroups/nope/providers/Microsoft.Compute/virtualMachineScaleSets/x?$V")
expect_eq "arm: missing resource group -> 404" 404 "$code"
jcheck "arm: ResourceGroupNotFound" "$D/rg404.json" 'J.error.code == "ResourceGroupNotFound"'
code=$(sim_curl "$D/sub404.json" "${AUTH[@]}" "$SIM_URL/subscriptions/nope/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web?$V")
expect_eq "arm: unknown subscription -> 404" 404 "$code"
code=$(sim_curl "$D/parent.json" "${AUTH[@]}" "$RGP/Microsoft.Compute/virtualMachineScaleSets/gone/virtualMachines?$V")
expect_eq "vm list: missing scale set -> 404" 404 "$code"
fkeys "vm list: ParentResourceNotFound keys" "$FX/arm-error-parent-not-found-404.json" error "$D/parent.json" error
jcheck "vm list: ParentResourceNotFound" "$D/parent.json" 'J.error.code == "ParentResourceNotFound"'

# ---- VMSS VMs list (Uniform) --------------------------------------------------------
code=$(sim_curl "$D/vms.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V&%24expand=instanceView")
expect_eq "vm list: 200" 200 "$code"
jcheck "vm list: 5 VMs, no nextLink" "$D/vms.json" '#J.value == 5 and J.nextLink == nil'
# identity is omitted when a VM has none (the fixture's VMs have one)
fkeys "vm list: item keys" "$FX/vmss-vms-list-uniform.json" value.1 "$D/vms.json" value.1 identity
# resilientVMDeletionStatus comes with $expand=resiliencyView (the fixture's call)
fkeys "vm list: item properties keys" "$FX/vmss-vms-list-uniform.json" value.1.properties "$D/vms.json" value.1.properties \
  resilientVMDeletionStatus
fkeys "vm list: osProfile keys" "$FX/vmss-vms-list-uniform.json" value.1.properties.osProfile "$D/vms.json" value.1.properties.osProfile
fkeys "vm list: storageProfile keys" "$FX/vmss-vms-list-uniform.json" value.1.properties.storageProfile "$D/vms.json" value.1.properties.storageProfile
fkeys "vm list: instanceView keys (maxset fixture)" "$FX/vmss-vms-list-with-instanceview-maxset.json" value.1.properties.instanceView \
  "$D/vms.json" value.1.properties.instanceView assignedHost,maintenanceRedeployStatus,placementGroupId,rdpThumbPrint,vmHealth,extensions,bootDiagnostics
jcheck "vm list: names, instance ids, computer names, zones" "$D/vms.json" \
  'J.value[1].name == "vmss-web_0" and J.value[1].instanceId == "0" and J.value[5].properties.osProfile.computerName == "web000004" and J.value[2].zones[1] == "2"'
jcheck "vm list: ids end with /virtualMachines/{instanceId}" "$D/vms.json" \
  'all(J.value, function(v) return v.id:sub(-#("/virtualMachines/" .. v.instanceId)) == "/virtualMachines/" .. v.instanceId end)'
jcheck "vm list: instanceView statuses carry provisioning and power state" "$D/vms.json" \
  'J.value[1].properties.instanceView.statuses[1].code == "ProvisioningState/succeeded" and J.value[1].properties.instanceView.statuses[2].code == "PowerState/running"'
jcheck "vm list: provisioningState, vmId, timeCreated, NIC id" "$D/vms.json" \
  'J.value[1].properties.provisioningState == "Succeeded" and #J.value[1].properties.vmId == 36 and J.value[1].properties.timeCreated ~= nil and J.value[1].properties.networkProfile.networkInterfaces[1].id:find("/virtualMachines/0/networkInterfaces/")'
jcheck "vm list: vmIds are unique" "$D/vms.json" 'distinct(J.value, function(v) return v.properties.vmId end) == 5'
code=$(sim_curl "$D/vms-plain.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V")
jcheck "vm list: no instanceView without \$expand" "$D/vms-plain.json" 'J.value[1].properties.instanceView == nil'
code=$(sim_curl "$D/vm1.json" "${AUTH[@]}" "$VMSS/virtualMachines/3?$V&\$expand=instanceView")
expect_eq "vmss vm get: 200" 200 "$code"
jcheck "vmss vm get: one instance" "$D/vm1.json" 'J.instanceId == "3" and J.properties.instanceView ~= nil'

# ---- NICs (Uniform) -------------------------------------------------------------------
code=$(sim_curl "$D/nics.json" "${AUTH[@]}" "$VMSS/networkInterfaces?api-version=2017-03-30")
expect_eq "nic list: 200 at api-version 2017-03-30" 200 "$code"
fkeys "nic list: item keys" "$FX/vmss-nics-list.json" value.1 "$D/nics.json" value.1
fkeys "nic list: properties keys" "$FX/vmss-nics-list.json" value.1.properties "$D/nics.json" value.1.properties
# publicIPAddress is absent when the NIC has no public IP
fkeys "nic list: ipConfiguration keys" "$FX/vmss-nics-list.json" value.1.properties.ipConfigurations.1.properties \
  "$D/nics.json" value.1.properties.ipConfigurations.1.properties publicIPAddress
jcheck "nic list: joins to the instance and carries the IP" "$D/nics.json" \
  '#J.value == 5 and J.value[1].properties.virtualMachine.id:match("/virtualMachines/0$") and J.value[1].properties.ipConfigurations[1].properties.privateIPAddress == "10.0.0.4"'
code=$(sim_curl "$D/nicver.json" "${AUTH[@]}" "$VMSS/networkInterfaces?api-version=2024-07-01")
expect_eq "nic list: a current Network api-version is refused (400)" 400 "$code"
jcheck "nic list: NoRegisteredProviderFound" "$D/nicver.json" 'J.error.code == "NoRegisteredProviderFound"'
stop_sim

# ---- base-36 computer names ---------------------------------------------------------------
cat >"$D/b36.yaml" <<'YAML'
azure:
  subscriptions:
    - id: sub-1
      resource_groups:
        - name: rg
          scale_sets:
            - {name: nsgvmss, computer_name_prefix: nsgvmss, vms: [85, 1146, 0]}
YAML
start_sim "$D/b36.yaml" || exit 1
T=$(sim_token)
sim_curl "$SIM_DIR/b36.json" -H "Authorization: Bearer $T" \
  "$SIM_URL/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/nsgvmss/virtualMachines?$V" >/dev/null
jcheck "computer names: 0 -> 000000, 85 -> 00002D, 1146 -> 0000VU (sorted by instance id)" "$SIM_DIR/b36.json" \
  'J.value[1].properties.osProfile.computerName == "nsgvmss000000" and J.value[2].properties.osProfile.computerName == "nsgvmss00002D" and J.value[3].properties.osProfile.computerName == "nsgvmss0000VU"'
stop_sim

# ---- Flexible ------------------------------------------------------------------------------
start_sim flexible.yaml || exit 1
D=$SIM_DIR
T=$(sim_token)
AUTH=(-H "Authorization: Bearer $T")
RG="$SIM_URL/subscriptions/$SUB/resourceGroups/rg-app/providers"
FVMSS="$RG/Microsoft.Compute/virtualMachineScaleSets/vmss-app"
code=$(sim_curl "$D/fvmss.json" "${AUTH[@]}" "$FVMSS?$V")
expect_eq "flex vmss get: 200" 200 "$code"
fkeys "flex vmss get: top-level keys" "$FX/vmss-get-flexible.json" . "$D/fvmss.json" .
fkeys "flex vmss get: properties keys" "$FX/vmss-get-flexible.json" properties "$D/fvmss.json" properties \
  priorityMixPolicy,skuProfile
jcheck "flex vmss get: orchestrationMode Flexible, capacity 4" "$D/fvmss.json" \
  'J.properties.orchestrationMode == "Flexible" and J.sku.capacity == 4 and J.properties.provisioningState == "Succeeded"'
code=$(sim_curl "$D/fvmsslist.json" "${AUTH[@]}" "$FVMSS/virtualMachines?$V")
expect_eq "flex vmss vm list: 200" 200 "$code"
fkeys "flex vmss vm list: item keys (the 2025-11-01 Flexible shape)" "$FX/vmss-vms-list-flexible.json" value.1 "$D/fvmsslist.json" value.1
jcheck "flex vmss vm list: instanceId is the VM name" "$D/fvmsslist.json" 'J.value[1].instanceId == J.value[1].name and J.nextLink ~= nil'
SETID="/subscriptions/$SUB/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-app"
code=$(sim_curl "$D/flex1.json" "${AUTH[@]}" -G "$RG/Microsoft.Compute/virtualMachines" --data-urlencode "api-version=2024-11-01" \
  --data-urlencode "\$filter='virtualMachineScaleSet/id' eq '$SETID'" --data-urlencode "\$expand=instanceView")
expect_eq "flex vm list (filtered): 200" 200 "$code"
fkeys "flex vm list: item keys (vm-flex-member)" "$FX/vm-flex-member.json" . "$D/flex1.json" value.1
fkeys "flex vm list: item properties keys" "$FX/vm-flex-member.json" properties "$D/flex1.json" value.1.properties
jcheck "flex vm list: names {vmss}_{8 hex}, computer names app + 6 hex, member of the set" "$D/flex1.json" \
  'all(J.value, function(v) return v.name:match("^vmss%-app_%x%x%x%x%x%x%x%x$") and v.properties.osProfile.computerName:match("^app%x%x%x%x%x%x$") and v.properties.virtualMachineScaleSet.id:lower():find("virtualmachinescalesets/vmss%-app$") end)'
jcheck "flex vm list: page of 2 with a nextLink carrying api-version and the filter" "$D/flex1.json" \
  '#J.value == 2 and J.nextLink:find("^http://127%.0%.0%.1:%d+/subscriptions/") and J.nextLink:find("api%-version=2024%-11%-01") and J.nextLink:find("%$skiptoken=") and J.nextLink:find("%$filter=%%27")'
NEXT=$(jget "$D/flex1.json" J.nextLink)
sim_curl "$D/flex2.json" "${AUTH[@]}" "$NEXT" >/dev/null
NEXT=$(jget "$D/flex2.json" J.nextLink)
jcheck "flex vm list: second page" "$D/flex2.json" '#J.value == 2 and J.value[1].properties.instanceView ~= nil'
jcheck "flex vm list: the failed VM shows Failed" "$D/flex2.json" 'J.value[2].properties.provisioningState == "Failed"'
expect_eq "flex vm list: 4 VMs on 2 pages" nil "$NEXT"
# the same filter with + for spaces and unencoded quotes
code=$(sim_curl "$D/flexplus.json" "${AUTH[@]}" "$RG/Microsoft.Compute/virtualMachines?api-version=2024-11-01&\$filter='virtualMachineScaleSet/id'+eq+'$SETID'")
jcheck "flex vm list: filter with + and raw quotes is accepted" "$D/flexplus.json" '#J.value == 2'
code=$(sim_curl "$D/flexnf.json" "${AUTH[@]}" "$RG/Microsoft.Compute/virtualMachines?api-version=2024-11-01&\$expand=instanceView")
expect_eq "flex vm list: \$expand=instanceView without \$filter -> 400" 400 "$code"
code=$(sim_curl "$D/fnic404.json" "${AUTH[@]}" "$FVMSS/networkInterfaces?api-version=2017-03-30")
expect_eq "flex: VMSS NIC list -> 404" 404 "$code"
fkeys "flex: NIC 404 keys match the fixture" "$FX/arm-error-vmss-nics-flex-not-found-404.json" error "$D/fnic404.json" error
NICID=$(jget "$D/flex1.json" 'J.value[1].properties.networkProfile.networkInterfaces[1].id')
code=$(sim_curl "$D/fnic.json" "${AUTH[@]}" "$SIM_URL$NICID?api-version=2024-05-01")
expect_eq "flex: NIC GET by id -> 200" 200 "$code"
fkeys "flex: NIC GET properties keys" "$FX/vmss-nics-list.json" value.1.properties "$D/fnic.json" properties
jcheck "flex: NIC joins to the VM and has an IP" "$D/fnic.json" \
  'J.properties.virtualMachine.id:find("/virtualMachines/vmss%-app_") and J.properties.ipConfigurations[1].properties.privateIPAddress:match("^10%.0%.")'
VMNAME=$(jget "$D/flex1.json" 'J.value[1].name')
code=$(sim_curl "$D/fvm.json" "${AUTH[@]}" "$RG/Microsoft.Compute/virtualMachines/$VMNAME?$V")
expect_eq "flex: VM GET -> 200" 200 "$code"
stop_sim

# ---- the unencoded-filter nextLink quirk (opt-in) -------------------------------------------
sed 's/^  page_size: 2$/  page_size: 2\n  quirks: {unencoded_filter_next_link: true}/' "$SIM_SCENARIOS/flexible.yaml" >"$D/quirk.yaml"
start_sim "$D/quirk.yaml" || exit 1
T=$(sim_token)
sim_curl "$SIM_DIR/q.json" -H "Authorization: Bearer $T" -G "$SIM_URL/subscriptions/$SUB/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines" \
  --data-urlencode "api-version=2024-11-01" --data-urlencode "\$filter='virtualMachineScaleSet/id' eq '$SETID'" >/dev/null
jcheck "quirk: nextLink carries the filter unencoded" "$SIM_DIR/q.json" 'J.nextLink:find("$filter=\x27virtualMachineScaleSet/id\x27 eq \x27", 1, true)'
stop_sim

finish
