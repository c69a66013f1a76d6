#!/usr/bin/env node
// End-to-end interoperability check of tokenmanager with node-soap (npm "soap", pinned in package.json).
//
// Usage: node client.js --url http://127.0.0.1:PORT [--user admin]   (password from the env TM_PASSWORD)
//
// Loads the TokenManagerService WSDL from the running server, gets one token of each kind over SOAP 1.1
// (plus an open token over the SOAP 1.2 port), checks every token against GET /security/rest/token/verify
// (Node's built-in fetch), logs tokens out through the TokenLogoutService WSDL, and checks the SOAP fault
// and the 401 paths. Prints one JSON object to stdout and exits 0 only if every check passed.
'use strict';

const soap = require('soap');
const soapVersion = require('soap/package.json').version;

const JWE_PREFIX = 'eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..';
const TIMEOUT_MS = 15000; // every HTTP request

const checks = []; // {name, ok, detail}
function check(name, ok, detail) {
  checks.push({ name, ok: !!ok, detail: detail === undefined ? null : detail });
  return !!ok;
}

function parseArgs(argv) {
  const a = { url: '', user: 'admin', password: process.env.TM_PASSWORD || '' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--url') { a.url = v; i++; } else if (k === '--user') { a.user = v; i++; } else if (k === '--password') { a.password = v; i++; } else { throw new Error('unknown argument ' + k); }
  }
  if (!a.url || !a.password) throw new Error('usage: node client.js --url BASE [--user U] (password in TM_PASSWORD)');
  a.url = a.url.replace(/\/+$/, '');
  return a;
}

// The SESSION value from the Set-Cookie header(s) of the last node-soap response, or null.
function setCookieSession(headers) {
  if (!headers) return null;
  let sc = headers['set-cookie'];
  if (!sc) return null;
  if (!Array.isArray(sc)) sc = [sc];
  for (const c of sc) {
    const m = /^\s*SESSION=([^;\s]+)/.exec(c);
    if (m) return m[1];
  }
  return null;
}

