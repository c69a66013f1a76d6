#!/bin/sh
# An API provider issues client credentials (OAuth 2.0 client credentials grant); the integrator gets an access
# token; a service verifies it; revocation ends it at once.
# Needs: a running server at $TM, `tokenmanager` on PATH reaching its data (TOKENMANAGER_DATA_DIR), curl, jq.
set -eu
TM=${TM:-http://127.0.0.1:8080}
tmp=$(mktemp -d)
client=reports-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
trap 'tokenmanager client remove "$client" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

tokenmanager client add "$client" --scope Reports --scope Billing >"$tmp/client" 2>/dev/null
key=$(sed -n 's/^primary_key: //p' "$tmp/client")   # shown once; only its hash is stored
echo "client $client, key $(printf %.8s "$key")…"

# The integrator: HTTP Basic with the client id and key, one scope.
token=$(curl -fsS -u "$client:$key" -d grant_type=client_credentials -d scope=Reports "$TM/oauth2/token" |
  jq -r .access_token)

# The service: is the token good, and does it carry the scope this route needs?
curl -fsS -H "Authorization: Bearer $token" "$TM/oauth2/verify?scope=Reports" | jq -c .
echo "needs Billing: $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$TM/oauth2/verify?scope=Billing")"

curl -fsS -u "$client:$key" -d "token=$token" "$TM/oauth2/revoke"
echo "after revocation: $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$TM/oauth2/verify")"
