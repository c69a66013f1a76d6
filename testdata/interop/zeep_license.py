#!/usr/bin/python3
"""End-to-end check of tokenmanager's SOAP LicenseService with zeep (Debian python3-zeep).

Usage: /usr/bin/python3 zeep_license.py --url http://127.0.0.1:PORT --user VENDOR --product-id N
       (password from --password or TM_PASSWORD; a licensing access token allowed only GetKey from
       TM_LICENSE_TOKEN)

Loads the LicenseService WSDL from the running server and, as the vendor (HTTP Basic), creates a key with a
new customer, reads it, activates it up to its limit, deactivates, blocks and unblocks it and extends it,
over SOAP 1.1 and once over SOAP 1.2; checks the faults' messages; manages a customer (add, list, edit with a
new secret, its licenses by id and by secret, remove); then calls with the access token (Bearer),
whose permissions must hold. Prints one JSON object (including the signed license, which the Go test verifies
with the product's public key) and exits 0 only if every check passed.
"""

import argparse
import base64
import datetime
import json
import os
import sys
import traceback

import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

TIMEOUT = 15  # seconds, for every HTTP request

checks = []  # [{"name", "ok", "detail"}]


def check(name, ok, detail=None):
    checks.append({"name": name, "ok": bool(ok), "detail": detail})
    return bool(ok)


def fault_of(fn, *args, **kwargs):
    """The zeep Fault message of a call that must fail, or a description of what happened instead."""
    try:
        fn(*args, **kwargs)
        return {"raised": False}
    except zeep.exceptions.Fault as f:
        return {"raised": True, "message": f.message, "code": f.code}
    except Exception as e:  # noqa: BLE001 - report, keep going
        return {"raised": False, "other_error": repr(e)}


def client_for(wsdl_url, session):
    return zeep.Client(wsdl_url, transport=Transport(session=session, timeout=TIMEOUT, operation_timeout=TIMEOUT))


