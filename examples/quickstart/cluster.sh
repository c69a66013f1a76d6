#!/bin/sh
# An operator runs two nodes on one PostgreSQL database with one server key: a token issued by one node works on
# the other, and a logout on either ends it on both. The nodes run in a schema of their own, dropped at the end.
# Needs: `tokenmanager` on PATH, psql, curl, jq, and TOKENMANAGER_DB: a PostgreSQL URL whose role may create
# schemas, e.g. postgres://tokenmanager:PASSWORD@127.0.0.1:5432/tokenmanager
set -eu
: "${TOKENMANAGER_DB:?set TOKENMANAGER_DB to a PostgreSQL URL, e.g. postgres://tokenmanager:PASSWORD@127.0.0.1:5432/tokenmanager}"
db=$TOKENMANAGER_DB
tmp=$(mktemp -d)
schema=tm_quickstart_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
pids=
cleanup() {
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  for pid in $pids; do wait "$pid" 2>/dev/null || true; done
  psql -X -q "$db" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

psql -X -q "$db" -c "CREATE SCHEMA $schema"
case $db in *\?*) sep='&' ;; *) sep='?' ;; esac
export TOKENMANAGER_DB="$db${sep}search_path=$schema"
export TOKENMANAGER_KEY_FILE="$tmp/server.key" TOKENMANAGER_ADMIN_PASSWORD=quickstart-admin-password
tokenmanager serverkey generate "$TOKENMANAGER_KEY_FILE"   # every node gets this same file

for node in 1 2; do
  tokenmanager serve --listen 127.0.0.1:0 --data-dir "$tmp/node$node" --addr-file "$tmp/addr$node" \
    2>"$tmp/node$node.log" &
  pids="$pids $!"
done
for node in 1 2; do
  i=0
  until [ -s "$tmp/addr$node" ]; do
    i=$((i + 1)); [ $i -le 300 ] || { cat "$tmp/node$node.log" >&2; exit 1; }; sleep 0.1
  done
done
node1=http://$(cat "$tmp/addr1") node2=http://$(cat "$tmp/addr2")
echo "node 1: $node1, node 2: $node2"

curl -fsS -u admin:quickstart-admin-password -c "$tmp/jar" "$node1/security/rest/token/access/session/60" >"$tmp/token.json"
token=$(jq -r .access_token "$tmp/token.json")
echo "from node 1, checked on node 2: $(curl -fsS -H "Authorization: Bearer $token" -b "$tmp/jar" "$node2/security/rest/token/verify" | jq -c '{username, kind}')"
curl -fsS -H "Authorization: Bearer $token" -b "$tmp/jar" "$node2/security/rest/token/logout" >/dev/null
echo "logged out on node 2, checked on node 1: $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -b "$tmp/jar" "$node1/security/rest/token/verify")"