async function verify(base, token, session, via = 'bearer') {
  const headers = {};
  const cookies = [];
  if (via === 'bearer') headers.Authorization = 'Bearer ' + token;
  else cookies.push('spectrum.authentication.token=' + token);
  if (session) cookies.push('SESSION=' + session);
  if (cookies.length) headers.Cookie = cookies.join('; ');
  const r = await fetch(base + '/security/rest/token/verify', { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await r.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text.slice(0, 500); }
  return {
    status: r.status,
    body,
    x_token_user: r.headers.get('x-token-user'),
    www_authenticate: r.headers.get('www-authenticate'),
  };
}

function tokenInfo(result) {
  const r = (result && result.return) || {};
  return { session: r.session ?? null, token: r.token ?? null, username: r.username ?? null };
}

function errInfo(e) {
  const o = { message: String(e && e.message) };
  if (e && e.response) o.status = e.response.status;
  const fault = e && e.root && e.root.Envelope && e.root.Envelope.Body && e.root.Envelope.Body.Fault;
  if (fault) o.fault = fault;
  return o;
}

async function run(base, user, password) {
  const out = { client: 'node-soap', soap_version: soapVersion, node_version: process.version };
  const wsdlUrl = base + '/security/TokenManagerService?wsdl';
  const logoutWsdlUrl = base + '/security/TokenLogoutService?wsdl';
  const managerAddr = base + '/security/TokenManagerService';
  const logoutAddr = base + '/security/TokenLogoutService';
  const reqOpts = { timeout: TIMEOUT_MS };
  // disableCache: node-soap otherwise shares one parsed WSDL (and its options, e.g. forceSoap12Headers)
  // between every client of the same URL.
  const clientOpts = { wsdl_options: reqOpts, disableCache: true };

  // --- WSDL ------------------------------------------------------------------
  const client = await soap.createClientAsync(wsdlUrl, clientOpts);
  client.setSecurity(new soap.BasicAuthSecurity(user, password));
  const desc = client.describe();
  const services = {};
  const defs = client.wsdl.definitions.services;
  for (const sname of Object.keys(defs)) {
    services[sname] = Object.keys(defs[sname].ports).map((pname) => ({
      port: pname,
      location: defs[sname].ports[pname].location,
      operations: Object.keys((desc[sname] || {})[pname] || {}),
    }));
  }
  out.wsdl = { url: wsdlUrl, services };
  const ports = services.TokenManagerServiceImplService || [];
  check('wsdl service TokenManagerServiceImplService', ports.length > 0, Object.keys(services));
  check('wsdl first port TokenManagerServiceImplPort', ports.length && ports[0].port === 'TokenManagerServiceImplPort', ports);
  check('wsdl has TokenManagerServiceImplSoap12Port', ports.some((p) => p.port === 'TokenManagerServiceImplSoap12Port'), ports);
  check('wsdl soap:address is the URL used', ports.length && ports.every((p) => p.location === managerAddr),
    { want: managerAddr, got: ports.map((p) => p.location) });
  check('wsdl has the three operations', ports.length && ['getAccessExpiringToken', 'getAccessSessionToken', 'getAccessToken']
    .every((op) => ports[0].operations.includes(op)), ports);

  // SOAP 1.1 port, called explicitly (node-soap's client.<op> is the last port's method).
  const p11 = client.TokenManagerServiceImplService.TokenManagerServiceImplPort;
  const call = (op, args) => new Promise((resolve, reject) => {
    p11[op](args, (err, result) => (err ? reject(err) : resolve(tokenInfo(result))), reqOpts);
  });

  // --- the three operations ------------------------------------------------------
  const tokens = {};
  for (const [kind, op, args] of [
    ['expiring', 'getAccessExpiringToken', { tokenLifeInMinutes: 60 }],
    ['session', 'getAccessSessionToken', {}],
    ['open', 'getAccessToken', {}],
  ]) {
    const info = await call(op, args);
    info.set_cookie_session = setCookieSession(client.lastResponseHeaders);
    tokens[kind] = info;
  }
  out.tokens = tokens;
  const { expiring: exp, session: ses, open: opn } = tokens;
  for (const [kind, info] of Object.entries(tokens)) {
    check(kind + ' token is JWE dir/A128CBC-HS256', (info.token || '').startsWith(JWE_PREFIX), info.token);
    check(kind + ' username', info.username === user, info.username);
  }
  for (const kind of ['expiring', 'session']) {
    const info = tokens[kind];
    check(kind + ' has session', !!info.session, info);
    check(kind + ' Set-Cookie SESSION matches <session>', info.set_cookie_session === info.session, info);
  }
  check('open token has no session', !opn.session, opn);
  check('tokens are distinct', new Set(Object.values(tokens).map((t) => t.token)).size === 3);
  check('sessions are distinct', exp.session !== ses.session);

  // SOAP 1.2 port.
  try {
    const c12 = await soap.createClientAsync(wsdlUrl, { ...clientOpts, forceSoap12Headers: true });
    c12.setSecurity(new soap.BasicAuthSecurity(user, password));
    const p12 = c12.TokenManagerServiceImplService.TokenManagerServiceImplSoap12Port;
    const r12 = await new Promise((resolve, reject) => {
      p12.getAccessToken({}, (err, result) => (err ? reject(err) : resolve(tokenInfo(result))), reqOpts);
    });
    out.soap12_open_token = r12;
    check('SOAP 1.2 getAccessToken', (r12.token || '').startsWith(JWE_PREFIX) && r12.username === user, r12);
  } catch (e) {
    out.soap12_open_token = { error: errInfo(e) };
    check('SOAP 1.2 getAccessToken', false, errInfo(e));
  }

  // --- verify every token ----------------------------------------------------------
  const before = {};
  for (const [kind, info] of Object.entries(tokens)) before[kind] = await verify(base, info.token, info.session);
  before.open_via_cookie = await verify(base, opn.token, null, 'cookie');
  before.expiring_via_cookie = await verify(base, exp.token, exp.session, 'cookie');
  before.session_without_SESSION = await verify(base, ses.token, null);
  before.session_with_other_SESSION = await verify(base, ses.token, exp.session);
  out.verify = before;
  for (const kind of ['expiring', 'session', 'open']) {
    const v = before[kind];
    check('verify ' + kind, v.status === 200 && v.body && v.body.username === user && v.body.kind === kind &&
      v.x_token_user === user, v);
  }
  for (const k of ['open_via_cookie', 'expiring_via_cookie']) {
    check('verify ' + k, before[k].status === 200 && before[k].x_token_user === user, before[k]);
  }
  for (const k of ['session_without_SESSION', 'session_with_other_SESSION']) {
    check('verify ' + k + ' is 401', before[k].status === 401 && !!before[k].www_authenticate, before[k]);
  }

  // --- SOAP fault ----------------------------------------------------------------------
  try {
    await call('getAccessExpiringToken', { tokenLifeInMinutes: -5 });
    out.fault = { raised: false };
  } catch (e) {
    const info = errInfo(e);
    out.fault = { raised: !!info.fault, status: info.status, fault: info.fault, message: info.message };
  }
  check('getAccessExpiringToken(-5) gives a SOAP Fault with HTTP 500', out.fault.raised && out.fault.status === 500, out.fault);

  // --- bad credentials -------------------------------------------------------------------
  const bad = await soap.createClientAsync(wsdlUrl, clientOpts);
  bad.setSecurity(new soap.BasicAuthSecurity(user, password + '-wrong'));
  try {
    await bad.getAccessTokenAsync({}, reqOpts);
    out.bad_credentials = { rejected: false };
  } catch (e) {
    const info = errInfo(e);
    out.bad_credentials = { rejected: true, status: info.status, message: info.message,
      www_authenticate: bad.lastResponseHeaders && bad.lastResponseHeaders['www-authenticate'] };
  }
  check('bad credentials rejected with HTTP 401', out.bad_credentials.status === 401, out.bad_credentials);
  check('bad credentials WWW-Authenticate Basic', /^Basic/.test(out.bad_credentials.www_authenticate || ''), out.bad_credentials);

  // --- logout via the TokenLogoutService WSDL ------------------------------------------------
  async function logout(security, cookie) {
    const lc = await soap.createClientAsync(logoutWsdlUrl, clientOpts);
    const port = lc.TokenLogoutServiceImplService.TokenLogoutServiceImplPort;
    const location = lc.wsdl.definitions.services.TokenLogoutServiceImplService.ports.TokenLogoutServiceImplPort.location;
    if (security) lc.setSecurity(security);
    if (cookie) lc.addHttpHeader('Cookie', cookie);
    try {
      await new Promise((resolve, reject) => {
        port.logout({}, (err, result) => (err ? reject(err) : resolve(result)), reqOpts);
      });
      return { ok: true, location };
    } catch (e) {
      return { ok: false, error: errInfo(e), location };
    }
  }
  out.logout = {
    // session token: Bearer header plus the SESSION cookie
    session: await logout(new soap.BearerSecurity(ses.token), 'SESSION=' + ses.session),
    // open token: the spectrum.authentication.token cookie
    open: await logout(null, 'spectrum.authentication.token=' + opn.token),
  };
  check('logout wsdl soap:address is the URL used', out.logout.session.location === logoutAddr, out.logout.session.location);
  check('logout session token', out.logout.session.ok, out.logout.session);
  check('logout open token', out.logout.open.ok, out.logout.open);

  const after = {};
  for (const [kind, info] of Object.entries(tokens)) after[kind] = await verify(base, info.token, info.session);
  out.verify_after_logout = after;
  check('session token 401 after logout', after.session.status === 401, after.session);
  check('open token 401 after logout', after.open.status === 401, after.open);
  check('expiring token still valid', after.expiring.status === 200, after.expiring);

  const again = await logout(new soap.BearerSecurity(ses.token), 'SESSION=' + ses.session);
  out.logout.session_again = again;
  check('second logout of the same token fails', !again.ok, again);
  return out;
}

async function main() {
  let out = { client: 'node-soap' };
  try {
    const a = parseArgs(process.argv.slice(2));
    out = await run(a.url, a.user, a.password);
  } catch (e) {
    check('script completed', false, String((e && e.stack) || e));
  }
  const failed = checks.filter((c) => !c.ok);
  // Details only for the failures; the rest of the JSON has the full picture.
  out.checks = checks.map((c) => (c.ok ? { name: c.name, ok: true } : c));
  out.failed = failed.map((c) => c.name);
  out.ok = failed.length === 0;
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
  process.exitCode = out.ok ? 0 : 1;
}

main();
