#!/usr/bin/python3
"""End-to-end interoperability check of tokenmanager with zeep (Debian python3-zeep).

Usage: /usr/bin/python3 zeep_client.py --url http://127.0.0.1:PORT --user admin
       (password from --password or the environment variable TM_PASSWORD)

Loads the TokenManagerService WSDL from the running server, gets one token of
each kind over SOAP 1.1 (plus an open token over the SOAP 1.2 port), checks
every token against GET /security/rest/token/verify, logs tokens out through
the TokenLogoutService WSDL, and checks the SOAP fault and the 401 paths.

Prints one JSON object to stdout and exits 0 only if every check passed.
Run it with /usr/bin/python3: a pyenv python3 on PATH usually lacks zeep.
"""

import argparse
import json
import os
import re
import sys
import traceback

import requests
import zeep
import zeep.exceptions
from zeep.plugins import HistoryPlugin
from zeep.transports import Transport

NS = "http://token.security.common.server.platform.spectrum.pb.com/"
JWE_PREFIX = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0.."
TIMEOUT = 15  # seconds, for every HTTP request

checks = []  # [{"name", "ok", "detail"}]


def check(name, ok, detail=None):
    checks.append({"name": name, "ok": bool(ok), "detail": detail})
    return bool(ok)


def set_cookie_session(headers):
    """The SESSION value from the Set-Cookie header(s) of a response, or None."""
    if headers is None:
        return None
    raw = headers.get("Set-Cookie") or ""
    m = re.search(r"(?:^|[,;]\s*)SESSION=([^;,\s]+)", raw)
    return m.group(1) if m else None


def verify(base, token, session=None, via="bearer"):
    """GET the verify endpoint with the token (and SESSION cookie), no Basic auth."""
    headers, cookies = {}, {}
    if via == "bearer":
        headers["Authorization"] = "Bearer " + token
    else:
        cookies["spectrum.authentication.token"] = token
    if session:
        cookies["SESSION"] = session
    r = requests.get(base + "/security/rest/token/verify", headers=headers,
                     cookies=cookies, timeout=TIMEOUT)
    try:
        body = r.json()
    except ValueError:
        body = r.text[:500]
    return {
        "status": r.status_code,
        "body": body,
        "x_token_user": r.headers.get("X-Token-User"),
        "www_authenticate": r.headers.get("WWW-Authenticate"),
    }


def token_info(result):
    return {
        "session": getattr(result, "session", None),
        "token": getattr(result, "token", None),
        "username": getattr(result, "username", None),
    }


