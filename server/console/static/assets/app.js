// The console: routing by path under /console/ (a deep link works on reload: the server answers the same page
// for every path), the sign-in, the menu, and one renderer for every resource definition of resources.js.
import { api, call, items, session, signIn, signOut, Problem } from './api.js';
import { resources, groups } from './resources.js';
import { overview } from './overview.js';

const BASE = '/console/';
let me = null; // {user, role, vendor}

// h builds an element: attrs are properties or attributes (on… adds a listener), children strings or nodes.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) el.append(c);
  return el;
}

// fmt shows a value as text that reads without colour: yes/no, dates in UTC, lists joined.
export function fmt(v, format) {
  if (v === undefined || v === null || v === '') return format === 'bool' ? 'no' : '—';
  switch (format) {
    case 'bool': return v ? 'yes' : 'no';
    case 'date': {
      const d = new Date(typeof v === 'number' ? v * 1000 : v);
      if (isNaN(d)) return String(v);
      return h('time', { datetime: d.toISOString() }, d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC');
    }
    case 'list': return Array.isArray(v) ? (v.length ? v.join(', ') : '—') : String(v);
    default: return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
}

// ---- routing

const routes = [];
for (const d of resources) {
  routes.push({ parts: d.route.split('/'), kind: 'list', def: d });
  if (d.detail) routes.push({ parts: d.detail.route.split('/'), kind: 'detail', def: d });
}

function match(path) {
  const segs = path.split('/').filter(Boolean).map(s => decodeURIComponent(s));
  for (const r of routes) {
    if (r.parts.length !== segs.length) continue;
    const params = {};
    if (r.parts.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = segs[i]), true) : p === segs[i]))) return { ...r, params };
  }
  return null;
}

const allowed = d => !d.operator || me.role === 'operator';
const forRole = f => !f.only || f.only === me.role;

export function navigate(to, replace = false) {
  const url = to.startsWith('/') ? to : BASE + to;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
}

document.addEventListener('click', e => {
  const a = e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target || a.hasAttribute('download')) return;
  const href = a.getAttribute('href');
  if (!href.startsWith(BASE)) return;
  e.preventDefault();
  navigate(href);
});
window.addEventListener('popstate', () => render());
window.addEventListener('console:signed-out', () => {
  if (!me) return;
  me = null;
  render('Your session has ended. Sign in again.');
});

// ---- the shell

const main = () => document.getElementById('main');

export function announce(text) {
  const s = document.getElementById('status');
  s.textContent = '';
  s.textContent = text;
}

function problemBox(p, prefix = '') {
  const title = p.status === 404 ? 'Not found' : p.title;
  return h('div', { class: 'problem', role: 'alert' }, h('strong', {}, `Error: ${prefix}${title}`), p.detail && p.detail !== title ? h('p', {}, p.detail) : null);
}

function buildMenu() {
  const nav = document.getElementById('menu');
  const list = h('ul', {});
  list.append(h('li', {}, h('a', { href: BASE }, 'Overview')));
  for (const g of groups) {
    const entries = resources.filter(d => d.group === g && d.menu !== false && allowed(d));
    if (!entries.length) continue;
    list.append(h('li', { class: 'group' }, h('span', { class: 'group-title', id: `menu-${g}` }, g),
      h('ul', { 'aria-labelledby': `menu-${g}` }, entries.map(d => h('li', {}, h('a', { href: BASE + d.route }, d.title))))));
  }
  nav.replaceChildren(list);
}

function markCurrent() {
  const here = location.pathname;
  for (const a of document.querySelectorAll('#menu a')) {
    const href = a.getAttribute('href');
    const cur = href === BASE ? here === BASE : here === href || here.startsWith(href + '/');
    if (cur) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function setupShell() {
  const toggle = document.getElementById('menu-toggle');
  const nav = document.getElementById('menu');
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    nav.classList.toggle('open', open);
  });
  nav.addEventListener('click', e => {
    if (e.target.closest('a')) {
      toggle.setAttribute('aria-expanded', 'false');
      nav.classList.remove('open');
    }
  });
  document.getElementById('signout').addEventListener('click', async () => {
    try { await signOut(); } catch (e) { /* signed out on the server or not: the page forgets the session */ }
    me = null;
    history.pushState(null, '', BASE);
    render('You are signed out.');
  });
}

