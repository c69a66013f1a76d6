#!/bin/sh
# A mobile backend registers a device for a user and gets it a PowerAuth MAC token; the device signs a request
# with it (X-PowerAuth-Token); the same header is refused the second time.
# Needs: a running server at $TM, `tokenmanager` on PATH reaching its data (TOKENMANAGER_DATA_DIR), curl, jq,
# openssl.
set -eu
TM=${TM:-http://127.0.0.1:8080}
user=dave-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
trap 'tokenmanager user delete "$user" --yes >/dev/null 2>&1 || true' EXIT   # with her devices and tokens
trap 'exit 1' INT TERM

echo "$password" | tokenmanager user add "$user" --password-stdin
activation=$(tokenmanager powerauth activation create "$user" --name "Pixel 9")
echo "device $activation"

# The backend, as the user (HTTP Basic), asks for a token: an id and a 16-byte secret for the device.
created=$(curl -fsS -u "$user:$password" -H 'Content-Type: application/json' \
  -d "{\"activationId\":\"$activation\"}" "$TM/pa/v3/token/create")
token_id=$(echo "$created" | jq -r .tokenId)
secret_hex=$(echo "$created" | jq -r .tokenSecret | openssl base64 -d -A | od -An -tx1 | tr -d ' \n')

# The device, for each request: digest = Base64(HMAC-SHA256(secret, nonce & timestamp & version)).
nonce=$(openssl rand -base64 16)
timestamp=$(date +%s)000
digest=$({ echo "$nonce" | openssl base64 -d -A; printf '&%s&3.3' "$timestamp"; } |
  openssl dgst -sha256 -mac HMAC -macopt "hexkey:$secret_hex" -binary | openssl base64 -A)
header="PowerAuth version=\"3.3\", token_id=\"$token_id\", token_digest=\"$digest\", nonce=\"$nonce\", timestamp=\"$timestamp\""

curl -fsS -H "X-PowerAuth-Token: $header" "$TM/pa/v3/token/verify" | jq -c .responseObject
echo "the same header again: $(curl -s -o /dev/null -w '%{http_code}' -H "X-PowerAuth-Token: $header" "$TM/pa/v3/token/verify")"