def run(base, user, password):
    out = {"client": "zeep", "zeep_version": zeep.__version__,
           "requests_version": requests.__version__}
    wsdl_url = base + "/security/TokenManagerService?wsdl"
    logout_wsdl_url = base + "/security/TokenLogoutService?wsdl"
    manager_addr = base + "/security/TokenManagerService"
    logout_addr = base + "/security/TokenLogoutService"

    # --- WSDL -------------------------------------------------------------
    sess = requests.Session()
    sess.auth = requests.auth.HTTPBasicAuth(user, password)
    history = HistoryPlugin()
    client = zeep.Client(wsdl_url, transport=Transport(session=sess, timeout=TIMEOUT,
                                                       operation_timeout=TIMEOUT),
                         plugins=[history])
    services = {}
    for sname, svc in client.wsdl.services.items():
        services[sname] = [{"port": pname, "binding": type(p.binding).__name__,
                            "address": p.binding_options.get("address")}
                           for pname, p in svc.ports.items()]
    out["wsdl"] = {"url": wsdl_url, "services": services}
    ports = services.get("TokenManagerServiceImplService", [])
    check("wsdl service TokenManagerServiceImplService", ports, list(services))
    check("wsdl first port is SOAP 1.1 TokenManagerServiceImplPort",
          ports and ports[0]["port"] == "TokenManagerServiceImplPort"
          and ports[0]["binding"] == "Soap11Binding", ports)
    check("wsdl has SOAP 1.2 port TokenManagerServiceImplSoap12Port",
          any(p["port"] == "TokenManagerServiceImplSoap12Port" and p["binding"] == "Soap12Binding"
              for p in ports), ports)
    check("wsdl soap:address is the URL used", ports and all(p["address"] == manager_addr for p in ports),
          {"want": manager_addr, "got": [p["address"] for p in ports]})

    # --- the three operations ----------------------------------------------
    tokens = {}

    def call(kind, op, **kw):
        sess.cookies.clear()  # each call starts its own session, like a fresh client
        result = getattr(client.service, op)(**kw)
        info = token_info(result)
        info["set_cookie_session"] = set_cookie_session(
            (history.last_received or {}).get("http_headers"))
        tokens[kind] = info
        return info

    exp = call("expiring", "getAccessExpiringToken", tokenLifeInMinutes=60)
    ses = call("session", "getAccessSessionToken")
    opn = call("open", "getAccessToken")
    sess.cookies.clear()
    out["tokens"] = tokens

    for kind, info in tokens.items():
        check(kind + " token is JWE dir/A128CBC-HS256",
              (info["token"] or "").startswith(JWE_PREFIX), info["token"])
        check(kind + " username", info["username"] == user, info["username"])
    for kind in ("expiring", "session"):
        info = tokens[kind]
        check(kind + " has session", info["session"], info)
        check(kind + " Set-Cookie SESSION matches <session>",
              info["set_cookie_session"] == info["session"], info)
    check("open token has no session", not opn["session"], opn)
    check("tokens are distinct", len({t["token"] for t in tokens.values()}) == 3)
    check("sessions are distinct", exp["session"] != ses["session"])

    # SOAP 1.2 port.
    s12 = client.bind("TokenManagerServiceImplService", "TokenManagerServiceImplSoap12Port")
    try:
        r12 = token_info(s12.getAccessToken())
        out["soap12_open_token"] = r12
        check("SOAP 1.2 getAccessToken", (r12["token"] or "").startswith(JWE_PREFIX)
              and r12["username"] == user, r12)
    except Exception as e:  # noqa: BLE001 - report, keep going
        out["soap12_open_token"] = {"error": repr(e)}
        check("SOAP 1.2 getAccessToken", False, repr(e))

    # --- verify every token ------------------------------------------------
    before = {}
    for kind, info in tokens.items():
        before[kind] = verify(base, info["token"], info["session"])
    before["open_via_cookie"] = verify(base, opn["token"], via="cookie")
    before["expiring_via_cookie"] = verify(base, exp["token"], exp["session"], via="cookie")
    before["session_without_SESSION"] = verify(base, ses["token"])
    before["session_with_other_SESSION"] = verify(base, ses["token"], exp["session"])
    out["verify"] = before
    for kind in ("expiring", "session", "open"):
        v = before[kind]
        check("verify " + kind, v["status"] == 200 and isinstance(v["body"], dict)
              and v["body"].get("username") == user and v["body"].get("kind") == kind
              and v["x_token_user"] == user, v)
    for k in ("open_via_cookie", "expiring_via_cookie"):
        v = before[k]
        check("verify " + k, v["status"] == 200 and v["x_token_user"] == user, v)
    for k in ("session_without_SESSION", "session_with_other_SESSION"):
        v = before[k]
        check("verify " + k + " is 401", v["status"] == 401 and v["www_authenticate"], v)

    # --- SOAP fault ------------------------------------------------------------
    try:
        client.service.getAccessExpiringToken(tokenLifeInMinutes=-5)
        out["fault"] = {"raised": False}
    except zeep.exceptions.Fault as f:
        out["fault"] = {"raised": True, "message": f.message, "code": f.code}
    except Exception as e:  # noqa: BLE001
        out["fault"] = {"raised": False, "other_error": repr(e)}
    sess.cookies.clear()
    check("getAccessExpiringToken(-5) raises zeep Fault", out["fault"].get("raised"), out["fault"])

    # --- bad credentials ---------------------------------------------------------
    # zeep raises Fault when the 401 carries a SOAP fault body and TransportError when it does not;
    # either way the HTTP status must be 401, recorded by a requests hook.
    bad = requests.Session()
    bad.auth = requests.auth.HTTPBasicAuth(user, password + "-wrong")
    seen = []
    bad.hooks["response"].append(lambda r, *a, **kw: seen.append(
        {"status": r.status_code, "www_authenticate": r.headers.get("WWW-Authenticate")}))
    bad_client = zeep.Client(wsdl_url, transport=Transport(session=sess, timeout=TIMEOUT,
                                                           operation_timeout=TIMEOUT))
    bad_client.transport.session = bad  # WSDL loaded with good credentials, operation with bad ones
    try:
        bad_client.service.getAccessToken()
        res = {"rejected": False}
    except zeep.exceptions.Fault as e:
        res = {"rejected": True, "error": "Fault: " + str(e.message)}
    except zeep.exceptions.TransportError as e:
        res = {"rejected": True, "error": "TransportError: " + str(e.message)[:200]}
    except Exception as e:  # noqa: BLE001
        res = {"rejected": False, "error": repr(e)}
    res.update(seen[-1] if seen else {"status": None, "www_authenticate": None})
    out["bad_credentials"] = res
    check("bad credentials rejected with HTTP 401", res["rejected"] and res["status"] == 401, res)
    check("bad credentials WWW-Authenticate Basic", (res["www_authenticate"] or "").startswith("Basic"), res)

    # --- logout via the TokenLogoutService WSDL ---------------------------------
    def logout(headers, cookies):
        ls = requests.Session()
        ls.headers.update(headers)
        for k, v in cookies.items():
            ls.cookies.set(k, v)
        lc = zeep.Client(logout_wsdl_url, transport=Transport(session=ls, timeout=TIMEOUT,
                                                              operation_timeout=TIMEOUT))
        addr = lc.service._binding_options.get("address")
        try:
            res = lc.service.logout()
            return {"ok": True, "result": None if res is None else str(res), "address": addr}
        except Exception as e:  # noqa: BLE001
            return {"ok": False, "error": repr(e), "address": addr}

    out["logout"] = {
        # session token: Bearer header plus the SESSION cookie
        "session": logout({"Authorization": "Bearer " + ses["token"]}, {"SESSION": ses["session"]}),
        # open token: the spectrum.authentication.token cookie
        "open": logout({}, {"spectrum.authentication.token": opn["token"]}),
    }
    check("logout wsdl soap:address is the URL used", out["logout"]["session"]["address"] == logout_addr,
          out["logout"]["session"]["address"])
    check("logout session token", out["logout"]["session"]["ok"], out["logout"]["session"])
    check("logout open token", out["logout"]["open"]["ok"], out["logout"]["open"])

    after = {kind: verify(base, info["token"], info["session"]) for kind, info in tokens.items()}
    out["verify_after_logout"] = after
    check("session token 401 after logout", after["session"]["status"] == 401, after["session"])
    check("open token 401 after logout", after["open"]["status"] == 401, after["open"])
    check("expiring token still valid", after["expiring"]["status"] == 200, after["expiring"])

    # A logged-out token cannot log out again.
    again = logout({"Authorization": "Bearer " + ses["token"]}, {"SESSION": ses["session"]})
    out["logout"]["session_again"] = again
    check("second logout of the same token fails", not again["ok"], again)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password", default=os.environ.get("TM_PASSWORD"))
    a = ap.parse_args()
    if not a.password:
        ap.error("no password: use --password or TM_PASSWORD")
    base = a.url.rstrip("/")
    try:
        out = run(base, a.user, a.password)
    except Exception as e:  # noqa: BLE001 - any crash is a failed run, still as JSON
        out = {"client": "zeep"}
        check("script completed", False, "".join(traceback.format_exception(e)))
    failed = [c for c in checks if not c["ok"]]
    # Details only for the failures; the rest of the JSON has the full picture.
    out["checks"] = [c if not c["ok"] else {"name": c["name"], "ok": True} for c in checks]
    out["failed"] = [c["name"] for c in failed]
    out["ok"] = not failed
    json.dump(out, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