// ---- pages

async function render(message) {
  const header = document.getElementById('account');
  if (!me) {
    document.body.classList.add('signed-out');
    header.hidden = true;
    document.getElementById('menu').replaceChildren();
    return signInPage(message);
  }
  document.body.classList.remove('signed-out');
  header.hidden = false;
  document.getElementById('who').textContent = `${me.user} (${me.role === 'operator' ? 'operator' : 'vendor ' + me.vendor})`;
  markCurrent();
  const rest = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '';
  const query = new URLSearchParams(location.search);
  const m = main();
  m.replaceChildren();
  if (rest === '' || rest === 'overview') {
    document.title = 'Overview — tokenmanager console';
    await overview(m, me, { h, fmt, problemBox });
  } else {
    const r = match(rest);
    if (!r) {
      document.title = 'Not found — tokenmanager console';
      m.append(h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, 'The console has no such page. '), h('a', { href: BASE }, 'Back to the overview'));
    } else if (!allowed(r.def)) {
      m.append(h('h1', { tabindex: '-1' }, 'Not found'), problemBox(new Problem(403, { title: 'Forbidden', detail: 'This page is for operators.' })));
    } else if (r.kind === 'list') {
      await listPage(m, r.def, r.params, query);
    } else {
      await detailPage(m, r.def, r.params);
    }
  }
  const h1 = m.querySelector('h1');
  if (h1 && message !== false) h1.focus({ preventScroll: true });
}

function signInPage(message) {
  document.title = 'Sign in — tokenmanager console';
  const err = h('div', { id: 'signin-error' });
  if (message) err.append(h('p', { class: 'notice', role: 'status' }, message));
  const form = h('form', { id: 'signin', class: 'card narrow', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'signin-user' }, 'User name'),
      h('input', { id: 'signin-user', name: 'user', autocomplete: 'username', required: true, maxlength: '256' })),
    h('div', { class: 'field' }, h('label', { for: 'signin-password' }, 'Password'),
      h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: '1024' })),
    h('button', { type: 'submit', id: 'signin-submit' }, 'Sign in'));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    err.replaceChildren();
    const user = form.elements.user.value.trim();
    const password = form.elements.password.value;
    if (!user || !password) {
      err.append(h('p', { class: 'problem', role: 'alert' }, 'Error: enter your user name and password.'));
      (user ? form.elements.password : form.elements.user).focus();
      return;
    }
    try {
      me = await signIn(user, password);
      buildMenu();
      render();
    } catch (p) {
      err.append(problemBox(p));
      form.elements.password.value = '';
      form.elements.password.focus();
    }
  });
  main().replaceChildren(h('h1', { tabindex: '-1' }, 'Sign in to the console'),
    h('p', {}, 'Operators and vendor accounts sign in with their tokenmanager user name and password.'), err, form);
  form.elements.user.focus();
}

// ---- forms

