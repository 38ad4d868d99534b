# shellcheck shell=bash
# Helpers for the blob-state cases (tests/blob/blob_*.sh): octoscale-sim for
# Azure and Octopus (tests/integration/apply_lib.sh) plus Azurite for the
# state blob (azurite_lib.sh). Source as
#   source "$(dirname "$0")/blob_lib.sh" "$1"     # $1: the build dir
#
#   b_start SCENARIO [AZURITE ARGS...]   both servers; creates the container
#                             "state"; AZ_URL is the state blob's URL
#   b_state_yaml [AUTH]       the `state:` mapping (shared_key by default;
#                             sas; or a blob URL override with URL=)
#   b_config FILE [POLICY]    a_config with that state
#   b_blob FILE               GET the state blob into FILE; prints the status
#   b_break                   breaks the lease (as `az storage blob lease
#                             break` would)
B_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../integration/apply_lib.sh
source "$B_DIR/../integration/apply_lib.sh" "$1"
# shellcheck source=azurite_lib.sh
source "$B_DIR/azurite_lib.sh"
AZ_OUT="$A_WORK/az.out"
AZ_HDR="$A_WORK/az.hdr"
unset OCTOPUS_TASK_ID

_b_cleanup() {
  local rc=$?
  az_stop
  (exit $rc)
  _a_cleanup
}
trap _b_cleanup EXIT

b_start() {
  local scenario=$1
  shift
  a_start "$scenario" || return 1
  az_start "$A_WORK" "$@" || { not_ok "Azurite did not start"; return 1; }
  local code
  code=$(az_req PUT /state "restype=container")
  [[ $code == 201 ]] || { not_ok "create container: HTTP $code $(cat "$AZ_OUT")"; return 1; }
  AZ_URL="$AZ_ENDPOINT/state/octoscale/state.json"
}

b_state_yaml() {
  local url=${URL:-$AZ_URL}
  case ${1:-shared_key} in
  shared_key) printf '{url: "%s", auth: shared_key, account_key: "%s", lease: %s}' "$url" "$AZ_KEY" "${LEASE:-15s}" ;;
  sas) printf '{url: "%s", auth: sas, sas_token: "%s", lease: %s}' "$url" "$(az_account_sas)" "${LEASE:-15s}" ;;
  esac
}

b_config() {
  STATE=$(b_state_yaml "${AUTH_KIND:-shared_key}") a_config "$@"
}

b_blob() {
  az_req GET /state/octoscale/state.json "" "" >/dev/null
  cp "$AZ_OUT" "$1"
  az_req GET /state/octoscale/state.json ""
}

b_break() {
  az_req PUT /state/octoscale/state.json "comp=lease" "" "x-ms-lease-action: break" "x-ms-lease-break-period: 0"
}

# The blob's lease state (available, leased, expired, broken...).
b_lease_state() {
  az_req HEAD /state/octoscale/state.json "" >/dev/null
  tr -d '\r' <"$AZ_HDR" | sed -n 's/^x-ms-lease-state: //Ip' | head -1
}

# Waits (up to 10 s) until the blob is leased.
b_wait_leased() {
  local i
  for ((i = 0; i < 200; i++)); do
    [[ $(b_lease_state) == leased ]] && return 0
    sleep 0.05
  done
  return 1
}

# b_put_blob FILE: writes FILE as the state blob (no lease needed when none
# is held), as a person with the account key could.
b_put_blob() {
  az_req PUT /state/octoscale/state.json "" "$1" "x-ms-blob-type: BlockBlob"
}
