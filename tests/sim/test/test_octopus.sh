#!/usr/bin/env bash
# Octopus endpoints: auth, /api, spaces, environments, tenants, machines
# (filters, paging links, GET/PUT/DELETE and the {}-for-[] trap), Health
# tasks and events, against tests/fixtures/api/octopus.
set -uo pipefail
SIM_BIN=${1:-${SIM_BIN:-}}
# shellcheck source=tests/sim/test/lib.sh
. "$(dirname "$0")/lib.sh"
FX="$SIM_FIXTURES/octopus"
FIXTURES=1
have_fixtures || FIXTURES=0
fkeys() { if ((FIXTURES)); then keys "$@"; fi; }

start_sim steady.yaml || exit 1
D=$SIM_DIR
KEY=(-H "X-Octopus-ApiKey: $(sim_auth api_key)")
API="$SIM_URL/api"
get() { sim_curl "$D/$1.json" "${KEY[@]}" "$2"; }

# ---- auth and the root document ----------------------------------------------
code=$(sim_curl "$D/root.json" "$API")
expect_eq "/api answers without a key (as Octopus does)" 200 "$code"
fkeys "/api keys match the 2023.1 root document" "$FX/root-document-2023.1.9626.json" . "$D/root.json" .
jcheck "/api Links has the templates clients follow" "$D/root.json" \
  'J.Application == "Octopus Deploy" and J.ApiVersion == "3.0.0" and J.Links.Spaces and J.Links.Machines:find("^/api/Spaces%-1/machines{/id}{%?skip,take,") and J.Links.Environments and J.Links.Tenants and J.Links.Tasks and J.Links.Events and J.Links.SpaceHome'
code=$(sim_curl "$D/401.json" "$API/Spaces-1/machines")
expect_eq "machines without an API key -> 401" 401 "$code"
jcheck "401 body is Octopus's" "$D/401.json" \
  'J.ErrorMessage == "You must be logged in to perform this action. Please provide a valid API key or log in again." and type(J.Errors) == "table"'
code=$(sim_curl "$D/401b.json" -H "X-Octopus-ApiKey: API-WRONG" "$API/Spaces-1/machines")
expect_eq "wrong API key -> 401" 401 "$code"
code=$(sim_curl "$D/qkey.json" "$API/Spaces-1/machines?apikey=$(sim_auth api_key)")
expect_eq "apikey query parameter is accepted" 200 "$code"

# ---- spaces, environments, tenants ----------------------------------------------
code=$(get spaces "$API/spaces")
expect_eq "spaces: 200" 200 "$code"
fkeys "spaces: collection envelope keys" "$FX/events-collection-2023.1.json" . "$D/spaces.json" .
fkeys "spaces: Links keys (no Page.Next on the only page)" "$FX/events-collection-2023.1.json" Links "$D/spaces.json" Links Page.Next
jcheck "spaces: Spaces-1 Default" "$D/spaces.json" 'J.ItemType == "Space" and J.TotalResults == 1 and J.Items[1].Id == "Spaces-1" and J.Items[1].Name == "Default" and J.Items[1].IsDefault'
code=$(get spaces-all "$API/spaces/all")
jcheck "spaces/all: a plain array" "$D/spaces-all.json" '#J == 1 and J[1].Id == "Spaces-1"'
code=$(get space1 "$API/spaces/Spaces-1")
expect_eq "spaces/Spaces-1: 200" 200 "$code"
code=$(get envs "$API/Spaces-1/environments?name=production")
jcheck "environments?name= (case-insensitive exact)" "$D/envs.json" 'J.TotalResults == 1 and J.Items[1].Name == "Production" and J.Items[1].Id == "Environments-1"'
code=$(get envs2 "$API/Spaces-1/environments?partialName=stag")
jcheck "environments?partialName=" "$D/envs2.json" 'J.TotalResults == 1 and J.Items[1].Name == "Staging"'
code=$(get envall "$API/Spaces-1/environments/all")
jcheck "environments/all: array in SortOrder" "$D/envall.json" '#J == 2 and J[1].Name == "Production" and J[2].SortOrder == 2'
code=$(get tenants "$API/Spaces-1/tenants?name=Fabrikam")
jcheck "tenants?name=" "$D/tenants.json" 'J.ItemType == "Tenant" and J.TotalResults == 1 and J.Items[1].Id == "Tenants-2"'
code=$(get tenall "$API/Spaces-1/tenants/all")
jcheck "tenants/all" "$D/tenall.json" '#J == 2'
code=$(get defspace "$API/environments/all")
jcheck "/api/environments/all uses the default space" "$D/defspace.json" '#J == 2'

