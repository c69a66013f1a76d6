#!/bin/sh
# A software vendor creates a product and a license key; the vendor's app activates the key on a machine
# (Cryptolens' key/Activate) and checks the license's signature with the product's public key.
# Needs: a running server at $TM, `tokenmanager` on PATH reaching its data (TOKENMANAGER_DATA_DIR), curl, jq,
# openssl.
set -eu
TM=${TM:-http://127.0.0.1:8080}
tmp=$(mktemp -d)
vendor=acme-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# A vendor is a user with the vendor role.
od -An -N12 -tx1 /dev/urandom | tr -d ' \n' | tokenmanager user add "$vendor" --password-stdin
tokenmanager vendor add "$vendor"
product=$(tokenmanager product add "Photo Editor" --vendor "$vendor" | sed -n 's/^created product \([0-9]*\).*/\1/p')
tokenmanager product pubkey "$product" --pem >"$tmp/product.pem"   # built into the app
key=$(tokenmanager key create --product "$product" --period 365 --max-machines 2)
token=$(tokenmanager apitoken create --vendor "$vendor" --methods Activate,Deactivate,GetKey \
  --product-lock "$product" 2>/dev/null)                           # shipped inside the app
echo "product $product, key $key"

# The app activates the key on this machine. Sign=true asks for a signature (without it, "signature" is null).
curl -fsS -d "token=$token" -d "ProductId=$product" -d "Key=$key" -d "MachineCode=laptop-1" \
  -d "Sign=true" -d "SignMethod=1" "$TM/api/key/Activate" >"$tmp/activate.json"
jq -r .licenseKey "$tmp/activate.json" | openssl base64 -d -A >"$tmp/license.json"
jq -r .signature "$tmp/activate.json" | openssl base64 -d -A >"$tmp/license.sig"
jq -c '{Key, Expires: (.Expires | todate), MaxNoOfMachines, ActivatedMachines: [.ActivatedMachines[].Mid]}' "$tmp/license.json"

# RSASSA-PKCS1-v1_5 with SHA-256 over the license bytes, with the product's public key.
openssl dgst -sha256 -verify "$tmp/product.pem" -signature "$tmp/license.sig" "$tmp/license.json"

echo "unsigned: $(curl -fsS -d "token=$token" -d "ProductId=$product" -d "Key=$key" "$TM/api/key/GetKey" | jq -c '{result, signature}')"