def run(base, user, password, product_id, token):
    out = {"client": "zeep", "zeep_version": zeep.__version__}
    wsdl_url = base + "/security/LicenseService?wsdl"
    address = base + "/security/LicenseService"

    vendor = requests.Session()
    vendor.auth = requests.auth.HTTPBasicAuth(user, password)
    client = client_for(wsdl_url, vendor)
    services = {}
    for sname, svc in client.wsdl.services.items():
        services[sname] = [{"port": pname, "binding": type(p.binding).__name__,
                            "address": p.binding_options.get("address")}
                           for pname, p in svc.ports.items()]
    out["wsdl"] = services
    ports = services.get("LicenseService", [])
    check("wsdl first port is SOAP 1.1 LicenseServicePort",
          ports and ports[0]["port"] == "LicenseServicePort" and ports[0]["binding"] == "Soap11Binding", ports)
    check("wsdl has SOAP 1.2 port LicenseServiceSoap12Port",
          any(p["port"] == "LicenseServiceSoap12Port" and p["binding"] == "Soap12Binding" for p in ports), ports)
    check("wsdl soap:address is the URL used", ports and all(p["address"] == address for p in ports), ports)
    svc = client.service

    # --- createKey, getKey ------------------------------------------------------------------------------
    created = svc.createKey(productId=product_id, period=30, f1=True, f3=True, notes="made by zeep",
                            maxNoOfMachines=1, newCustomer={"name": "Ada", "email": "ada@example.com"})
    key = created.key
    out["key"] = key
    out["global_id"] = created.globalId
    check("createKey returns a key XXXXX-XXXXX-XXXXX-XXXXX", isinstance(key, str) and len(key) == 23
          and key.count("-") == 3, key)
    check("createKey made a customer", created.customerId, created.customerId)

    lic = svc.getKey(productId=product_id, key=key)
    check("getKey key, period, features, notes",
          lic.key == key and lic.period == 30 and lic.f1 and not lic.f2 and lic.f3 and lic.notes == "made by zeep",
          {"key": lic.key, "period": lic.period, "f1": lic.f1, "f2": lic.f2, "notes": lic.notes})
    check("getKey customer", lic.customer is not None and lic.customer.name == "Ada"
          and lic.customer.email == "ada@example.com", str(lic.customer))
    check("getKey dates are datetimes 30 days apart", isinstance(lic.created, datetime.datetime)
          and lic.expires - lic.created == datetime.timedelta(days=30), [str(lic.created), str(lic.expires)])
    check("getKey not blocked, no machines", lic.block is False and not lic.activatedMachine,
          {"block": lic.block, "machines": str(lic.activatedMachine)})
    signed = json.loads(lic.licenseKey.decode("utf-8"))
    check("signed licenseKey is Cryptolens' JSON of the same key", signed.get("Key") == key
          and signed.get("ProductId") == product_id and signed.get("Period") == 30, signed)
    check("signature is 256 bytes (RSA-2048)", isinstance(lic.signature, bytes) and len(lic.signature) == 256,
          len(lic.signature or b""))

    # --- activate up to the limit, deactivate ------------------------------------------------------------
    act = svc.activate(productId=product_id, key=key, machineCode="zeep-machine-1", friendlyName="laptop")
    machines = [(m.mid, m.friendlyName) for m in act.activatedMachine]
    check("activate lists the machine", machines == [("zeep-machine-1", "laptop")], machines)
    out["signed"] = {"license_key_b64": base64.b64encode(act.licenseKey).decode(),
                     "signature_b64": base64.b64encode(act.signature).decode()}
    again = svc.activate(productId=product_id, key=key, machineCode="zeep-machine-1")
    check("re-activating the same machine is no new seat", len(again.activatedMachine) == 1, str(again.activatedMachine))
    f = fault_of(svc.activate, productId=product_id, key=key, machineCode="zeep-machine-2")
    out["fault_limit"] = f
    check("second machine: limit fault", f.get("message") == "Cannot activate the new device as the limit has been reached.", f)

    check("deactivate returns nothing", svc.deactivate(productId=product_id, key=key, machineCode="zeep-machine-1") is None)
    f = fault_of(svc.deactivate, productId=product_id, key=key, machineCode="zeep-machine-1")
    check("deactivate twice: not-activated fault", f.get("message") ==
          "Either the machine code was never activated or key activation feature was never set up.", f)
    act2 = svc.activate(productId=product_id, key=key, machineCode="zeep-machine-2")
    check("the freed seat is taken by another machine", [m.mid for m in act2.activatedMachine] == ["zeep-machine-2"],
          str(act2.activatedMachine))

    # --- block, unblock, extend -----------------------------------------------------------------------------
    svc.blockKey(productId=product_id, key=key)
    f = fault_of(svc.getKey, productId=product_id, key=key)
    check("getKey of a blocked key: blocked fault", f.get("message") == "The key is blocked and cannot be accessed.", f)
    svc.unblockKey(productId=product_id, key=key)
    svc.extendLicense(productId=product_id, key=key, noOfDays=10)
    ext = svc.getKey(productId=product_id, key=key)
    check("extendLicense moved the expiry 10 days", ext.expires - lic.expires == datetime.timedelta(days=10),
          [str(lic.expires), str(ext.expires)])

    f = fault_of(svc.getKey, productId=product_id, key="AAAAA-AAAAA-AAAAA-AAAAA")
    check("unknown key fault", f.get("message") == "Could not find the key.", f)
    f = fault_of(svc.getKey, productId=product_id + 1000, key=key)
    check("unknown product fault", f.get("message") == "Could not find the product.", f)

    # --- SOAP 1.2 ---------------------------------------------------------------------------------------
    s12 = client.bind("LicenseService", "LicenseServiceSoap12Port")
    try:
        k12 = s12.getKey(productId=product_id, key=key)
        check("SOAP 1.2 getKey", k12.key == key, k12.key)
    except Exception as e:  # noqa: BLE001
        check("SOAP 1.2 getKey", False, repr(e))
    f = fault_of(s12.getKey, productId=product_id, key="AAAAA-AAAAA-AAAAA-AAAAA")
    check("SOAP 1.2 fault", f.get("message") == "Could not find the key.", f)

    # --- customers ------------------------------------------------------------------------------------------
    added = svc.addCustomer(name="Grace", email="grace@example.com", companyName="Compilers", notes="by zeep",
                            maxNoOfDevices=3, allowActivationManagement=True)
    check("addCustomer returns an id and a secret", added.customerId and isinstance(added.secret, str)
          and len(added.secret) == 36, str(added))
    listed = svc.getCustomers(search="compil")
    check("getCustomers finds the customer", [c.name for c in listed] == ["Grace"] and listed[0].maxNoOfDevices == 3
          and listed[0].allowActivationManagement is True and isinstance(listed[0].created, datetime.datetime),
          str(listed))
    edited = svc.editCustomer(customerId=added.customerId, name="Grace H", newSecret=True)
    check("editCustomer with newSecret makes another secret", edited.secret and edited.secret != added.secret,
          str(edited))
    check("getCustomers by id shows the edit", [c.name for c in svc.getCustomers(customerId=added.customerId)] == ["Grace H"])
    gk = svc.createKey(productId=product_id, period=7, customerId=added.customerId)
    owned = svc.getCustomerLicensesBySecret(secret=edited.secret)
    check("getCustomerLicensesBySecret lists the customer's key", [k.key for k in owned] == [gk.key]
          and owned[0].period == 7, str(owned))
    check("getCustomerLicenses lists the same", [k.key for k in svc.getCustomerLicenses(customerId=added.customerId)] == [gk.key])
    f = fault_of(svc.getCustomerLicensesBySecret, secret=added.secret)
    check("the replaced secret: customer-not-found fault", f.get("message") == "Customer not found.", f)
    check("removeCustomer returns nothing", svc.removeCustomer(customerId=added.customerId) is None)
    f = fault_of(svc.removeCustomer, customerId=added.customerId)
    check("removeCustomer twice: customer-not-found fault", f.get("message") == "Customer not found.", f)

    # --- the access token ---------------------------------------------------------------------------------
    if token:
        tok = requests.Session()
        tok.headers["Authorization"] = "Bearer " + token
        tc = client_for(wsdl_url, vendor)  # the WSDL with the vendor's session, the calls with the token's
        tc.transport.session = tok
        try:
            got = tc.service.getKey(productId=product_id, key=key)
            check("token: getKey", got.key == key, got.key)
        except Exception as e:  # noqa: BLE001
            check("token: getKey", False, repr(e))
        f = fault_of(tc.service.activate, productId=product_id, key=key, machineCode="zeep-machine-3")
        check("token without Activate: access denied", f.get("message") == "Access denied.", f)

    # --- bad credentials ------------------------------------------------------------------------------------
    seen = []
    bad = requests.Session()
    bad.auth = requests.auth.HTTPBasicAuth(user, password + "-wrong")
    bad.hooks["response"].append(lambda r, *a, **kw: seen.append(r.status_code))
    bc = client_for(wsdl_url, vendor)
    bc.transport.session = bad
    f = fault_of(bc.service.getKey, productId=product_id, key=key)
    check("bad password: HTTP 401", seen and seen[-1] == 401, {"statuses": seen, "fault": f})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password", default=os.environ.get("TM_PASSWORD"))
    ap.add_argument("--product-id", type=int, required=True)
    a = ap.parse_args()
    if not a.password:
        ap.error("no password: use --password or TM_PASSWORD")
    try:
        out = run(a.url.rstrip("/"), a.user, a.password, a.product_id, os.environ.get("TM_LICENSE_TOKEN"))
    except Exception as e:  # noqa: BLE001 - any crash is a failed run, still as JSON
        out = {"client": "zeep"}
        check("script completed", False, "".join(traceback.format_exception(e)))
    failed = [c for c in checks if not c["ok"]]
    out["checks"] = [c if not c["ok"] else {"name": c["name"], "ok": True} for c in checks]
    out["failed"] = [c["name"] for c in failed]
    out["ok"] = not failed
    json.dump(out, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
