#!/usr/bin/env node
// End-to-end interoperability check of tokenmanager's Cryptolens-compatible API with Cryptolens' official
// Node client (npm "cryptolens", pinned in package.json), its LicenseServerUrl argument pointed at us.
//
// Usage: node cryptolens_client.js --url http://127.0.0.1:PORT --product ID --key KEY --floating-key KEY
//          --pubkey FILE --other-pubkey FILE --template ID     (access token in the env TM_CL_TOKEN)
//
// The key must allow one machine and have F1 only; the template must give F3 and a 365-day period. Activates,
// re-activates, refuses a second machine, deactivates, activates the second machine, checks signatures (also
// against the wrong public key and after tampering), a floating activation, and data objects on the key
// (Data.AddDataObjectToKey; features by name in a signed license's DataObjects, Helpers.HasFeature); then changes
// features and notes, creates a key from the template and lists the product's keys and the products. Prints one
// JSON object to stdout and exits 0 only if every check passed.
'use strict';

const util = require('util');
// The library logs with console.log (IsOnRightMachineCustom prints its arguments); keep stdout for the report.
console.log = (...a) => process.stderr.write(util.format(...a) + '\n');
console.warn = console.log;

const fs = require('fs');
const { Key, Helpers, Data } = require('cryptolens');
// The published client (1.0.11) has no Product class yet; Cryptolens' own source sends GetKeys and GetProducts
// through this helper with the form below, so the calls here are the SDK's, on the library's transport.
const CallAPI = require('cryptolens/internal/HelperMethods.js').CallAPI;
const libVersion = require('cryptolens/package.json').version;

const LIMIT = 'Cannot activate the new device as the limit has been reached.';
const DUPLICATE = 'A data object with the same name already exists.';
const NOT_ACTIVATED = 'Either the machine code was never activated or key activation feature was never set up.';

const checks = [];
function check(name, ok, detail) {
  checks.push({ name, ok: !!ok, detail: detail === undefined ? null : detail });
  return !!ok;
}

function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    if (!k.startsWith('--') || i + 1 >= argv.length) throw new Error('bad argument ' + k);
    a[k.slice(2)] = argv[i + 1];
  }
  for (const k of ['url', 'product', 'key', 'floating-key', 'pubkey', 'other-pubkey', 'template']) {
    if (!a[k]) throw new Error('missing --' + k);
  }
  a.token = process.env.TM_CL_TOKEN || '';
  if (!a.token) throw new Error('missing TM_CL_TOKEN');
  a.url = a.url.replace(/\/+$/, ''); // the library wants no trailing slash
  a.product = Number(a.product);
  return a;
}

// outcome runs a promise and reports {ok, value} or {ok:false, error}.
async function outcome(p) {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    return { ok: false, error: e && e.message ? e.message : String(e) };
  }
}

