#!/bin/sh
# A SOAP client gets a session token from TokenManagerService, uses it, and logs out.
# Needs: a running server at $TM, `tokenmanager` on PATH reaching its data (TOKENMANAGER_DATA_DIR), curl, jq.
set -eu
TM=${TM:-http://127.0.0.1:8080}
tmp=$(mktemp -d)
user=alice-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
trap 'tokenmanager user delete "$user" --yes >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

echo "$password" | tokenmanager user add "$user" --password-stdin

# The request exactly as Spectrum's documentation shows it.
cat >"$tmp/request.xml" <<'XML'
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
   xmlns:tok="http://token.security.common.server.platform.spectrum.pb.com/">
   <soapenv:Header/>
   <soapenv:Body>
      <tok:getAccessExpiringToken>
         <tokenLifeInMinutes>60</tokenLifeInMinutes>
      </tok:getAccessExpiringToken>
   </soapenv:Body>
</soapenv:Envelope>
XML
curl -fsS -u "$user:$password" -H 'Content-Type: text/xml' --data-binary @"$tmp/request.xml" \
  "$TM/security/TokenManagerService" >"$tmp/response.xml"
token=$(sed -n 's:.*<token>\([^<]*\)</token>.*:\1:p' "$tmp/response.xml")
session=$(sed -n 's:.*<session>\([^<]*\)</session>.*:\1:p' "$tmp/response.xml")
echo "session token for $user: $(printf %.40s "$token")…"

# A service checks the token: the token as Bearer, its session as the SESSION cookie.
curl -fsS -H "Authorization: Bearer $token" -b "SESSION=$session" "$TM/security/rest/token/verify" | jq -c .

# Logout over SOAP ends the session; the token is refused from then on.
curl -fsS -H "Authorization: Bearer $token" -b "SESSION=$session" -H 'Content-Type: text/xml' \
  --data-binary '<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><logout xmlns="http://token.security.common.server.platform.spectrum.pb.com/"/></Body></Envelope>' \
  "$TM/security/TokenLogoutService" >/dev/null
echo "after logout: $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -b "SESSION=$session" "$TM/security/rest/token/verify")"
