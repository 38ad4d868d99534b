#!/usr/bin/env bash
# octoscale as an Octopus Deploy script step (Bash, runs on a worker).
#
# This is the script body of examples/runbook/step-template.json. Octopus
# substitutes the variable expressions in the two blocks below before the
# script runs; the parameter names are those of the "Check VMSS Provision
# Status" step template, so a process that used it can swap this step in
# and keep its bindings, and its run conditions keep reading the same
# output variables (Octopus.Action[<step name>].Output.VMSSHasServersToDeployTo,
# VMSSDeploymentTargetIds, VMSSDeploymentTargetNames).
#
# It writes a one-entry octoscale config to a private temp directory
# (secrets stay in the environment, never in the file), runs
#   octoscale apply --octopus-output --wait=<timeout>m --on-timeout ... [--only-new]
# and exits with octoscale's exit code (0 ok, 1 runtime failure, or the
# state lock still held when the timeout passes, 3 config/policy error, 4 safety stop, 5 provisioning did not
# settle with Timeout Error = Error); while another run holds the state
# lock it waits, within the timeout. The state (orphan grace, the --only-new
# baselines) must survive between runs: with a State Storage URL it is a
# blob in Azure Storage (the lock is a lease on it), which every worker
# reaches, dynamic ones included; without one it is a file on the worker
# (see the README, "Running in Octopus").
#
# Outside Octopus (tests, trying it by hand), replace the expressions
# yourself; one that Octopus leaves unresolved (an undefined variable, such
# as the tenant of an untenanted run) counts as empty. This file has no
# other variable expression, not even in comments, so nothing else is
# substituted.
set -uo pipefail

declare -A P=()
while IFS= read -r line; do
  [[ $line == *=* ]] || continue
  key=${line%%=*}
  value=${line#*=}
  value=${value%$'\r'}
  # Octostache leaves an undefined variable's expression as it is
  [[ $value == '#''{'*'}' ]] && value=""
  P[$key]=$value
done <<'OCTOSCALE_PARAMETERS'
space=#{Octopus.Space.Id}
environment=#{Octopus.Environment.Id}
tenant=#{Octopus.Deployment.Tenant.Id}
project=#{Octopus.Project.Id}
scale_set=#{VMSS.ScaleSet.Name}
resource_group=#{VMSS.ResourceGroup.Name}
roles=#{VMSS.DeploymentTarget.Roles}
octopus_url=#{VMSS.Octopus.Url}
timeout_minutes=#{VMSS.Timeout.Value}
timeout_handling=#{VMSS.Timeout.ErrorHandle}
exclude_pre_existing=#{VMSS.OldServers.ExcludeFromOutput}
subscription=#{VMSS.Azure.SubscriptionId}
account_subscription=#{VMSS.Azure.Account.SubscriptionNumber}
azure_tenant=#{VMSS.Azure.Account.TenantId}
azure_client=#{VMSS.Azure.Account.Client}
azure_environment=#{VMSS.Azure.Account.AzureEnvironment}
management_endpoint=#{VMSS.Azure.Account.ResourceManagementEndpointBaseUri}
login_endpoint=#{VMSS.Azure.Account.ActiveDirectoryEndpointBaseUri}
health_check=#{Octoscale.HealthCheck}
report=#{Octoscale.Report}
state_file=#{Octoscale.StateFile}
state_url=#{Octoscale.StateStorageUrl}
executable=#{Octoscale.Executable}
package_dir=#{Octopus.Action.Package[octoscale].ExtractedPath}
extra_args=#{Octoscale.ExtraArgs}
OCTOSCALE_PARAMETERS

# Secrets and multi-line values, each read verbatim.
_verbatim() {
  local v=""
  IFS= read -r -d '' v || true
  v=${v%$'\n'}
  [[ $v == '#''{'*'}' ]] && v=""
  printf '%s' "$v"
}
OCTOSCALE_STEP_API_KEY=$(_verbatim <<'OCTOSCALE_SECRET'
#{VMSS.Octopus.ApiKey}
OCTOSCALE_SECRET
)
OCTOSCALE_STEP_CLIENT_SECRET=$(_verbatim <<'OCTOSCALE_SECRET'
#{VMSS.Azure.Account.Password}
OCTOSCALE_SECRET
)
OIDC_JWT=$(_verbatim <<'OCTOSCALE_SECRET'
#{VMSS.Azure.Account.OpenIdConnect.Jwt}
OCTOSCALE_SECRET
)
OCTOSCALE_STEP_STORAGE_KEY=$(_verbatim <<'OCTOSCALE_SECRET'
#{Octoscale.StateStorageAccountKey}
OCTOSCALE_SECRET
)
OCTOSCALE_STEP_STORAGE_SAS=$(_verbatim <<'OCTOSCALE_SECRET'
#{Octoscale.StateStorageSasToken}
OCTOSCALE_SECRET
)
POLICY=$(_verbatim <<'OCTOSCALE_POLICY'
#{Octoscale.Policy}
OCTOSCALE_POLICY
)
export OCTOSCALE_STEP_API_KEY OCTOSCALE_STEP_CLIENT_SECRET \
  OCTOSCALE_STEP_STORAGE_KEY OCTOSCALE_STEP_STORAGE_SAS

fail() {
  echo "octoscale step: $*" >&2
  exit 3
}
lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }
# A YAML single-quoted scalar: any text, quotes doubled.
yq() { printf "'%s'" "${1//\'/\'\'}"; }