# ---- machines list -----------------------------------------------------------------
code=$(get machines "$API/Spaces-1/machines")
expect_eq "machines: 200" 200 "$code"
fkeys "machines: envelope keys" "$FX/events-collection-2023.1.json" . "$D/machines.json" .
jcheck "machines: default take 30, 8 targets, sorted by name" "$D/machines.json" \
  'J.ItemType == "Machine" and J.ItemsPerPage == 30 and J.TotalResults == 8 and J.NumberOfPages == 1 and J.LastPageNumber == 0 and J.Items[1].Name == "fabrikam-web-01" and J.Items[8].Name == "web000004"'
for f in Id Name SpaceId EnvironmentIds Roles TenantIds TenantTags TenantedDeploymentParticipation IsDisabled HealthStatus \
  Status StatusSummary HasLatestCalamari IsInProcess MachinePolicyId Thumbprint Uri Endpoint OperatingSystem ShellName \
  ShellVersion Architecture Slug SkipInitialHealthCheck LastModifiedBy LastModifiedOn Links; do
  MFIELDS+="J.Items[1].$f ~= nil and "
done
jcheck "machines: every MachineResource field is present" "$D/machines.json" "${MFIELDS}true"
jcheck "machines: Endpoint and Links" "$D/machines.json" \
  'J.Items[1].Endpoint.CommunicationStyle == "TentaclePassive" and J.Items[1].Endpoint.Uri == "https://fabrikam-web-01:10933/" and J.Items[1].Endpoint.Thumbprint == J.Items[1].Thumbprint and J.Items[1].Endpoint.TentacleVersionDetails.Version and J.Items[1].Links.Self == "/api/Spaces-1/machines/" .. J.Items[1].Id and J.Items[1].Links.Connection and J.Items[1].Links.TasksTemplate'
check "machines: empty arrays are [] not {}" grep -q '"TenantTags":\[\]' "$D/machines.json"
check "machines: no empty object where an array belongs" bash -c "! grep -Eq '\"(TenantIds|TenantTags|Roles|EnvironmentIds)\":\{' '$D/machines.json'"
WEB1=$(jget "$D/machines.json" 'find(J.Items, "Name", "web000001").Id')

mcount() { # DESCRIPTION QUERY EXPECTED-TOTAL
  get mq "$API/Spaces-1/machines?$2" >/dev/null
  jcheck "$1" "$D/mq.json" "J.TotalResults == $3"
}
mcount "filter environmentIds" "environmentIds=Environments-2" 1
mcount "filter roles (one role)" "roles=vmss-web" 7
mcount "filter roles=a,b matches ANY of them" "roles=web-server,vmss-web" 8
mcount "filter name is exact and case-insensitive" "name=WEB000001" 1
mcount "filter partialName" "partialName=legacy" 1
mcount "filter ids (comma list)" "ids=Machines-1,Machines-2" 2
mcount "filter ids (repeated)" "ids=Machines-1&ids=Machines-3" 2
mcount "filter tenantIds" "tenantIds=Tenants-2" 1
mcount "filter isDisabled=false" "isDisabled=false" 8
mcount "filter isDisabled=true" "isDisabled=true" 0
mcount "filter healthStatuses (repeated)" "healthStatuses=Unavailable&healthStatuses=Healthy" 8
mcount "filter commStyles" "commStyles=TentacleActive" 0
mcount "lower-case parameter names work (environmentids)" "environmentids=Environments-1" 7
get page "$API/Spaces-1/machines?environmentIds=Environments-1&roles=vmss-web&skip=0&take=3" >/dev/null
jcheck "paging: Page.Next is a server-relative path that keeps the filters" "$D/page.json" \
  'J.Links["Page.Next"] == "/api/Spaces-1/machines?skip=3&roles=vmss-web&environmentIds=Environments-1&take=3" and J.NumberOfPages == 2 and J.LastPageNumber == 1 and #J.Items == 3'
NEXT=$(jget "$D/page.json" 'J.Links["Page.Next"]')
get page2 "$SIM_URL$NEXT" >/dev/null
jcheck "paging: following Page.Next gives the rest, without a further Page.Next" "$D/page2.json" \
  '#J.Items == 3 and J.Links["Page.Next"] == nil and J.Links["Page.Previous"] ~= nil'
code=$(get mall "$API/Spaces-1/machines/all")
jcheck "machines/all: plain array" "$D/mall.json" '#J == 8'

# ---- machine GET / PUT / DELETE ---------------------------------------------------
code=$(get m1 "$API/Spaces-1/machines/$WEB1")
expect_eq "machine GET: 200" 200 "$code"
code=$(get m404 "$API/Spaces-1/machines/Machines-999")
expect_eq "machine GET missing: 404" 404 "$code"
jcheck "404 body has ErrorMessage and Errors" "$D/m404.json" \
  'J.ErrorMessage == "The resource you requested was not found." and #J.Errors == 1'
