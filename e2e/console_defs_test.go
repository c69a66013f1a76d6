package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// checkDefinitions runs in the console's page: it imports the console's own definitions (resources.js) and
// checks each against the OpenAPI document the server answers: every path a list, an action, a form or a
// child list calls is a route with that method; every list filter is a query parameter of the list; every
// column is a member of the list's items; every field of a create, edit or other form, and every body an action
// sends, is a member of the request body the route takes. It answers the problems found, one a line.
const checkDefinitions = `(async () => {
  const { resources } = await import('/console/assets/resources.js');
  const doc = await (await fetch('/admin/v1/openapi.json')).json();
  const problems = [];
  const deref = s => { while (s && s.$ref) s = s.$ref.split('/').slice(1).reduce((o, k) => o[k], doc); return s || {}; };
  const props = s => {
    s = deref(s);
    let out = Object.assign({}, s.properties || {});
    for (const sub of [...(s.allOf || []), ...(s.oneOf || []), ...(s.anyOf || [])]) out = Object.assign(out, props(sub));
    return out;
  };
  const ops = [];
  for (const [tpl, item] of Object.entries(doc.paths)) {
    const re = new RegExp('^' + tpl.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+') + '$');
    for (const [method, op] of Object.entries(item)) if (op && typeof op === 'object' && op.responses) ops.push({ re, tpl, method: method.toUpperCase(), op, shared: item.parameters || [] });
  }
  // op finds the route of a path the console calls (with its query, if any).
  const find = (method, path, where) => {
    const [p, q] = path.split('?');
    const o = ops.find(o => o.method === method && o.re.test('/admin/v1' + p));
    if (!o) { problems.push(where + ': no route ' + method + ' /admin/v1' + p); return null; }
    for (const name of new URLSearchParams(q || '').keys()) if (!params(o).includes(name)) problems.push(where + ': ' + method + ' ' + o.tpl + ' has no query parameter ' + name);
    return o;
  };
  const params = o => [...o.shared, ...(o.op.parameters || [])].map(p => deref(p)).filter(p => p.in === 'query').map(p => p.name);
  const bodyProps = o => props(((o.op.requestBody || {}).content || {})['application/json']?.schema);
  const listItemProps = o => {
    const s = deref(o.op.responses['200']?.content?.['application/json']?.schema);
    const items = props(s).items;
    return items ? props(deref(items).items) : props(s);
  };
  const anything = new Proxy({}, { get: (_, k) => (k === 'then' || typeof k === 'symbol' ? undefined : (k === 'floating' ? false : '7')) });
  const checkFields = (o, fields, where) => {
    if (!o) return;
    const b = bodyProps(o);
    for (const f of fields || []) if (!(f.name in b)) problems.push(where + ': ' + o.method + ' ' + o.tpl + ' takes no member ' + f.name);
  };
  const checkColumns = (o, columns, where) => {
    if (!o) return;
    const m = listItemProps(o);
    for (const c of columns || []) if (!(c.key in m)) problems.push(where + ': the items of GET ' + o.tpl + ' have no member ' + c.key);
  };
  const checkActions = (acts, where, row) => {
    for (const a of acts || []) {
      if (a.go) continue;
      const o = find(a.method, a.path(row, anything), where + ' action ' + a.label);
      if (o && a.body) for (const k of Object.keys(a.body(row, anything))) if (!(k in bodyProps(o))) problems.push(where + ' action ' + a.label + ': ' + o.tpl + ' takes no member ' + k);
    }
  };
  for (const d of resources) {
    const where = d.id;
    const list = find('GET', d.api(anything), where + ' list');
    if (list) for (const f of d.filters || []) if (!params(list).includes(f.name)) problems.push(where + ': GET ' + list.tpl + ' has no filter ' + f.name);
    checkColumns(list, d.columns, where);
    checkActions(d.rowActions, where, anything);
    if (d.create) checkFields(find('POST', (d.create.api || d.api)(anything), where + ' create'), d.create.fields, where + ' create');
    for (const x of d.extraForms || []) checkFields(find(x.method, x.path(anything), where + ' ' + x.title), x.fields, where + ' ' + x.title);
    const dd = d.detail;
    if (!dd) continue;
    const get = find('GET', dd.api(anything), where + ' page');
    if (get) {
      const m = props(get.op.responses['200']?.content?.['application/json']?.schema);
      for (const [k] of dd.fields) if (!(k in m)) problems.push(where + ' page: GET ' + get.tpl + ' answers no member ' + k);
    }
    checkActions(dd.actions, where + ' page', anything);
    if (dd.edit) checkFields(find('PATCH', dd.api(anything), where + ' edit'), dd.edit.fields, where + ' edit');
    for (const x of dd.forms || []) checkFields(find(x.method, x.path(anything), where + ' ' + x.title), x.fields, where + ' ' + x.title);
    for (const c of dd.children || []) {
      const o = find('GET', c.api(anything), where + ' ' + c.title);
      checkColumns(o, c.columns, where + ' ' + c.title);
      checkActions(c.rowActions, where + ' ' + c.title, anything);
    }
  }
  return problems.join('\n');
})()`

// TestConsoleDefinitionsMatchTheAPI: the console's page definitions call only routes, filters and members the
// management API has (its OpenAPI document, itself checked against the server's routes), and the pages marked
// for operators are exactly those whose list answers a vendor account 403.
func TestConsoleDefinitionsMatchTheAPI(t *testing.T) {
	srv := startServer(t)
	ctx := browser(t, nil)
	c := &consolePage{t: t, ctx: ctx, base: srv.URL}
	srv.mustCLI(t, "vendor-password-1\n", "user", "add", "defsvendor", "--password-stdin")
	srv.mustCLI(t, "", "vendor", "add", "defsvendor")

	c.signIn(adminUser, srv.AdminPassword)
	if problems := c.evalAsync(checkDefinitions); problems != "" {
		t.Fatalf("the console's definitions and the management API differ:\n%s", problems)
	}
	// Which pages a vendor may open: each list, asked with the vendor's session.
	roles := `(async () => {
	  const { resources } = await import('/console/assets/resources.js');
	  const out = [];
	  const p = { product: '1' };
	  for (const d of resources) out.push(d.id + ' ' + (d.operator ? 'operator' : 'both') + ' ' + (await fetch('/admin/v1' + d.api(p), { cache: 'no-store' })).status);
	  return out.join('\n');
	})()`
	c.signOut()
	c.signIn("defsvendor", "vendor-password-1")
	ectx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := chromedp.Run(ectx, chromedp.Evaluate[string](roles, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) != 3:
			t.Fatalf("roles: %q", out)
		case f[1] == "operator" && f[2] != "403", f[1] == "both" && f[2] != "200" && !(f[0] == "keys" && f[2] == "404"):
			// A vendor's list answers 200; the keys of a product it does not own 404. An operator's page 403.
			t.Errorf("%s is marked %s, and its list answers a vendor account %s", f[0], f[1], f[2])
		}
	}
}
