#!/usr/bin/python3
"""Verifies JWT access tokens the way an outside resource server would: PyJWT (Debian python3-jwt) with
nothing but the JWKS URL, the expected issuer and audience.

Reads JSON from stdin: {"jwks_uri": URL, "issuer": ISS, "audience": AUD, "leeway": SECONDS, "tokens": {NAME: JWT}}
(a negative leeway checks the tokens as seen that many seconds later). Writes JSON to stdout:
{NAME: {"ok": true, "claims": {...}, "header": {...}} or {"ok": false, "error": "ExceptionClass"}}.
"""
import json
import sys

import jwt
from jwt import PyJWKClient


def main():
    req = json.load(sys.stdin)
    client = PyJWKClient(req["jwks_uri"])  # one client: its cache is refreshed when a kid is unknown
    out = {}
    for name, tok in req["tokens"].items():
        try:
            header = jwt.get_unverified_header(tok)
            if header.get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
                raise jwt.InvalidTokenError("typ is not at+jwt")
            key = client.get_signing_key_from_jwt(tok)
            claims = jwt.decode(
                tok,
                key.key,
                algorithms=["ES256", "RS256"],
                audience=req["audience"],
                issuer=req["issuer"],
                leeway=req.get("leeway", 0),
                # Seen from later (a negative leeway), iat would look like the future: only exp is in question then.
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"], "verify_iat": req.get("leeway", 0) >= 0},
            )
            out[name] = {"ok": True, "claims": claims, "header": header}
        except Exception as e:  # noqa: BLE001 - the class name is the answer
            out[name] = {"ok": False, "error": type(e).__name__}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