// fieldEl is one labelled control with the place for its error beside it.
function fieldEl(formId, f, value) {
  const id = `${formId}-${f.name}`;
  const attrs = { id, name: f.name, 'aria-describedby': `${id}-error` };
  for (const k of ['required', 'min', 'max', 'minlength', 'maxlength', 'pattern', 'title', 'autocomplete']) if (f[k] !== undefined && f[k] !== '') attrs[k] = f[k] === true ? true : String(f[k]);
  if (f.minlength === 0) delete attrs.minlength;
  let control;
  if (f.type === 'checkbox') {
    control = h('input', { ...attrs, type: 'checkbox', checked: !!value });
    return h('div', { class: 'field check' }, control, h('label', { for: id }, f.label), h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
  }
  if (f.type === 'select') {
    control = h('select', attrs, f.options.map(([v, t]) => h('option', { value: v, selected: String(value ?? '') === v }, t)));
  } else if (f.type === 'textarea') {
    control = h('textarea', { ...attrs, rows: '3' });
    control.defaultValue = value ?? '';
  } else {
    control = h('input', { ...attrs, type: f.type || 'text' });
    if (f.type === 'number') control.setAttribute('inputmode', 'numeric');
    control.defaultValue = String(value ?? f.value ?? ''); // what a reset returns to
  }
  return h('div', { class: 'field' }, h('label', { for: id }, f.label), control, h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
}

function showFieldError(form, name, text) {
  const input = form.elements[name];
  if (!input) return false;
  const el = form.querySelector(`#${CSS.escape(input.id)}-error`);
  el.textContent = `Error: ${text}`;
  el.hidden = false;
  input.setAttribute('aria-invalid', 'true');
  return true;
}

function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) { el.hidden = true; el.textContent = ''; }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  form.querySelector('.form-error').replaceChildren();
}

// bodyOf turns the form's values into the JSON body: numbers as numbers, checkboxes as true/false, empty
// optional members left out (kept as "" when editing, so that a text can be cleared).
function bodyOf(form, fields, editing) {
  const body = {};
  for (const f of fields) {
    const el = form.elements[f.name];
    if (!el) continue;
    if (editing && f.ifChanged && el.value === el.defaultValue) continue; // left as it was shown
    let v;
    if (f.type === 'checkbox') v = el.checked;
    else if (f.type === 'number') {
      if (el.value === '') continue;
      v = Number(el.value);
    } else {
      v = el.value.trim();
      if (v === '' && (!editing || f.ifGiven)) continue;
    }
    if (f.to) v = f.to(v);
    if (v === undefined || (f.omit && f.omit(v))) continue;
    body[f.name] = v;
  }
  return body;
}

// validate checks every control (HTML constraints, then the field's own rule) and shows each message beside
// its field; nothing is sent while one fails.
function validate(form, fields) {
  let first = null;
  for (const f of fields) {
    const el = form.elements[f.name];
    if (!el) continue;
    el.setCustomValidity('');
    if (el.checkValidity() && f.check) {
      const msg = f.check(el.value, form.elements);
      if (msg) el.setCustomValidity(msg);
    }
    if (!el.checkValidity()) {
      showFieldError(form, f.name, el.validationMessage + (el.validity.patternMismatch && f.title ? ` (${f.title})` : ''));
      first = first || el;
    }
  }
  if (first) first.focus();
  return !first;
}

