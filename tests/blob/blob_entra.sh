#!/usr/bin/env bash
# Entra authorization over verified TLS: Azurite with --oauth basic (which
# needs HTTPS) serves a certificate signed by a private CA made here;
# octoscale trusts that CA through http.ca_file and authorizes with bearer
# tokens for https://storage.azure.com from the azure section's credential
# (client secret, minted by octoscale-sim's token endpoint: issuer
# https://sts.windows.net/TENANT/, audience https://storage.azure.com/, as
# Azurite's basic OAuth check wants). A wrong CA fails with a clear line.
# Usage: bash tests/blob/blob_entra.sh BUILD_DIR
source "$(dirname "$0")/blob_lib.sh" "$1"
W=$A_WORK

# ---- a private CA and a server certificate for 127.0.0.1 --------------------------
make_ca() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 2 \
    -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
make_ca "$W/ca" "octoscale test CA"
make_ca "$W/other-ca" "some other CA"
openssl req -newkey rsa:2048 -nodes -keyout "$W/server.key" -out "$W/server.csr" \
  -subj "/CN=127.0.0.1" 2>/dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
  "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$W/server.ext"
openssl x509 -req -in "$W/server.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial \
  -out "$W/server.pem" -days 2 -extfile "$W/server.ext" 2>/dev/null
check "the server certificate is signed by the CA" openssl verify -CAfile "$W/ca.pem" "$W/server.pem"

AZ_SCHEME=https
AZ_CACERT="$W/ca.pem"
b_start apply-outputs.yaml --oauth basic --cert "$W/server.pem" --key "$W/server.key" || exit 1
case $AZ_URL in https://*) ok "Azurite serves HTTPS" ;; *) not_ok "not HTTPS: $AZ_URL" ;; esac

STATE="{url: \"$AZ_URL\", auth: entra, lease: 15s}"
HTTP_YAML="http:
  ca_file: $W/ca.pem" STATE=$STATE a_config "$W/c.yaml"
HTTP_YAML="http:
  ca_file: $W/other-ca.pem" STATE=$STATE a_config "$W/wrong-ca.yaml"

# ---- Entra bearer tokens, verified TLS ------------------------------------------------
a_reset_log
a_osc -c "$W/c.yaml" apply --only-new
expect_rc "apply with the blob over HTTPS and Entra" 0
a_log "$W/l1.json"
a_check "two tokens: one for ARM, one for storage" "$W/l1.json" "n('entra.token') == 2"
code=$(b_blob "$W/b1.json")
expect_eq "the run created the blob" 200 "$code"
a_check "with its baseline" "$W/b1.json" "J.scale_sets['web-prod'].baselines.default ~= nil"
a_osc -c "$W/c.yaml" state show
expect_rc "state show with Entra" 0
expect_in "no lock held" "$OUT" "lock: free"
expect_not_in "no bearer token in any output" "$ERR" "eyJ"

# ---- the wrong CA ---------------------------------------------------------------------------
a_osc -c "$W/wrong-ca.yaml" apply
expect_rc "apply trusting another CA" 1
expect_in "the message names the blob" "$ERR" "state blob $AZ_URL"
expect_in "and says TLS verification failed" "$ERR" "TLS verification failed: is http.ca_file the CA that signed the server's certificate?"
expect_eq "one line" 1 "$(wc -l <"$ERR")"

stop_sim
finish