sed 's/"IsDisabled":false/"IsDisabled":true/' "$D/m1.json" >"$D/put.json"
code=$(sim_curl "$D/putr.json" "${KEY[@]}" -X PUT -H "Content-Type: application/json" --data-binary "@$D/put.json" \
  "$API/Spaces-1/machines/$WEB1")
expect_eq "PUT the whole resource with IsDisabled true: 200" 200 "$code"
jcheck "PUT returns the updated resource" "$D/putr.json" 'J.IsDisabled == true and J.Status == "Disabled"'
get m1b "$API/Spaces-1/machines/$WEB1" >/dev/null
jcheck "PUT persisted" "$D/m1b.json" 'J.IsDisabled == true and J.LastModifiedBy == "octoscale"'
mcount "a disabled machine shows in isDisabled=true" "isDisabled=true" 1
sed 's/"TenantTags":\[\]/"TenantTags":{}/' "$D/m1b.json" | sed 's/"IsDisabled":true/"IsDisabled":false/' >"$D/trap.json"
check "the trap body really has {}" grep -q '"TenantTags":{}' "$D/trap.json"
code=$(sim_curl "$D/trapr.json" "${KEY[@]}" -X PUT --data-binary "@$D/trap.json" "$API/Spaces-1/machines/$WEB1")
expect_eq "PUT with \"TenantTags\": {} -> 400" 400 "$code"
jcheck "400 names the field and wants an array" "$D/trapr.json" \
  'J.ErrorMessage == "There was a problem with your request." and J.Errors[1]:find("JSON array") and J.Errors[1]:find("TenantTags")'
get m1c "$API/Spaces-1/machines/$WEB1" >/dev/null
jcheck "the rejected PUT changed nothing" "$D/m1c.json" 'J.IsDisabled == true'
sed 's/"Roles":\[[^]]*\]/"Roles":{}/' "$D/m1b.json" >"$D/trap2.json"
code=$(sim_curl "$D/trap2r.json" "${KEY[@]}" -X PUT --data-binary "@$D/trap2.json" "$API/Spaces-1/machines/$WEB1")
expect_eq "PUT with \"Roles\": {} -> 400" 400 "$code"
sed "s/\"Id\":\"$WEB1\"/\"Id\":\"Machines-77\"/" "$D/m1b.json" >"$D/idmm.json"
code=$(sim_curl "$D/idmmr.json" "${KEY[@]}" -X PUT --data-binary "@$D/idmm.json" "$API/Spaces-1/machines/$WEB1")
expect_eq "PUT with a different Id -> 400" 400 "$code"
sed 's/"Roles":\[[^]]*\]/"Roles":[]/' "$D/m1b.json" >"$D/noroles.json"
code=$(sim_curl "$D/norolesr.json" "${KEY[@]}" -X PUT --data-binary "@$D/noroles.json" "$API/Spaces-1/machines/$WEB1")
expect_eq "PUT without roles -> 400" 400 "$code"
code=$(sim_curl "$D/garbage.json" "${KEY[@]}" -X PUT --data-binary "not json" "$API/Spaces-1/machines/$WEB1")
expect_eq "PUT with a non-JSON body -> 400" 400 "$code"

code=$(sim_curl "$D/del.txt" "${KEY[@]}" -X DELETE "$API/Spaces-1/machines/$WEB1")
expect_eq "DELETE: 200" 200 "$code"
code=$(get delget "$API/Spaces-1/machines/$WEB1")
expect_eq "deleted machine: 404" 404 "$code"
code=$(sim_curl "$D/del2.json" "${KEY[@]}" -X DELETE "$API/Spaces-1/machines/$WEB1")
expect_eq "DELETE again: 404" 404 "$code"
mcount "the list no longer has it" "" 7
sim_curl "$D/log.json" "$SIM_URL/_sim/requests?method=PUT" >/dev/null
jcheck "request log records each PUT with its body" "$D/log.json" \
  '#J == 6 and J[1].route == "octopus.machine_put" and J[1].status == 200 and J[1].body:find("\"IsDisabled\":true") and J[2].status == 400'
sim_curl "$D/logd.json" "$SIM_URL/_sim/requests?method=DELETE" >/dev/null
jcheck "request log records the DELETEs" "$D/logd.json" "#J == 2 and J[1].path == \"/api/Spaces-1/machines/$WEB1\" and J[1].status == 200 and J[2].status == 404"