// formEl is a form over fields that sends send(body) and shows the server's problem beside the field its
// `field` names, else at the top of the form.
export function formEl(id, title, fields, { values = {}, submit = 'Save', editing = false, confirm, send, done }) {
  fields = fields.filter(forRole);
  const form = h('form', { id, class: 'card', novalidate: true, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title),
    h('div', { class: 'form-error' }),
    fields.map(f => {
      const v = values[f.source || f.name];
      return fieldEl(id, f, f.from ? f.from(v) : v);
    }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: `${id}-submit` }, submit)));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    clearErrors(form);
    if (!validate(form, fields)) return;
    if (confirm && !(await confirmDialog(confirm()))) return;
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const r = await send(bodyOf(form, fields, editing));
      await done(r, form);
    } catch (p) {
      if (!(p instanceof Problem)) throw p;
      if (!(p.field && showFieldError(form, p.field, p.detail || p.title))) form.querySelector('.form-error').append(problemBox(p));
      const bad = p.field && form.elements[p.field];
      (bad || form.querySelector('.form-error')).focus?.();
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// secretBox shows a secret the server answers once.
function secretBox(label, value) {
  return h('div', { class: 'secret', role: 'status' }, h('strong', {}, `${label} (shown once; copy it now): `), h('code', { class: 'mono' }, value));
}

// secretsOf are the boxes of the secrets an answer carries: names is a member's name or a list of them.
function secretsOf(names, body) {
  if (!names || !body || typeof body !== 'object') return [];
  return [names].flat().filter(n => body[n]).map(n => secretBox(n, body[n]));
}

// ---- actions

function confirmDialog(text) {
  const dlg = document.getElementById('confirm');
  dlg.querySelector('#confirm-text').textContent = text;
  return new Promise(resolve => {
    const close = ok => { dlg.close(); resolve(ok); };
    dlg.querySelector('#confirm-yes').onclick = () => close(true);
    dlg.querySelector('#confirm-no').onclick = () => close(false);
    dlg.oncancel = () => resolve(false);
    dlg.showModal();
    dlg.querySelector('#confirm-no').focus();
  });
}

// runAction performs a row's or a page's action; it answers the response, or null when cancelled or refused
// (the problem is shown in where).
async function runAction(a, row, params, where, etag) {
  if (a.confirm && !(await confirmDialog(a.confirm(row, params)))) return null;
  where.replaceChildren();
  try {
    const path = a.path(row, params);
    let tag = etag;
    if (a.etag && !tag) tag = (await api('GET', path)).etag; // edit what was just read: If-Match
    const r = await api(a.method, path, { body: a.body ? a.body(row, params) : undefined, etag: a.etag ? tag : undefined });
    where.append(...secretsOf(a.secret, r.body));
    announce(`${a.label}: done.`);
    return r;
  } catch (p) {
    if (!(p instanceof Problem)) throw p;
    where.append(problemBox(p, `${a.label}: `));
    announce(`${a.label}: ${p.detail || p.title}`);
    return null;
  }
}

function actionButtons(list, row, params, where, after) {
  return (list || []).filter(a => !a.when || a.when(row, me)).map(a => {
    if (a.go) return h('a', { class: 'button-link', href: BASE + a.go(row, params) }, a.label);
    return h('button', { type: 'button', class: a.danger ? 'danger' : '', onclick: async () => {
      const r = await runAction(a, row, params, where);
      if (r) await after(a, r);
    } }, a.label);
  });
}

// ---- tables

function table(caption, columns, rows, params, rowActions, where, after) {
  const acts = (rowActions || []).length > 0;
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map(c => h('th', { scope: 'col' }, c.label)), acts ? h('th', { scope: 'col' }, 'Actions') : null)),
      h('tbody', {}, rows.map(r => h('tr', {},
        columns.map(c => {
          const v = fmt(r[c.key], c.format);
          const content = c.link ? h('a', { href: BASE + c.link(r, params) }, v) : v;
          return h('td', { 'data-label': c.label, class: c.mono ? 'mono' : '' }, content);
        }),
        acts ? h('td', { class: 'actions', 'data-label': 'Actions' }, actionButtons(rowActions, r, params, where, after)) : null)))));
}

// ---- a resource's list

