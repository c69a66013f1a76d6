// tokenmanager browser example: sign in, check the token, log out, from a page on another origin.
//
// What matters for your own app:
//   * every call uses credentials: 'include', so the browser stores and sends the HttpOnly SESSION cookie
//     the service sets; a session token is refused without it;
//   * the token is kept in memory only (not localStorage, where any script injected into the page could
//     read it) and sent as "Authorization: Bearer ...";
//   * the service must list this page's origin (--cors-origins); a cross-site deployment also needs HTTPS
//     and --cookie-samesite none, or the browser will not send the cookie.
'use strict';

const $ = (id) => document.getElementById(id);
let token = null; // the access token, in memory only

const params = new URLSearchParams(location.search);
$('service').value = params.get('service') || 'http://127.0.0.1:8080';

function serviceURL(path) {
  return $('service').value.replace(/\/+$/, '') + path;
}

// Basic credentials, UTF-8 encoded (btoa alone only takes Latin-1).
function basic(user, pass) {
  const bytes = new TextEncoder().encode(user + ':' + pass);
  return 'Basic ' + btoa(String.fromCharCode(...bytes));
}

function show(state, text) {
  const s = $('status');
  s.textContent = text;
  s.dataset.state = state;
  s.dataset.seq = String(Number(s.dataset.seq) + 1); // lets tests wait for the outcome of each action
}

function showSession(user, kind, expires) {
  $('user').textContent = user || '–';
  $('kind').textContent = kind || '–';
  $('expires').textContent = expires || (kind ? 'with the session' : '–');
}

async function call(path, init) {
  const resp = await fetch(serviceURL(path), { credentials: 'include', ...init });
  const body = await resp.text();
  if (!resp.ok) {
    throw new Error(`${resp.status} ${resp.statusText}: ${body.slice(0, 200)}`);
  }
  return body;
}

// REST: GET /security/rest/token/access/session/{ttlInMinutes} with Basic; 0 = a session token.
async function loginREST() {
  const body = await call('/security/rest/token/access/session/0', {
    headers: { Authorization: basic($('username').value, $('password').value) },
  });
  token = JSON.parse(body).access_token;
}

// SOAP: TokenManagerService.getAccessSessionToken, as a SOAP 1.1 envelope.
async function loginSOAP() {
  const envelope =
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:tok="http://token.security.common.server.platform.spectrum.pb.com/">' +
    '<soapenv:Body><tok:getAccessSessionToken/></soapenv:Body></soapenv:Envelope>';
  const body = await call('/security/TokenManagerService', {
    method: 'POST',
    headers: {
      'Content-Type': 'text/xml; charset=utf-8',
      SOAPAction: '""',
      Authorization: basic($('username').value, $('password').value),
    },
    body: envelope,
  });
  const doc = new DOMParser().parseFromString(body, 'text/xml');
  const tok = doc.getElementsByTagName('token')[0];
  if (!tok) throw new Error('no <token> in the response');
  token = tok.textContent;
}

// The check endpoint: 200 with the owner and kind, or 401.
async function check() {
  if (!token) throw new Error('not signed in');
  const body = await call('/security/rest/token/verify', { headers: { Authorization: 'Bearer ' + token } });
  const v = JSON.parse(body);
  showSession(v.username, v.kind, v.expires_at);
  return v;
}

async function logout() {
  if (!token) throw new Error('not signed in');
  await call('/security/rest/token/logout', { headers: { Authorization: 'Bearer ' + token } });
  showSession();
}

function action(name, fn) {
  return async () => {
    try {
      const v = await fn();
      show('ok', `${name}: ok${v && v.username ? ` (${v.username}, ${v.kind})` : ''}`);
    } catch (err) {
      // A refused CORS request surfaces here as a TypeError ("Failed to fetch"): the browser hides why.
      show('error', `${name}: ${err.message}`);
    }
  };
}

$('login-rest').addEventListener('click', action('sign in (REST)', async () => { await loginREST(); return check(); }));
$('login-soap').addEventListener('click', action('sign in (SOAP)', async () => { await loginSOAP(); return check(); }));
$('check').addEventListener('click', action('check', check));
$('logout').addEventListener('click', action('log out', logout));
