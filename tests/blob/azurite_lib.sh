# shellcheck shell=bash
# Azurite (Microsoft's storage emulator) for the blob-state tests: started on
# a free loopback port, stopped on exit, and a small Blob REST client in
# Bash + curl + openssl, signed with Shared Key independently of octoscale's
# own signing, for what the tests do behind octoscale's back (create the
# container, read the blob, break the lease, write a corrupt or version-1
# state).
#
#   az_start [AZURITE ARGS...]  sets AZ_PORT, AZ_ENDPOINT (http://127.0.0.1:
#                               PORT/devstoreaccount1); fails when azurite is
#                               missing (it is a test dependency:
#                               scripts/install-deps.sh installs it)
#   az_req METHOD PATH [QUERY] [BODY_FILE] [HEADER...]
#                               prints the HTTP status; the body goes to
#                               $AZ_OUT, response headers to $AZ_HDR
#   az_stop

AZ_ACCOUNT=devstoreaccount1
# Azurite's well-known development key (public, documented by Microsoft).
AZ_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZ_PID=""
AZ_SCHEME=${AZ_SCHEME:-http}

az_free_port() {
  lua5.4 -e 'math.randomseed(os.time() ~ tonumber(tostring({}):match("0x(%x+)"), 16)) print(math.random(20000, 60000))'
}

az_start() {
  local dir=$1
  shift
  if ! command -v azurite-blob >/dev/null; then
    echo "azurite-blob is not installed (scripts/install-deps.sh installs it)" >&2
    return 1
  fi
  local try
  for try in 1 2 3 4 5; do
    AZ_PORT=$(az_free_port)
    AZ_LOG="$dir/azurite.$AZ_PORT.log"
    azurite-blob --blobHost 127.0.0.1 --blobPort "$AZ_PORT" --inMemoryPersistence \
      --disableTelemetry --skipApiVersionCheck "$@" >"$AZ_LOG" 2>&1 &
    AZ_PID=$!
    local i
    for ((i = 0; i < 150; i++)); do
      if grep -q "successfully listens" "$AZ_LOG"; then
        AZ_ENDPOINT="$AZ_SCHEME://127.0.0.1:$AZ_PORT/$AZ_ACCOUNT"
        export AZ_PORT AZ_ENDPOINT
        return 0
      fi
      kill -0 "$AZ_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill "$AZ_PID" 2>/dev/null
    wait "$AZ_PID" 2>/dev/null
    AZ_PID=""
  done
  echo "azurite did not start: $(tail -5 "$AZ_LOG")" >&2
  return 1
}

az_stop() {
  if [[ -n $AZ_PID ]]; then
    kill "$AZ_PID" 2>/dev/null
    wait "$AZ_PID" 2>/dev/null
    AZ_PID=""
  fi
}

# az_req METHOD PATH [QUERY] [BODY_FILE] [HEADER: value ...]
# PATH is below the account ("/container/blob"); QUERY like "comp=lease".
az_req() {
  local method=$1 path=$2 query=${3:-} body=${4:-}
  if (($# > 4)); then shift 4; else shift $#; fi
  local date len="" ctype="" h sts sig key_hex param
  date=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
  [[ -n $body ]] && len=$(stat -c %s "$body")
  [[ $len == 0 ]] && len=""
  [[ $method == PUT ]] && ctype="application/octet-stream"
  local -a hdrs=("x-ms-date: $date" "x-ms-version: 2021-08-06" "$@")
  # VERB, 11 standard headers (only Content-Length and -Type are sent)
  sts="$method"$'\n\n\n'"$len"$'\n\n'"$ctype"$'\n\n\n\n\n\n\n'
  # canonicalized x-ms-* headers: lowercased, sorted
  while IFS= read -r h; do
    [[ -n $h ]] && sts+="$h"$'\n'
  done < <(for h in "${hdrs[@]}"; do
    [[ ${h,,} == x-ms-* ]] && printf '%s:%s\n' "$(printf '%s' "${h%%:*}" | tr 'A-Z' 'a-z')" "${h#*: }"
  done | LC_ALL=C sort)
  # canonicalized resource: path-style, so the account appears twice
  sts+="/$AZ_ACCOUNT/$AZ_ACCOUNT$path"
  if [[ -n $query ]]; then
    while IFS= read -r param; do
      sts+=$'\n'"${param%%=*}:${param#*=}"
    done < <(tr '&' '\n' <<<"$query" | LC_ALL=C sort)
  fi
  key_hex=$(printf '%s' "$AZ_KEY" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  sig=$(printf '%s' "$sts" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | base64 -w0)
  local -a args=(-sS --max-time 30 -o "$AZ_OUT" -D "$AZ_HDR" -w '%{http_code}')
  # -X HEAD would wait for a body that never comes
  if [[ $method == HEAD ]]; then args+=(--head); else args+=(-X "$method"); fi
  for h in "${hdrs[@]}"; do args+=(-H "$h"); done
  args+=(-H "Authorization: SharedKey $AZ_ACCOUNT:$sig")
  if [[ $method == PUT ]]; then
    args+=(-H "Content-Type: $ctype")
    if [[ -n $body ]]; then args+=(--data-binary "@$body"); else args+=(--data-binary ""); fi
  fi
  [[ -n ${AZ_CACERT:-} ]] && args+=(--cacert "$AZ_CACERT")
  curl "${args[@]}" "$AZ_ENDPOINT$path${query:+?$query}"
}

az_hmac() {
  local key_hex
  key_hex=$(printf '%s' "$AZ_KEY" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | base64 -w0
}

# An account SAS for the blob service (containers and objects, read, write,
# delete, list, add, create), valid until 2099; signed as Azurite checks it
# (version 2020-12-06 and later: the string ends with the encryption scope
# and a newline).
az_account_sas() {
  local se="2099-01-01T00:00:00Z" sig
  sig=$(printf '%s\n%s\n%s\n%s\n\n%s\n\n\n%s\n\n' "$AZ_ACCOUNT" rwdlac b co "$se" 2021-08-06 | az_hmac)
  printf 'sv=2021-08-06&ss=b&srt=co&sp=rwdlac&se=%s&sig=%s' "${se//:/%3A}" \
    "$(printf '%s' "$sig" | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')"
}