async function listPage(m, d, params, query) {
  const title = d.heading ? d.heading(params) : d.title;
  document.title = `${title} — tokenmanager console`;
  m.append(h('h1', { tabindex: '-1' }, title));
  const results = h('section', { 'aria-label': 'Results', id: 'results' });
  const actionOut = h('div', { class: 'action-out' });
  const filters = (d.filters || []).filter(forRole);
  if (filters.length) {
    const fid = `filter-${d.id}`;
    const fform = h('form', { id: fid, class: 'filters', role: 'search', 'aria-label': `Filter ${d.title}` },
      filters.map(f => fieldEl(fid, f, query.get(f.name) ?? '')),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, 'Apply'), h('a', { class: 'button-link', href: BASE + routePath(d, params) }, 'Clear')));
    fform.addEventListener('submit', e => {
      e.preventDefault();
      const q = new URLSearchParams();
      for (const f of filters) {
        const v = fform.elements[f.name].value.trim();
        if (v !== '') q.set(f.name, v);
      }
      navigate(BASE + routePath(d, params) + (q.toString() ? '?' + q : ''));
    });
    m.append(fform);
  }
  if (d.create && forRole(d.create)) m.append(createSection(d, params, results));
  for (const [i, x] of (d.extraForms || []).entries()) m.append(extraForm(`${d.id}-form${i}`, x, params));
  m.append(actionOut, results);

  // The API's query: the filters, as the API names them (some turned into its format).
  const apiQuery = new URLSearchParams();
  for (const f of filters) {
    const v = query.get(f.name);
    if (v) apiQuery.set(f.name, f.to && f.type === 'datetime-local' ? f.to(v) : v);
  }
  const first = d.api(params) + (apiQuery.toString() ? '?' + apiQuery : '');
  const load = async (path, fromAPI) => {
    results.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
    try {
      const r = fromAPI ? await call('GET', path) : await api('GET', path);
      const rows = items(r.body);
      const reload = async () => load(path, fromAPI);
      const parts = [];
      if (!rows.length) parts.push(h('p', { class: 'empty' }, fromAPI ? 'No more entries.' : 'Nothing here yet.'));
      else parts.push(table(title, d.columns, rows, params, d.rowActions, actionOut, reload));
      const pager = h('div', { class: 'pager' });
      if (fromAPI) pager.append(h('button', { type: 'button', onclick: () => load(first, false) }, 'First page'));
      if (r.body && r.body.next) pager.append(h('button', { type: 'button', id: 'next-page', onclick: () => load(r.body.next, true) }, 'Next page'));
      parts.push(pager);
      results.replaceChildren(...parts);
    } catch (p) {
      if (!(p instanceof Problem)) throw p;
      results.replaceChildren(problemBox(p));
    }
  };
  results.reload = () => load(first, false);
  await load(first, false);
}

function routePath(d, params) {
  return d.route.split('/').map(p => (p.startsWith(':') ? encodeURIComponent(params[p.slice(1)]) : p)).join('/');
}

function createSection(d, params, results) {
  const c = d.create;
  const id = `create-${d.id}`;
  const out = h('div', { class: 'create-out' });
  const form = formEl(id, c.title, c.fields, {
    submit: 'Create',
    send: body => api('POST', (c.api || d.api)(params), { body }),
    done: async (r, f) => {
      f.reset();
      out.replaceChildren(h('p', { class: 'notice', role: 'status' }, `${c.title}: created.`));
      out.append(...secretsOf(c.secret, r.body));
      announce(`${c.title}: created.`);
      await results.reload();
    },
  });
  return h('details', { class: 'create', id: `${id}-details` }, h('summary', {}, c.title), form, out);
}

function extraForm(id, x, params) {
  const out = h('div', {});
  const form = formEl(id, x.title, x.fields, {
    submit: x.submit || 'Send',
    send: body => api(x.method, x.path(params), { body }),
    done: async r => {
      out.replaceChildren(h('p', { class: 'notice', role: 'status' }, `${x.title}: done.`));
      out.append(...secretsOf(x.secret, r.body));
      announce(`${x.title}: done.`);
    },
  });
  return h('details', { class: 'create' }, h('summary', {}, x.title), form, out);
}

// ---- a resource's own page