# ---- validate -------------------------------------------------------------------
for k in space environment scale_set resource_group roles octopus_url; do
  [[ -n ${P[$k]} ]] || fail "parameter '$k' is required (is the step running in a deployment or runbook, with every required parameter set?)"
done
[[ -n $OCTOSCALE_STEP_API_KEY ]] || fail "the Octopus API key (VMSS.Octopus.ApiKey) is required"
SUBSCRIPTION=${P[subscription]:-${P[account_subscription]}}
[[ -n $SUBSCRIPTION ]] || fail "no Azure subscription: set VMSS.Azure.SubscriptionId or use an Azure account that has one"
TIMEOUT=${P[timeout_minutes]:-30}
[[ $TIMEOUT =~ ^[0-9]+$ ]] || fail "Timeout (In Minutes) must be a whole number, not '$TIMEOUT'"
case $(lower "${P[timeout_handling]:-Proceed}") in
  proceed) ON_TIMEOUT=proceed ;;
  error | fail) ON_TIMEOUT=fail ;;
  *) fail "Timeout Error must be Proceed or Error, not '${P[timeout_handling]}'" ;;
esac
truthy() { case $(lower "$1") in yes | true | 1) return 0 ;; *) return 1 ;; esac }

# Sovereign clouds, from the account's Azure environment.
case ${P[azure_environment]:-AzureCloud} in
  AzureCloud | AzurePublicCloud) CLOUD=public ;;
  AzureUSGovernment) CLOUD=usgovernment ;;
  AzureChinaCloud) CLOUD=china ;;
  *) fail "Azure environment '${P[azure_environment]}' is not supported (AzureCloud, AzureUSGovernment, AzureChinaCloud)" ;;
esac

# The binary: Octoscale.Executable when it names one; else the step's
# octoscale package (octoscale.<version>.tar.gz from the built-in feed,
# extracted by Octopus); else octoscale on the worker's PATH.
EXE=${P[executable]:-octoscale}
if [[ $EXE == octoscale && -n ${P[package_dir]} ]]; then
  EXE=${P[package_dir]%/}/bin/octoscale
  [[ -f $EXE ]] || fail "the octoscale package (extracted at ${P[package_dir]}) has no bin/octoscale: push the octoscale.<version>.tar.gz of 'make dist'"
  [[ -x $EXE ]] || chmod u+x "$EXE" 2>/dev/null
