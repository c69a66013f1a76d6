// The console's client of the management API (/admin/v1) and of its own session (/console/session). Every
// call sends the session's anti-forgery token in X-CSRF-Token; the cookie itself is HttpOnly and never seen.

let csrf = '';

// Problem is an RFC 9457 problem document answered by the server (or made from an answer that was none).
export class Problem extends Error {
  constructor(status, doc) {
    super(doc.detail || doc.title || `HTTP ${status}`);
    this.status = status;
    this.title = doc.title || `HTTP ${status}`;
    this.detail = doc.detail || '';
    this.field = doc.field || '';
  }
}

async function problemOf(resp) {
  const text = await resp.text();
  try {
    const doc = JSON.parse(text);
    if (doc && typeof doc === 'object') return new Problem(resp.status, doc);
  } catch (e) { /* not JSON: a route this server does not have, or a proxy's page */ }
  const title = resp.status === 404 ? 'No such resource' : `HTTP ${resp.status}`;
  return new Problem(resp.status, { title, detail: text.trim().slice(0, 200) });
}

// call makes one request; it answers {status, etag, body} or throws a Problem.
export async function call(method, path, { body, etag } = {}) {
  const headers = { 'Accept': 'application/json, application/problem+json' };
  if (csrf) headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (etag) headers['If-Match'] = etag;
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    throw new Problem(0, { title: 'The server cannot be reached', detail: String(e.message || e) });
  }
  if (!resp.ok) {
    const p = await problemOf(resp);
    if (resp.status === 401 && !path.startsWith('/console/session')) window.dispatchEvent(new CustomEvent('console:signed-out'));
    throw p;
  }
  const text = resp.status === 204 ? '' : await resp.text();
  let parsed = null;
  if (text) {
    try { parsed = JSON.parse(text); } catch (e) { parsed = text; }
  }
  return { status: resp.status, etag: resp.headers.get('ETag') || '', body: parsed };
}

export const api = (method, path, opts) => call(method, '/admin/v1' + path, opts);

// items is the array of a list answer: {"items":[…]} or, for the older lists, the first array member.
export function items(body) {
  if (!body || typeof body !== 'object') return [];
  if (Array.isArray(body.items)) return body.items;
  if (Array.isArray(body)) return body;
  for (const v of Object.values(body)) if (Array.isArray(v)) return v;
  return [];
}

// whoami is the account as the management API takes it (GET /admin/v1/me: role and vendor), which decides the
// menu.
async function whoami(s) {
  const me = (await api('GET', '/me')).body;
  return { user: me.user, role: me.role, vendor: me.vendor || '', idle_expires_at: s.idle_expires_at, expires_at: s.expires_at };
}

export async function session() {
  const r = await call('GET', '/console/session');
  csrf = r.body.csrf;
  return whoami(r.body);
}

export async function signIn(user, password) {
  const r = await call('POST', '/console/session', { body: { user, password } });
  csrf = r.body.csrf;
  return whoami(r.body);
}

export async function signOut() {
  try { await call('DELETE', '/console/session'); } finally { csrf = ''; }
}