# ---- events ---------------------------------------------------------------------------
code=$(get ev "$API/events?regarding=Machines-1&eventCategories=Created&spaces=Spaces-1&includeSystem=true")
expect_eq "events: 200" 200 "$code"
fkeys "events: envelope keys" "$FX/events-collection-2023.1.json" . "$D/ev.json" .
fkeys "events: item keys" "$FX/events-collection-2023.1.json" Items.1 "$D/ev.json" Items.1
jcheck "events: the registration Created event of Machines-1" "$D/ev.json" \
  'J.TotalResults == 1 and J.Items[1].Category == "Created" and J.Items[1].RelatedDocumentIds[1] == "Machines-1" and J.Items[1].Occurred:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%+00:00$") and J.Items[1].SpaceId == "Spaces-1"'
code=$(get evd "$API/Spaces-1/events?eventCategories=Deleted,Modified")
jcheck "events: the PUT and DELETE left Modified and Deleted events, newest first" "$D/evd.json" \
  'J.TotalResults == 2 and J.Items[1].Category == "Deleted" and J.Items[2].Category == "Modified"'
code=$(get evall "$API/events?take=2")
jcheck "events: paged, with Page.Next" "$D/evall.json" '#J.Items == 2 and J.Links["Page.Next"]:find("^/api/events%?skip=2&")'

# ---- health tasks ---------------------------------------------------------------------
curl -sS -o /dev/null -X POST "$SIM_URL/_sim/actions" -d '{"delete_vm":{"scale_set":"vmss-web","instance":0,"immediate":true}}'
WEB0=$(jget "$D/machines.json" 'find(J.Items, "Name", "web000000").Id')
WEB2=$(jget "$D/machines.json" 'find(J.Items, "Name", "web000002").Id')
BODY="{\"Name\":\"Health\",\"Description\":\"Check new targets\",\"SpaceId\":\"Spaces-1\",\"Arguments\":{\"Timeout\":\"00:05:00\",\"MachineTimeout\":\"00:05:00\",\"EnvironmentId\":\"Environments-1\",\"MachineIds\":[\"$WEB0\",\"$WEB2\"],\"OnlyTestConnection\":\"false\"}}"
code=$(sim_curl "$D/task.json" "${KEY[@]}" -X POST --data-binary "$BODY" "$API/Spaces-1/tasks")
expect_eq "task create: 201" 201 "$code"
fkeys "task: keys match the task fixture's items" "$FX/machine-tasks-collection-page0.json" Items.1 "$D/task.json" .
fkeys "task: Links keys" "$FX/machine-tasks-collection-page0.json" Items.1.Links "$D/task.json" Links
jcheck "task: queued" "$D/task.json" 'J.Id:match("^ServerTasks%-%d+$") and J.State == "Queued" and J.IsCompleted == false and J.Arguments.MachineIds[2] ~= nil'
TASK=$(jget "$D/task.json" J.Id)
get t1 "$API/tasks/$TASK" >/dev/null
jcheck "task: first poll -> Executing" "$D/t1.json" 'J.State == "Executing" and J.IsCompleted == false'
get t2 "$API/Spaces-1/tasks/$TASK" >/dev/null
jcheck "task: second poll -> Failed (one target's VM is gone)" "$D/t2.json" \
  'J.State == "Failed" and J.IsCompleted == true and J.FinishedSuccessfully == false and J.ErrorMessage:find("web000000")'
get h0 "$API/Spaces-1/machines/$WEB0" >/dev/null
get h2 "$API/Spaces-1/machines/$WEB2" >/dev/null
jcheck "health: the target without a VM is Unavailable" "$D/h0.json" 'J.HealthStatus == "Unavailable"'
jcheck "health: the target with a VM is Healthy" "$D/h2.json" 'J.HealthStatus == "Healthy"'
BODY2="{\"Name\":\"Health\",\"Description\":\"x\",\"SpaceId\":\"Spaces-1\",\"Arguments\":{\"MachineIds\":[\"$WEB2\"]}}"
code=$(sim_curl "$D/task2.json" "${KEY[@]}" -X POST --data-binary "$BODY2" "$API/tasks")
expect_eq "task create via /api/tasks: 201" 201 "$code"
TASK2=$(jget "$D/task2.json" J.Id)
get t3 "$API/tasks/$TASK2" >/dev/null
get t3 "$API/tasks/$TASK2" >/dev/null
jcheck "task: all reachable -> Success" "$D/t3.json" 'J.State == "Success" and J.FinishedSuccessfully == true'
code=$(sim_curl "$D/tbad.json" "${KEY[@]}" -X POST --data-binary '{"Name":"Health","Arguments":{"MachineIds":["Machines-404"]}}' "$API/Spaces-1/tasks")
expect_eq "task with an unknown machine -> 400" 400 "$code"
code=$(get t404 "$API/tasks/ServerTasks-999")
expect_eq "unknown task -> 404" 404 "$code"
stop_sim
expect_eq "simulator exited cleanly" 0 "$SIM_EXIT"

finish