fi
command -v "$EXE" >/dev/null 2>&1 || fail "cannot run '$EXE': reference the octoscale package, install octoscale on the worker, or set Octoscale.Executable to its path"
echo "octoscale: running $EXE"

# ---- a private config ------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/octoscale-step.XXXXXX") || fail "cannot create a temp directory"
trap 'rm -rf "$WORK"' EXIT
chmod 700 "$WORK"

# Azure credentials: the account's OpenID Connect token, else its client
# secret, else the worker's managed identity.
if [[ -n $OIDC_JWT ]]; then
  printf '%s' "$OIDC_JWT" >"$WORK/federated-token"
  export AZURE_FEDERATED_TOKEN_FILE="$WORK/federated-token"
  AUTH=workload_identity
elif [[ -n $OCTOSCALE_STEP_CLIENT_SECRET ]]; then
  AUTH=client_secret
else
  AUTH=managed_identity
fi

# One state per space, environment, tenant and scale set, unless given: a
# blob under the State Storage URL (a container URL, or a blob URL ending
# in .json used as it is), else a file on the worker.
safe() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_'; }
STATE_NAME="$(safe "${P[space]}")/$(safe "${P[environment]}")"
[[ -n ${P[tenant]} ]] && STATE_NAME+="/$(safe "${P[tenant]}")"
STATE_NAME+="/$(safe "${P[resource_group]}")-$(safe "${P[scale_set]}").json"
STATE_URL=${P[state_url]%/}
STATE=${P[state_file]}
if [[ -n $STATE_URL ]]; then
  [[ $STATE_URL == *.json ]] || STATE_URL+="/$STATE_NAME"
  [[ -n $OCTOSCALE_STEP_STORAGE_KEY && -n $OCTOSCALE_STEP_STORAGE_SAS ]] &&
    fail "set the State Storage account key or the SAS token, not both"
elif [[ -z $STATE ]]; then
  STATE="${OCTOSCALE_STATE_DIR:-$HOME/.octoscale}/$STATE_NAME"
fi

printf '%s\n' "${POLICY:-return {\}}" >"$WORK/policy.lua"