function machines(license) {
  return (license.ActivatedMachines || []).map((m) => m.Mid);
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const pub = fs.readFileSync(a.pubkey, 'utf8').trim();
  const otherPub = fs.readFileSync(a['other-pubkey'], 'utf8').trim();
  const report = { client: 'cryptolens-node', cryptolens_version: libVersion, node_version: process.versions.node };
  const activate = (machine, pubKey = pub, key = a.key, floating = 0) =>
    outcome(Key.Activate(a.token, pubKey, a.product, key, machine, 0, false, floating, 0, a.url));
  const deactivate = (machine) => outcome(Key.Deactivate(a.token, a.product, a.key, machine, false, null, a.url));

  // 1. Activate: the library verifies the signature with the <RSAKeyValue> before it resolves.
  let r = await activate('machine-A');
  if (check('activate machine-A', r.ok, r.error)) {
    const lic = r.value;
    check('license is for the key', lic.Key === a.key && lic.ProductId === a.product, { Key: lic.Key, ProductId: lic.ProductId });
    check('machine-A listed', JSON.stringify(machines(lic)) === '["machine-A"]', machines(lic));
    check('IsOnRightMachineCustom(machine-A)', Helpers.IsOnRightMachineCustom(lic, 'machine-A', false, false));
    check('HasNotExpired', Helpers.HasNotExpired(lic), lic.Expires);
    check('HasFeature(1)', Helpers.HasFeature(lic, 1) === true && Helpers.HasFeature(lic, 2) === false, { F1: lic.F1, F2: lic.F2 });
    // Saved and loaded offline: the signature still holds; a tampered copy does not load.
    const saved = Helpers.SaveAsString(lic);
    check('LoadFromString of the saved license', Helpers.LoadFromString(pub, saved) !== null);
    const raw = JSON.parse(saved);
    const body = JSON.parse(Buffer.from(raw.licenseKey, 'base64').toString('utf8'));
    body.MaxNoOfMachines = 100;
    raw.licenseKey = Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
    check('LoadFromString refuses a tampered license', Helpers.LoadFromString(pub, JSON.stringify(raw)) === null);
    check('LoadFromString refuses another product key', Helpers.LoadFromString(otherPub, saved) === null);
    report.license = { Key: lic.Key, ID: lic.ID, SignDate: lic.SignDate, ActivatedMachines: lic.ActivatedMachines };
  }

  // 2. Re-activation of the same machine: no second seat.
  r = await activate('machine-A');
  check('re-activate machine-A', r.ok && JSON.stringify(machines(r.value)) === '["machine-A"]', r.ok ? machines(r.value) : r.error);

  // 3. A second machine is refused with Cryptolens' message.
  r = await activate('machine-B');
  check('machine-B refused at the limit', !r.ok && r.error === LIMIT, r);

  // 4. The wrong public key: the library refuses our (correctly signed) answer.
  r = await activate('machine-A', otherPub);
  check('activation verified against the wrong key fails', !r.ok && r.error === 'Signature verification failed.', r);

  // 5. GetKey.
  r = await outcome(Key.GetKey(a.token, pub, a.product, a.key, 0, false, a.url));
  check('GetKey', r.ok && r.value.Key === a.key && JSON.stringify(machines(r.value)) === '["machine-A"]', r.ok ? machines(r.value) : r.error);

  // 6. Deactivate machine-A; then machine-B gets the seat; deactivating machine-A again is an error.
  r = await deactivate('machine-A');
  check('deactivate machine-A', r.ok, r.error);
  r = await activate('machine-B');
  check('activate machine-B after machine-A left', r.ok && JSON.stringify(machines(r.value)) === '["machine-B"]', r.ok ? machines(r.value) : r.error);
  r = await deactivate('machine-A');
  check('deactivate machine-A twice', !r.ok && r.error === NOT_ACTIVATED, r);

  // 7. Floating activation on the other key.
  r = await activate('float-1', pub, a['floating-key'], 100);
  if (check('floating activation', r.ok, r.error)) {
    const lic = r.value;
    check('floating Mid', JSON.stringify(machines(lic)) === '["floating:float-1"]', machines(lic));
    check('IsOnRightMachineCustom(float-1, floating)', Helpers.IsOnRightMachineCustom(lic, 'float-1', true, false));
  }
  r = await activate('float-2', pub, a['floating-key'], 100);
  check('second floating machine refused', !r.ok && r.error === LIMIT, r);

  // 8. Data objects on the key: the library resolves AddDataObjectToKey with the new object's id.
  const addData = (check, name, stringValue, intValue) =>
    outcome(Data.AddDataObjectToKey(a.token, a.product, a.key, check, name, stringValue, intValue, a.url));
  r = await addData(true, 'usage', null, 3);
  check('AddDataObjectToKey', r.ok && Number.isInteger(r.value) && r.value > 0, r.ok ? r.value : r.error);
  const usageId = r.ok ? r.value : null;
  r = await addData(true, 'usage', null, 1);
  check('AddDataObjectToKey refuses a duplicate name', !r.ok && r.error === DUPLICATE, r);
  r = await addData(false, 'cryptolens_features', JSON.stringify(['f1', ['f2', ['voice', 'video']]]), 0);
  check('AddDataObjectToKey with a string value', r.ok, r.error);
  // The signed license now carries them; the library verified the signature before resolving.
  r = await outcome(Key.GetKey(a.token, pub, a.product, a.key, 0, false, a.url));
  if (check('GetKey with data objects', r.ok, r.error)) {
    const lic = r.value;
    const objs = (lic.DataObjects || []).map((o) => ({ Id: o.Id, Name: o.Name, IntValue: o.IntValue }));
    check('DataObjects listed', objs.length === 2 && objs[0].Id === usageId && objs[0].Name === 'usage' && objs[0].IntValue === 3, objs);
    check('HasFeature(f2.voice) from DataObjects', Helpers.HasFeature(lic, 'f2.voice') === true, lic.DataObjects);
    check('HasFeature(f3) is false', Helpers.HasFeature(lic, 'f3') === false);
    const saved = Helpers.SaveAsString(lic);
    check('LoadFromString keeps the data objects', (Helpers.LoadFromString(pub, saved) || {}).DataObjects.length === 2);
    report.dataObjects = objs;
  }

  // 9. Features and notes (key/AddFeature, key/RemoveFeature, key/ChangeNotes), read back with GetKey.
  const getKey = (key) => outcome(Key.GetKey(a.token, pub, a.product, key, 0, false, a.url));
  r = await outcome(Key.AddFeature(a.token, a.product, a.key, 2, a.url));
  check('AddFeature(2)', r.ok && r.value.result === 0, r);
  r = await outcome(Key.AddFeature(a.token, a.product, a.key, 5, a.url));
  check('AddFeature(5)', r.ok, r);
  r = await outcome(Key.RemoveFeature(a.token, a.product, a.key, 5, a.url));
  check('RemoveFeature(5)', r.ok, r);
  r = await outcome(Key.ChangeNotes(a.token, a.product, a.key, 'changed by node', a.url));
  check('ChangeNotes', r.ok, r);
  r = await getKey(a.key);
  check('GetKey after the changes', r.ok && Helpers.HasFeature(r.value, 2) && !Helpers.HasFeature(r.value, 5) &&
    Helpers.HasFeature(r.value, 1) && r.value.Notes === 'changed by node', r.ok ? { F2: r.value.F2, F5: r.value.F5, Notes: r.value.Notes } : r);
  r = await outcome(Key.AddFeature(a.token, a.product, a.key, 9, a.url));
  check('AddFeature(9) refused', !r.ok && r.error === 'The input parameters were incorrect.', r);

  // 10. CreateKeyFromTemplate resolves the new key string.
  r = await outcome(Key.CreateKeyFromTemplate(a.token, Number(a.template), a.url));
  let fromTemplate = null;
  if (check('CreateKeyFromTemplate', r.ok && /^[A-Z]{5}(-[A-Z]{5}){3}$/.test(r.value), r)) {
    fromTemplate = r.value;
    r = await getKey(fromTemplate);
    check('the template\'s key', r.ok && Helpers.HasFeature(r.value, 3) && !Helpers.HasFeature(r.value, 1) && r.value.Period === 365,
      r.ok ? { F1: r.value.F1, F3: r.value.F3, Period: r.value.Period } : r);
  }
  r = await outcome(Key.CreateKeyFromTemplate(a.token, 999999, a.url));
  check('CreateKeyFromTemplate of no template refused', !r.ok && r.error === 'Could not find the license template.', r);

  // 11. GetKeys (page, orderBy, searchQuery, globalId as the SDK's Product.GetKeys sends them) and GetProducts.
  const getKeys = (page, orderBy, searchQuery) => outcome(CallAPI(`${a.url}/api/product/GetKeys`,
    { token: a.token, productId: a.product, page, orderBy, searchQuery, globalId: 0 }));
  r = await getKeys(1, '', '');
  check('GetKeys lists every key', r.ok && r.value.total === 3 && r.value.returned === 3 && r.value.pageCount === 1 &&
    r.value.licenseKeys.length === 3, r.ok ? { total: r.value.total, returned: r.value.returned } : r);
  r = await getKeys(1, 'ID descending', 'F2 == true && Notes.Contains("node")');
  check('GetKeys searches', r.ok && r.value.total === 1 && r.value.licenseKeys[0].Key === a.key, r.ok ? r.value.total : r);
  if (fromTemplate) {
    r = await getKeys(1, '', `Key == "${fromTemplate}"`);
    check('GetKeys finds the template\'s key', r.ok && r.value.total === 1 && r.value.licenseKeys[0].F3 === true, r.ok ? r.value.total : r);
  }
  r = await getKeys(1, '', 'Notes.Length > 1');
  check('GetKeys refuses an unsupported query', !r.ok && r.error === 'The input parameters were incorrect.', r);
  r = await outcome(CallAPI(`${a.url}/api/product/GetProducts`, { token: a.token }));
  check('GetProducts', r.ok && r.value.products.length === 1 && r.value.products[0].Id === a.product, r.ok ? r.value.products : r);

  report.checks = checks;
  report.failed = checks.filter((c) => !c.ok).map((c) => c.name);
  report.ok = report.failed.length === 0;
  process.stdout.write(JSON.stringify(report) + '\n');
  process.exitCode = report.ok ? 0 : 1;
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ client: 'cryptolens-node', ok: false, failed: ['exception'], error: String(e && e.stack || e), checks }) + '\n');
  process.exitCode = 1;
});
