#!/bin/sh
# What a browser app does: sign in with user name and password over REST, keep the HttpOnly SESSION cookie
# (curl's cookie jar stands in for the browser's), send the token as Bearer, log out.
# Needs: a running server at $TM, `tokenmanager` on PATH reaching its data (TOKENMANAGER_DATA_DIR), curl, jq.
# ORIGIN is the page's origin; serve answers its CORS requests when started with --cors-origins ORIGIN.
set -eu
TM=${TM:-http://127.0.0.1:8080}
ORIGIN=${ORIGIN:-http://127.0.0.1:8000}
tmp=$(mktemp -d)
user=carol-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
trap 'tokenmanager user delete "$user" --yes >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

echo "$password" | tokenmanager user add "$user" --password-stdin

# fetch(TM + '/security/rest/token/access/session/60', {credentials: 'include', headers: {Authorization: 'Basic …'}})
token=$(curl -fsS -u "$user:$password" -H "Origin: $ORIGIN" -c "$tmp/jar" \
  "$TM/security/rest/token/access/session/60" | jq -r .access_token)
echo "signed in; the browser keeps: $(awk '$6 == "SESSION" { print $6 "=" $7 }' "$tmp/jar") (HttpOnly)"

# Every later call: the token as Bearer, the cookie sent by the browser.
curl -fsS -H "Authorization: Bearer $token" -b "$tmp/jar" "$TM/security/rest/token/verify" | jq -c '{username, kind}'

allowed=$(curl -s -o /dev/null -D - -H "Origin: $ORIGIN" "$TM/security/rest/token/verify" |
  tr -d '\r' | sed -n 's/^[Aa]ccess-[Cc]ontrol-[Aa]llow-[Oo]rigin: //p')
if [ "$allowed" = "$ORIGIN" ]; then
  echo "CORS: a page on $ORIGIN may call the service with credentials"
else
  echo "CORS: $ORIGIN is not listed; start serve with --cors-origins $ORIGIN for a page there"
fi

curl -fsS -H "Authorization: Bearer $token" -b "$tmp/jar" "$TM/security/rest/token/logout" >/dev/null
echo "after logout: $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -b "$tmp/jar" "$TM/security/rest/token/verify")"