ROLES=""
IFS=',' read -r -a role_list <<<"${P[roles]}"
for r in "${role_list[@]}"; do
  r=${r#"${r%%[![:space:]]*}"}
  r=${r%"${r##*[![:space:]]}"}
  [[ -n $r ]] && ROLES+="${ROLES:+, }$(yq "$r")"
done
[[ -n $ROLES ]] || fail "Deployment Target Roles is empty"

{
  echo "octopus:"
  echo "  url: $(yq "${P[octopus_url]%/}")"
  echo "  api_key: \${OCTOSCALE_STEP_API_KEY}"
  echo "  space: $(yq "${P[space]}")"
  echo "azure:"
  echo "  subscription: $(yq "$SUBSCRIPTION")"
  [[ -n ${P[azure_tenant]} ]] && echo "  tenant: $(yq "${P[azure_tenant]}")"
  echo "  auth: $AUTH"
  [[ -n ${P[azure_client]} ]] && echo "  client_id: $(yq "${P[azure_client]}")"
  [[ $AUTH == client_secret ]] && echo "  client_secret: \${OCTOSCALE_STEP_CLIENT_SECRET}"
  echo "  cloud: $CLOUD"
  if [[ -n ${P[management_endpoint]} || -n ${P[login_endpoint]} ]]; then
    echo "  endpoints:"
    [[ -n ${P[login_endpoint]} ]] && echo "    login: $(yq "${P[login_endpoint]%/}")"
    [[ -n ${P[management_endpoint]} ]] && echo "    management: $(yq "${P[management_endpoint]%/}")"
  fi
  if [[ -n $STATE_URL ]]; then
    # the Azure account's credential (entra), unless a key or SAS is given
    echo "state:"
    echo "  url: $(yq "$STATE_URL")"
    if [[ -n $OCTOSCALE_STEP_STORAGE_KEY ]]; then
      echo "  auth: shared_key"
      echo "  account_key: \${OCTOSCALE_STEP_STORAGE_KEY}"
    elif [[ -n $OCTOSCALE_STEP_STORAGE_SAS ]]; then
      echo "  auth: sas"
      echo "  sas_token: \${OCTOSCALE_STEP_STORAGE_SAS}"
    else
      echo "  auth: entra"
    fi
  else
    echo "state: $(yq "$STATE")"
  fi
  echo "policy: policy.lua"
  echo "scale_sets:"
  echo "  - name: $(yq "${P[scale_set]}")"
  echo "    resource_group: $(yq "${P[resource_group]}")"
  echo "    vmss: $(yq "${P[scale_set]}")"
  echo "    environment: $(yq "${P[environment]}")"
  echo "    roles: [$ROLES]"
  [[ -n ${P[tenant]} ]] && echo "    tenant: $(yq "${P[tenant]}")"
} >"$WORK/octoscale.yaml"

# ---- run ------------------------------------------------------------------------------
ARGS=(apply --octopus-output --on-timeout "$ON_TIMEOUT")
((TIMEOUT > 0)) && ARGS+=("--wait=${TIMEOUT}m")
# One --only-new baseline per project: two projects deploying to one scale
# set each see its new targets.
truthy "${P[exclude_pre_existing]:-No}" && ARGS+=("--only-new=$(safe "${P[project]:-default}")")
truthy "${P[health_check]:-False}" && ARGS+=(--health-check)
# The report lands in the step's working directory, which Octopus keeps
# until it has collected the artifact.
truthy "${P[report]:-True}" && ARGS+=(--report "octoscale-$(printf '%s' "${P[scale_set]}" | tr -c 'A-Za-z0-9._-' '_').html")
EXTRA=()
[[ -n ${P[extra_args]} ]] && read -r -a EXTRA <<<"${P[extra_args]}"

echo "octoscale: scale set ${P[resource_group]}/${P[scale_set]}, environment ${P[environment]}${P[tenant]:+, tenant ${P[tenant]}}, roles ${P[roles]}; state ${STATE_URL:-$STATE}"
# A scheduled reconcile and a triggered deployment may overlap on one state
# file: octoscale refuses the second at once (exit 1, "another apply is
# running"); this step waits for its turn, within the timeout.
LOCK_RETRY=${OCTOSCALE_STEP_LOCK_RETRY_SECONDS:-10}
LOCK_DEADLINE=$((SECONDS + (TIMEOUT > 0 ? TIMEOUT * 60 : 600)))
while :; do
  # stdout as it is (service messages); stderr also kept in a file
  { "$EXE" -c "$WORK/octoscale.yaml" "${ARGS[@]}" "${EXTRA[@]}" 2>&1 1>&3 3>&- | tee "$WORK/stderr" >&2; } 3>&1
  rc=${PIPESTATUS[0]}
  if ((rc == 1 && SECONDS < LOCK_DEADLINE)) && grep -q 'another apply is running' "$WORK/stderr"; then
    echo "octoscale step: another run holds the state file; retrying in ${LOCK_RETRY}s"
    sleep "$LOCK_RETRY"
    continue
  fi
  break
done
case $rc in
  0) ;;
  1) echo "octoscale step: runtime failure (exit 1): authentication, a missing space/environment/tenant, the state lock held by another run, or an action that failed; see above" >&2 ;;
  3) echo "octoscale step: configuration or policy error (exit 3); nothing changed" >&2 ;;
  4) echo "octoscale step: safety stop (exit 4): incomplete or implausible data, or the deletion budget; nothing was deleted or disabled" >&2 ;;
  5) echo "octoscale step: provisioning did not settle within ${TIMEOUT}m (exit 5; Timeout Error = Error)" >&2 ;;
  *) echo "octoscale step: octoscale exited $rc" >&2 ;;
esac
exit "$rc"