// keep are nodes shown in the page's action area once it is drawn (a secret answered once, which a redraw
// must not lose).
async function detailPage(m, d, params, keep = []) {
  const dd = d.detail;
  let r, extra = {};
  try {
    r = await api('GET', dd.api(params));
    if (dd.extra) extra = await dd.extra(params, api);
  } catch (p) {
    if (!(p instanceof Problem)) throw p;
    document.title = `${p.status === 404 ? 'Not found' : p.title} — tokenmanager console`;
    m.append(h('h1', { tabindex: '-1' }, p.status === 404 ? 'Not found' : p.title), problemBox(p), h('p', {}, h('a', { href: BASE + d.route.split('/:')[0] }, `Back to ${d.title}`)));
    return;
  }
  const item = r.body;
  const title = dd.title(item);
  document.title = `${title} — tokenmanager console`;
  const actionOut = h('div', { class: 'action-out' }, keep);
  const again = (kept = []) => { m.replaceChildren(); return detailPage(m, d, params, kept); };
  const facts = dd.fields.map(([k, label, f]) => [h('dt', {}, label), h('dd', { class: f === 'mono' ? 'mono' : '' }, fmt(item[k], f === 'mono' ? '' : f))]);
  if (dd.facts) for (const [label, v] of dd.facts(extra)) facts.push([h('dt', {}, label), h('dd', {}, v)]);
  m.append(h('h1', { tabindex: '-1', class: 'mono-title' }, title), h('dl', { class: 'facts' }, facts));
  if (dd.links) {
    m.append(h('ul', { class: 'links' }, dd.links.map(l => h('li', {}, l.to ? h('a', { href: BASE + l.to(params) }, l.label)
      : h('button', { type: 'button', onclick: async () => {
        try {
          const x = await api('GET', l.api(params));
          actionOut.replaceChildren(h('pre', { class: 'mono' }, typeof x.body === 'string' ? x.body : JSON.stringify(x.body, null, 2)));
        } catch (p) { actionOut.replaceChildren(problemBox(p)); }
      } }, l.label)))));
  }
  const acts = (dd.actions || []).filter(a => !a.when || a.when(item, extra));
  if (acts.length) {
    m.append(h('div', { class: 'page-actions' }, acts.map(a => (a.go ? h('a', { class: 'button-link', href: BASE + a.go(item, params) }, a.label)
      : h('button', { type: 'button', class: a.danger ? 'danger' : '', onclick: async () => {
        const x = await runAction(a, item, params, actionOut);
        if (!x) return;
        if (a.then) navigate(a.then(params));
        else await again([...actionOut.childNodes]);
      } }, a.label)))));
  }
  m.append(actionOut);
  for (const c of dd.children || []) {
    const sec = h('section', { class: 'child', 'aria-labelledby': `child-${c.title}` }, h('h2', { id: `child-${c.title}` }, c.title));
    const out = h('div', { class: 'action-out' });
    sec.append(out);
    m.append(sec);
    const load = async () => {
      sec.querySelector('.child-body')?.remove();
      const body = h('div', { class: 'child-body' });
      try {
        const x = await api('GET', c.api(params));
        const rows = items(x.body);
        body.append(rows.length ? table(c.title, c.columns, rows, params, c.rowActions, out, load) : h('p', { class: 'empty' }, c.empty));
      } catch (p) {
        if (!(p instanceof Problem)) throw p;
        body.append(problemBox(p));
      }
      sec.append(body);
    };
    await load();
  }
  if (dd.edit) {
    m.append(formEl(`edit-${d.id}`, dd.edit.title, dd.edit.fields, {
      values: item, editing: true,
      send: body => api('PATCH', dd.api(params), { body, etag: r.etag }),
      done: async () => { await again(); announce('Saved.'); },
    }));
  }
  for (const [i, x] of (dd.forms || []).entries()) {
    m.append(formEl(`${d.id}-form${i}`, x.title, x.fields, {
      submit: x.submit || x.title, confirm: x.confirm,
      send: body => api(x.method, x.path(params), { body }),
      done: async r => {
        await again([h('p', { class: 'notice', role: 'status' }, `${x.title}: done.`), ...secretsOf(x.secret, r.body)]);
        announce(`${x.title}: done.`);
      },
    }));
  }
}

// ---- start

async function start() {
  setupShell();
  try {
    me = await session();
    buildMenu();
  } catch (p) {
    me = null;
  }
  render(false);
}

start();
