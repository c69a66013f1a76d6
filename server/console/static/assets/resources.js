// The console's pages, as data: one definition per resource of the management API. A definition names the
// console route, the API path, the list's columns and filters, the actions on a row, the create form's fields
// (with the rules checked before anything is sent) and, for resources with a page of their own, that page's
// fields, edit form, actions and child lists. app.js renders every definition the same way.
//
// Field rules: type (text, password, number, checkbox, select, textarea, datetime-local), required, min, max,
// minlength, maxlength, pattern (HTML constraint validation), check(value, values) for what HTML cannot say,
// to(value) to turn the input into the JSON member, from(value) to show the member in an edit form. only:
// 'operator' or 'vendor' shows a field to that role. In an edit form, ifChanged sends the member only when it
// was changed (a time shown to the minute must not move by the seconds it hid), ifGiven only when not empty.
//
// A secret the server answers once (secret: a member's name, or several) is shown once beside the form or the
// action that got it. Every list filter, body member and answer member here is the management API's own
// (docs/management-api.md); operator: true marks the pages of routes that answer a vendor account 403.

const enc = encodeURIComponent;

// Rules shared by several forms.
const userName = { minlength: 1, maxlength: 64, pattern: '[^\\s\\/]+', title: 'no spaces or slashes' };
const featureList = {
  type: 'text', pattern: '\\s*([1-8](\\s*[, ]\\s*[1-8])*)?\\s*', title: 'numbers 1 to 8, separated by commas',
  to: v => v.split(/[\s,]+/).filter(Boolean).map(Number),
};
const words = v => v.split(/[\s,]+/).filter(Boolean);
const rfc3339 = v => (v ? new Date(v).toISOString() : undefined);
// local shows an RFC 3339 time in a datetime-local control (the browser's time zone, as rfc3339 reads it back).
const local = v => {
  if (!v) return '';
  const d = new Date(v);
  if (isNaN(d)) return '';
  const p = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};
const yesNo = [['', 'any'], ['true', 'yes'], ['false', 'no']];
const liveOnly = { name: 'live', label: 'Live only', type: 'select', options: [['', 'all'], ['true', 'live']] };
const keyPath = (p, k) => `/products/${enc(p)}/keys/${enc(k)}`;

export const groups = ['Accounts', 'Tokens', 'Licensing', 'Apps', 'Records'];

export const resources = [
  {
    id: 'users', title: 'Users', group: 'Accounts', operator: true, route: 'users',
    api: () => '/users',
    columns: [
      { key: 'name', label: 'Name', link: r => `users/${enc(r.name)}` },
      { key: 'admin', label: 'Operator', format: 'bool' },
      { key: 'disabled', label: 'Disabled', format: 'bool' },
      { key: 'created_at', label: 'Created', format: 'date' },
    ],
    filters: [
      { name: 'prefix', label: 'Name starts with' },
      { name: 'admin', label: 'Operator', type: 'select', options: yesNo },
      { name: 'disabled', label: 'Disabled', type: 'select', options: yesNo },
    ],
    rowActions: [
      { label: 'Disable', when: r => !r.disabled, method: 'PATCH', etag: true, path: r => `/users/${enc(r.name)}`, body: () => ({ disabled: true }) },
      { label: 'Enable', when: r => r.disabled, method: 'PATCH', etag: true, path: r => `/users/${enc(r.name)}`, body: () => ({ disabled: false }) },
      { label: 'Revoke tokens', method: 'POST', path: r => `/users/${enc(r.name)}/revoke-tokens`, confirm: r => `Revoke every token of ${r.name}?` },
      { label: 'Delete', method: 'DELETE', path: r => `/users/${enc(r.name)}`, confirm: r => `Delete the user ${r.name}?`, danger: true },
    ],
    create: {
      title: 'New user',
      fields: [
        { name: 'name', label: 'User name', required: true, ...userName },
        { name: 'password', label: 'Password', type: 'password', required: true, minlength: 8, maxlength: 1024, autocomplete: 'new-password' },
        { name: 'admin', label: 'Operator (administrator)', type: 'checkbox' },
      ],
    },
    detail: {
      route: 'users/:name', api: p => `/users/${enc(p.name)}`, title: u => `User ${u.name}`,
      fields: [['name', 'Name'], ['admin', 'Operator', 'bool'], ['disabled', 'Disabled', 'bool'], ['wsse_digest', 'WS-Security digest', 'bool'], ['created_at', 'Created', 'date'], ['updated_at', 'Updated', 'date']],
      // Whether the user is a vendor already: GET /vendors/{name} answers 404 for one who is not.
      extra: async (p, api) => ({ vendor: await api('GET', `/vendors/${enc(p.name)}`).then(() => true, e => (e.status === 404 ? false : Promise.reject(e))) }),
      facts: x => [['Vendor', x.vendor ? 'yes' : 'no']],
      actions: [
        // The server refuses a disabled user and one who is a vendor already: the action is not offered to them.
        { label: 'Make vendor', when: (u, x) => !u.disabled && !x.vendor, method: 'POST', path: () => '/vendors', body: u => ({ user: u.name }) },
        { label: 'Products', when: (u, x) => x.vendor, go: u => `products?vendor=${enc(u.name)}` },
      ],
      edit: { title: 'Edit', fields: [{ name: 'admin', label: 'Operator', type: 'checkbox' }, { name: 'disabled', label: 'Disabled', type: 'checkbox' }] },
      forms: [{
        title: 'Set the password', method: 'PUT', path: p => `/users/${enc(p.name)}/password`,
        fields: [{ name: 'password', label: 'New password', type: 'password', required: true, minlength: 8, maxlength: 1024, autocomplete: 'new-password' }],
      }],
    },
  },
  {
    id: 'vendors', title: 'Vendors', group: 'Accounts', route: 'vendors', api: () => '/vendors',
    columns: [{ key: 'name', label: 'Vendor (its account)' }, { key: 'created_at', label: 'Since', format: 'date' }],
    filters: [{ name: 'prefix', label: 'Name starts with' }],
    rowActions: [{ label: 'Products', go: r => `products?vendor=${enc(r.name)}` }],
    create: { title: 'Make a user a vendor', only: 'operator', fields: [{ name: 'user', label: 'User name', required: true, ...userName }] },
  },
  {
    id: 'admin-tokens', title: 'Admin API tokens', group: 'Accounts', route: 'admin-tokens', api: () => '/admin-tokens',
    columns: [{ key: 'id', label: 'Id' }, { key: 'user', label: 'User' }, { key: 'name', label: 'Name' }, { key: 'read_only', label: 'Read-only', format: 'bool' },
      { key: 'vendor', label: 'Vendor' }, { key: 'last_used_at', label: 'Last used', format: 'date' }, { key: 'expires_at', label: 'Expires', format: 'date' },
      { key: 'revoked_at', label: 'Revoked', format: 'date' }],
    filters: [{ name: 'user', label: 'User', only: 'operator' }, liveOnly],
    rowActions: [{ label: 'Revoke', when: r => !r.revoked_at, method: 'DELETE', path: r => `/admin-tokens/${enc(r.id)}`, confirm: r => `Revoke the token ${r.name || r.id}?`, danger: true }],
    create: {
      title: 'New admin API token', secret: 'token',
      fields: [
        { name: 'name', label: 'Name', maxlength: 100 },
        { name: 'read_only', label: 'Read-only', type: 'checkbox' },
        { name: 'vendor', label: 'Narrowed to vendor', only: 'operator', ...userName, minlength: 0 },
        { name: 'lifetime_days', label: 'Lifetime (days)', type: 'number', min: 1, max: 366, value: '90' },
      ],
    },
  },
  {
    id: 'tokens', title: 'Spectrum tokens', group: 'Tokens', operator: true, route: 'tokens', api: () => '/tokens',
    columns: [{ key: 'id', label: 'Id' }, { key: 'user', label: 'User' }, { key: 'kind', label: 'Kind' }, { key: 'client_host', label: 'Client' },
      { key: 'created_at', label: 'Created', format: 'date' }, { key: 'last_used_at', label: 'Last used', format: 'date' },
      { key: 'expires_at', label: 'Expires', format: 'date' }, { key: 'revoked_at', label: 'Revoked', format: 'date' }],
    filters: [{ name: 'user', label: 'User' }, { name: 'client', label: 'Issued to (address)' },
      { name: 'kind', label: 'Kind', type: 'select', options: [['', 'any'], ['open', 'open'], ['session', 'session'], ['expiring', 'expiring']] },
      { name: 'older_than', label: 'Older than (e.g. 24h)', pattern: '\\s*([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+\\s*', title: 'a duration such as 24h or 90m' },
      liveOnly],
    rowActions: [{ label: 'Revoke', when: r => !r.revoked_at, method: 'DELETE', path: r => `/tokens/${enc(r.id)}`, confirm: () => 'Revoke this token?', danger: true }],
  },
  {
    id: 'sessions', title: 'Sessions', group: 'Tokens', operator: true, route: 'sessions', api: () => '/sessions',
    columns: [{ key: 'id', label: 'Id' }, { key: 'user', label: 'User' }, { key: 'client_host', label: 'Client' },
      { key: 'created_at', label: 'Started', format: 'date' }, { key: 'last_seen_at', label: 'Last seen', format: 'date' }, { key: 'ended_at', label: 'Ended', format: 'date' }],
    filters: [{ name: 'user', label: 'User' }, { name: 'client', label: 'Client address' }, liveOnly],
    rowActions: [{ label: 'End', when: r => !r.ended_at, method: 'DELETE', path: r => `/sessions/${enc(r.id)}`, confirm: r => `End the session of ${r.user}?`, danger: true }],
  },
  {
    id: 'clients', title: 'API clients', group: 'Tokens', operator: true, route: 'clients', api: () => '/clients',
    columns: [{ key: 'id', label: 'Client id', link: r => `clients/${enc(r.id)}` }, { key: 'description', label: 'Description' }, { key: 'scopes', label: 'Scopes', format: 'list' },
      { key: 'token_lifetime_seconds', label: 'Token lifetime (s)' }, { key: 'token_format', label: 'Token format' }, { key: 'disabled', label: 'Disabled', format: 'bool' },
      { key: 'created_at', label: 'Created', format: 'date' }],
    filters: [{ name: 'prefix', label: 'Id starts with' }, { name: 'disabled', label: 'Disabled', type: 'select', options: yesNo }],
    rowActions: [
      { label: 'Disable', when: r => !r.disabled, method: 'POST', path: r => `/clients/${enc(r.id)}/disable` },
      { label: 'Enable', when: r => r.disabled, method: 'POST', path: r => `/clients/${enc(r.id)}/enable` },
      { label: 'OAuth tokens', go: r => `oauth-tokens?client_id=${enc(r.id)}` },
    ],
    create: {
      title: 'New API client', secret: ['primary_key', 'secondary_key'],
      fields: [
        { name: 'id', label: 'Client id (empty: one is made)', maxlength: 128, pattern: '[A-Za-z0-9._~][A-Za-z0-9._~\\-]*', title: 'letters, digits, . _ ~ - (not first)' },
        { name: 'description', label: 'Description', maxlength: 256 },
        { name: 'scopes', label: 'Scopes (separated by spaces)', to: words },
        { name: 'token_lifetime_seconds', label: 'Token lifetime (seconds; empty: 3600)', type: 'number', min: 60, max: 86400 },
        { name: 'token_format', label: 'Token format', type: 'select', options: [['', 'the server\'s default'], ['jwt', 'JWT'], ['opaque', 'opaque']], omit: v => v === '' },
        { name: 'require_subscription_key', label: 'Require a subscription key', type: 'checkbox' },
        { name: 'introspect', label: 'May introspect every token', type: 'checkbox' },
      ],
    },
    detail: {
      route: 'clients/:id', api: p => `/clients/${enc(p.id)}`, title: c => `API client ${c.id}`,
      fields: [['id', 'Client id', 'mono'], ['description', 'Description'], ['scopes', 'Scopes', 'list'], ['grant_types', 'Grant types', 'list'],
        ['token_lifetime_seconds', 'Token lifetime (s)'], ['token_format', 'Token format'], ['require_subscription_key', 'Requires a subscription key', 'bool'],
        ['introspect', 'May introspect every token', 'bool'], ['disabled', 'Disabled', 'bool'], ['primary_key_set_at', 'Primary key set', 'date'],
        ['secondary_key_set_at', 'Secondary key set', 'date'], ['created_at', 'Created', 'date'], ['updated_at', 'Updated', 'date']],
      links: [{ label: 'Its OAuth tokens', to: p => `oauth-tokens?client_id=${enc(p.id)}` }],
      actions: [
        { label: 'Disable', when: c => !c.disabled, method: 'POST', path: p => `/clients/${enc(p.id)}/disable` },
        { label: 'Enable', when: c => c.disabled, method: 'POST', path: p => `/clients/${enc(p.id)}/enable` },
        { label: 'Delete the client', method: 'DELETE', path: p => `/clients/${enc(p.id)}`, confirm: () => 'Delete this client and every token issued to it?', danger: true, then: () => 'clients' },
      ],
      edit: {
        title: 'Edit',
        fields: [
          { name: 'description', label: 'Description', maxlength: 256 },
          { name: 'scopes', label: 'Scopes (separated by spaces; the whole set)', to: words, from: v => (v || []).join(' ') },
          { name: 'token_lifetime_seconds', label: 'Token lifetime (seconds)', type: 'number', min: 60, max: 86400 },
          { name: 'token_format', label: 'Token format', type: 'select', options: [['', 'the server\'s default'], ['jwt', 'JWT'], ['opaque', 'opaque']] },
          { name: 'require_subscription_key', label: 'Require a subscription key', type: 'checkbox' },
          { name: 'introspect', label: 'May introspect every token', type: 'checkbox' },
        ],
      },
      forms: [{
        title: 'New secret', submit: 'Make a new key', method: 'POST', path: p => `/clients/${enc(p.id)}/secret`, secret: 'key',
        confirm: () => 'The key replaced stops working at once, with the tokens got with it. Make a new one?',
        fields: [{ name: 'slot', label: 'Which key', type: 'select', options: [['primary', 'primary (the client secret)'], ['secondary', 'secondary']] }],
      }],
    },
  },
  {
    id: 'oauth-tokens', title: 'OAuth tokens', group: 'Tokens', operator: true, route: 'oauth-tokens', api: () => '/oauth-tokens',
    columns: [{ key: 'id', label: 'Id' }, { key: 'client_id', label: 'Client' }, { key: 'scopes', label: 'Scopes', format: 'list' },
      { key: 'created_at', label: 'Issued', format: 'date' }, { key: 'expires_at', label: 'Expires', format: 'date' }, { key: 'revoked_at', label: 'Revoked', format: 'date' }],
    filters: [{ name: 'client_id', label: 'Client id' }, { name: 'live', label: 'Live only', type: 'select', options: [['', 'all'], ['true', 'live']] }],
    rowActions: [{ label: 'Revoke', when: r => !r.revoked_at, method: 'DELETE', path: r => `/oauth-tokens/${enc(r.id)}`, confirm: () => 'Revoke this token?', danger: true }],
  },
  {
    id: 'powerauth-apps', title: 'PowerAuth apps', group: 'Apps', operator: true, route: 'powerauth/apps', api: () => '/powerauth/apps',
    columns: [{ key: 'id', label: 'Application' }, { key: 'application_key', label: 'Application key' }, { key: 'created_at', label: 'Created', format: 'date' }],
    filters: [{ name: 'prefix', label: 'Id starts with' }],
    rowActions: [{ label: 'Activations', go: () => 'powerauth/activations' }],
    create: {
      title: 'New PowerAuth application', secret: 'application_secret',
      fields: [{ name: 'id', label: 'Application id', required: true, maxlength: 128, pattern: '[A-Za-z0-9._\\-]+', title: 'letters, digits, . _ -' }],
    },
    extraForms: [{
      title: 'Start an activation', method: 'POST', path: () => '/powerauth/activations/init', secret: 'activation_code',
      fields: [{ name: 'app', label: 'Application id', required: true }, { name: 'user', label: 'User', required: true, ...userName },
        { name: 'otp', label: 'One-time password (optional)', maxlength: 64 }],
    }],
  },
  {
    id: 'powerauth-activations', title: 'PowerAuth activations', group: 'Apps', operator: true, route: 'powerauth/activations', api: () => '/powerauth/activations',
    columns: [{ key: 'id', label: 'Activation' }, { key: 'user', label: 'User' }, { key: 'name', label: 'Device' }, { key: 'status', label: 'Status' }, { key: 'created_at', label: 'Created', format: 'date' }],
    filters: [{ name: 'user', label: 'User' }, { name: 'status', label: 'Status', type: 'select', options: [['', 'any'], ['active', 'active'], ['blocked', 'blocked'], ['removed', 'removed']] }],
    rowActions: [
      { label: 'Block', when: r => r.status === 'active', method: 'POST', path: r => `/powerauth/activations/${enc(r.id)}/block` },
      { label: 'Unblock', when: r => r.status === 'blocked', method: 'POST', path: r => `/powerauth/activations/${enc(r.id)}/unblock` },
      { label: 'Tokens', go: r => `powerauth/tokens?activation=${enc(r.id)}` },
      { label: 'Remove', when: r => r.status !== 'removed', method: 'DELETE', path: r => `/powerauth/activations/${enc(r.id)}`, confirm: () => 'Remove this activation and its tokens?', danger: true },
    ],
  },
  {
    id: 'powerauth-tokens', title: 'PowerAuth tokens', group: 'Apps', operator: true, route: 'powerauth/tokens', api: () => '/powerauth/tokens',
    columns: [{ key: 'id', label: 'Token' }, { key: 'activation_id', label: 'Activation' }, { key: 'created_at', label: 'Created', format: 'date' }],
    filters: [{ name: 'activation', label: 'Activation id' }, { name: 'user', label: 'User' }],
    rowActions: [{ label: 'Remove', method: 'DELETE', path: r => `/powerauth/tokens/${enc(r.id)}`, confirm: () => 'Remove this token?', danger: true }],
  },
  {
    id: 'products', title: 'Products', group: 'Licensing', route: 'products', api: () => '/products',
    columns: [{ key: 'id', label: 'Id', link: r => `products/${r.id}` }, { key: 'name', label: 'Name', link: r => `products/${r.id}` }, { key: 'vendor', label: 'Vendor' },
      { key: 'block_expired', label: 'Blocks expired keys', format: 'bool' }, { key: 'created_at', label: 'Created', format: 'date' }],
    filters: [{ name: 'vendor', label: 'Vendor', only: 'operator' }, { name: 'name', label: 'Name' }],
    rowActions: [{ label: 'Keys', go: r => `products/${r.id}/keys` }],
    create: {
      title: 'New product',
      fields: [
        { name: 'vendor', label: 'Vendor', only: 'operator', required: true, ...userName },
        { name: 'name', label: 'Product name', required: true, maxlength: 256 },
        { name: 'block_expired', label: 'Block keys once they expire', type: 'checkbox' },
      ],
    },
    detail: {
      route: 'products/:id', api: p => `/products/${enc(p.id)}`, title: x => `Product ${x.name}`,
      fields: [['id', 'Id'], ['name', 'Name'], ['vendor', 'Vendor'], ['block_expired', 'Blocks expired keys', 'bool'], ['created_at', 'Created', 'date']],
      links: [{ label: 'License keys', to: p => `products/${p.id}/keys` }, { label: 'Public key (PEM)', api: p => `/products/${enc(p.id)}/public-key?format=pem` }],
      edit: { title: 'Edit', fields: [{ name: 'name', label: 'Name', required: true, maxlength: 256 }, { name: 'block_expired', label: 'Block keys once they expire', type: 'checkbox' }] },
      actions: [
        { label: 'Rotate the signing key', method: 'POST', path: p => `/products/${enc(p.id)}/rotate-key`, confirm: () => 'Apps that pin the current public key reject new licenses until they ship the new one. Rotate?' },
        { label: 'Delete the product', method: 'DELETE', path: p => `/products/${enc(p.id)}`, confirm: () => 'Delete this product? Refused while it has keys.', danger: true, then: () => 'products' },
      ],
    },
  },
  {
    id: 'keys', title: 'License keys', group: 'Licensing', menu: false, route: 'products/:product/keys', api: p => `/products/${enc(p.product)}/keys`,
    heading: p => `License keys of product ${p.product}`,
    columns: [{ key: 'key', label: 'Key', link: (r, p) => `products/${p.product}/keys/${enc(r.key)}`, mono: true }, { key: 'expires_at', label: 'Expires', format: 'date' },
      { key: 'features', label: 'Features', format: 'list' }, { key: 'max_machines', label: 'Machines' }, { key: 'customer_id', label: 'Customer' },
      { key: 'blocked', label: 'Blocked', format: 'bool' }],
    filters: [{ name: 'key-prefix', label: 'Key starts with' }, { name: 'customer', label: 'Customer id', type: 'number', min: 1 }],
    rowActions: [
      { label: 'Block', when: r => !r.blocked, method: 'PATCH', etag: true, path: (r, p) => keyPath(p.product, r.key), body: () => ({ blocked: true }) },
      { label: 'Unblock', when: r => r.blocked, method: 'PATCH', etag: true, path: (r, p) => keyPath(p.product, r.key), body: () => ({ blocked: false }) },
      { label: 'Delete', method: 'DELETE', path: (r, p) => keyPath(p.product, r.key), confirm: r => `Delete the key ${r.key}?`, danger: true },
    ],
    create: {
      title: 'New license keys',
      fields: [
        { name: 'count', label: 'How many', type: 'number', min: 1, max: 1000, value: '1', required: true, to: Number, omit: v => v === 1 },
        { name: 'period', label: 'Period (days)', type: 'number', min: 1, max: 36600, value: '365', required: true },
        { name: 'features', label: 'Features (1 to 8)', ...featureList },
        { name: 'max_machines', label: 'Machines at most (0: any)', type: 'number', min: 0, max: 1000000, value: '1' },
        { name: 'customer_id', label: 'Customer id (optional)', type: 'number', min: 1 },
        { name: 'notes', label: 'Notes', type: 'textarea', maxlength: 1000 },
        { name: 'blocked', label: 'Blocked', type: 'checkbox' },
        { name: 'trial_activation', label: 'Trial activation', type: 'checkbox' },
      ],
    },
    detail: {
      route: 'products/:product/keys/:key', api: p => keyPath(p.product, p.key), title: k => `Key ${k.key}`,
      fields: [['key', 'Key', 'mono'], ['product_id', 'Product'], ['created_at', 'Created', 'date'], ['period', 'Period (days)'], ['expires_at', 'Expires', 'date'],
        ['features', 'Features', 'list'], ['max_machines', 'Machines at most'], ['customer_id', 'Customer'], ['blocked', 'Blocked', 'bool'], ['trial_activation', 'Trial activation', 'bool'], ['notes', 'Notes']],
      links: [{ label: 'All keys of the product', to: p => `products/${p.product}/keys` }],
      edit: {
        title: 'Edit',
        fields: [
          { name: 'features', label: 'Features (1 to 8)', ...featureList, from: v => (v || []).join(', ') },
          { name: 'max_machines', label: 'Machines at most (0: any)', type: 'number', min: 0, max: 1000000 },
          { name: 'customer_id', label: 'Customer id (0: none)', type: 'number', min: 0 },
          { name: 'expires', label: 'Expires', type: 'datetime-local', required: true, from: local, to: rfc3339, ifChanged: true, source: 'expires_at' },
          { name: 'notes', label: 'Notes', type: 'textarea', maxlength: 1000 },
          { name: 'blocked', label: 'Blocked', type: 'checkbox' },
        ],
      },
      forms: [{ title: 'Extend', method: 'POST', path: p => `${keyPath(p.product, p.key)}/extend`, fields: [{ name: 'days', label: 'Days to add', type: 'number', min: 1, max: 36600, required: true, value: '30' }] }],
      actions: [{ label: 'Delete the key', method: 'DELETE', path: p => keyPath(p.product, p.key), confirm: () => 'Delete this key? Refused while machines are activated.', danger: true, then: p => `products/${p.product}/keys` }],
      children: [{
        title: 'Activations', api: p => `${keyPath(p.product, p.key)}/activations`, empty: 'No machine has activated this key.',
        columns: [{ key: 'machine_code', label: 'Machine', mono: true }, { key: 'friendly_name', label: 'Name' }, { key: 'ip', label: 'Address' },
          { key: 'floating', label: 'Floating', format: 'bool' }, { key: 'activated_at', label: 'Activated', format: 'date' }],
        rowActions: [{ label: 'Free the seat', method: 'DELETE', path: (r, p) => `${keyPath(p.product, p.key)}/activations/${enc(r.machine_code)}${r.floating ? '?floating=true' : ''}`,
          confirm: r => `Free the seat of machine ${r.machine_code}?` }],
      }],
    },
  },
  {
    id: 'customers', title: 'Customers', group: 'Licensing', route: 'customers', api: () => '/customers',
    columns: [{ key: 'id', label: 'Id', link: r => `customers/${r.id}` }, { key: 'name', label: 'Name', link: r => `customers/${r.id}` }, { key: 'email', label: 'E-mail' },
      { key: 'company', label: 'Company' }, { key: 'vendor', label: 'Vendor' }, { key: 'max_devices', label: 'Devices at most' }, { key: 'created_at', label: 'Created', format: 'date' }],
    filters: [{ name: 'vendor', label: 'Vendor', only: 'operator' }, { name: 'search', label: 'Name, e-mail or company contains', maxlength: 256 }],
    create: {
      title: 'New customer',
      fields: [
        { name: 'vendor', label: 'Vendor', only: 'operator', required: true, ...userName },
        { name: 'name', label: 'Name', required: true, maxlength: 256 },
        { name: 'email', label: 'E-mail', type: 'email', maxlength: 256 },
        { name: 'company', label: 'Company', maxlength: 256 },
        { name: 'notes', label: 'Notes', type: 'textarea', maxlength: 1000 },
        { name: 'max_devices', label: 'Devices at most (0: any)', type: 'number', min: 0, max: 1000000 },
        { name: 'enable_association', label: 'End users may associate their accounts', type: 'checkbox' },
        { name: 'allow_activation_management', label: 'End users may manage activations', type: 'checkbox' },
        { name: 'allow_multiple_users', label: 'Several end-user accounts', type: 'checkbox' },
      ],
    },
    detail: {
      route: 'customers/:id', api: p => `/customers/${enc(p.id)}`, title: c => `Customer ${c.name}`,
      fields: [['id', 'Id'], ['name', 'Name'], ['email', 'E-mail'], ['company', 'Company'], ['vendor', 'Vendor'], ['user', 'Account'], ['notes', 'Notes'],
        ['max_devices', 'Devices at most'], ['enable_association', 'End users may associate', 'bool'], ['allow_activation_management', 'End users manage activations', 'bool'],
        ['allow_multiple_users', 'Several end-user accounts', 'bool'], ['has_secret', 'Has a secret', 'bool'], ['created_at', 'Created', 'date']],
      edit: {
        title: 'Edit',
        fields: [{ name: 'name', label: 'Name', required: true, maxlength: 256 }, { name: 'email', label: 'E-mail', type: 'email', maxlength: 256 },
          { name: 'company', label: 'Company', maxlength: 256 }, { name: 'notes', label: 'Notes', type: 'textarea', maxlength: 1000 },
          { name: 'max_devices', label: 'Devices at most (0: any)', type: 'number', min: 0, max: 1000000 },
          { name: 'enable_association', label: 'End users may associate their accounts', type: 'checkbox' },
          { name: 'allow_activation_management', label: 'End users may manage activations', type: 'checkbox' },
          { name: 'allow_multiple_users', label: 'Several end-user accounts', type: 'checkbox' }],
      },
      actions: [
        { label: 'New secret', method: 'POST', path: p => `/customers/${enc(p.id)}/secret`, secret: 'secret',
          confirm: () => 'The secret before stops working at once (GetCustomerLicensesBySecret). Make a new one?' },
        { label: 'Delete the customer', method: 'DELETE', path: p => `/customers/${enc(p.id)}`, confirm: () => 'Delete this customer? Refused while it has license keys.', danger: true, then: () => 'customers' },
      ],
      children: [{
        title: 'Licenses', api: p => `/customers/${enc(p.id)}/licenses`, empty: 'No license key is linked to this customer.',
        columns: [{ key: 'key', label: 'Key', mono: true, link: r => `products/${r.product_id}/keys/${enc(r.key)}` }, { key: 'product_id', label: 'Product' },
          { key: 'expires_at', label: 'Expires', format: 'date' }, { key: 'blocked', label: 'Blocked', format: 'bool' }],
      }],
    },
  },
  {
    id: 'api-tokens', title: 'Licensing API tokens', group: 'Licensing', route: 'api-tokens', api: () => '/api-tokens',
    columns: [{ key: 'id', label: 'Id' }, { key: 'name', label: 'Name' }, { key: 'vendor', label: 'Vendor' }, { key: 'methods', label: 'Methods', format: 'list' },
      { key: 'product_lock', label: 'Product (0: any)' }, { key: 'key_lock', label: 'Key lock' }, { key: 'feature_lock', label: 'Feature lock' },
      { key: 'created_at', label: 'Created', format: 'date' }, { key: 'expires_at', label: 'Expires', format: 'date' }, { key: 'revoked_at', label: 'Revoked', format: 'date' }],
    filters: [{ name: 'vendor', label: 'Vendor', only: 'operator' }, { name: 'name', label: 'Name', maxlength: 256 }],
    rowActions: [{ label: 'Revoke', when: r => !r.revoked_at, method: 'DELETE', path: r => `/api-tokens/${enc(r.id)}`, confirm: r => `Revoke the token ${r.name || r.id}? Apps using it stop working.`, danger: true }],
    create: {
      title: 'New licensing API token', secret: 'token',
      fields: [
        { name: 'vendor', label: 'Vendor', only: 'operator', required: true, ...userName },
        { name: 'name', label: 'Name', maxlength: 256 },
        { name: 'methods', label: 'Methods, separated by spaces (e.g. Activate Deactivate GetKey)', required: true, to: words },
        { name: 'product_lock', label: 'Only product id (empty: every product)', type: 'number', min: 0 },
        { name: 'key_lock', label: 'Key lock (a key id; -1 allows auth/KeyLock)', type: 'number', min: -1 },
        { name: 'feature_lock', label: 'Feature lock', type: 'number', min: 0 },
        { name: 'lifetime_days', label: 'Lifetime in days (empty: never expires)', type: 'number', min: 1, max: 36600 },
      ],
    },
  },
  {
    id: 'woocommerce', title: 'WooCommerce stores', group: 'Licensing', route: 'woocommerce/stores', api: () => '/woocommerce/stores',
    columns: [{ key: 'id', label: 'Id', link: r => `woocommerce/stores/${r.id}` }, { key: 'name', label: 'Name', link: r => `woocommerce/stores/${r.id}` }, { key: 'vendor', label: 'Vendor' },
      { key: 'require_token', label: 'Requires a token', format: 'bool' }, { key: 'errors_by_code', label: 'Errors by code', format: 'bool' }, { key: 'created_at', label: 'Created', format: 'date' }],
    filters: [{ name: 'vendor', label: 'Vendor', only: 'operator' }],
    create: {
      title: 'New store', secret: 'code',
      fields: [
        { name: 'vendor', label: 'Vendor', only: 'operator', required: true, ...userName },
        { name: 'name', label: 'Name', maxlength: 256 },
        { name: 'code', label: 'Store code (empty: one is made and shown once)', type: 'password', autocomplete: 'off', maxlength: 256, only: 'operator' },
        { name: 'require_token', label: 'Require a token', type: 'checkbox' },
        { name: 'errors_by_code', label: 'Errors by code', type: 'checkbox' },
      ],
    },
    detail: {
      route: 'woocommerce/stores/:id', api: p => `/woocommerce/stores/${enc(p.id)}`, title: s => `Store ${s.name || s.id}`,
      fields: [['id', 'Id'], ['name', 'Name'], ['vendor', 'Vendor'], ['require_token', 'Requires a token', 'bool'], ['errors_by_code', 'Errors by code', 'bool'], ['created_at', 'Created', 'date']],
      edit: {
        title: 'Edit',
        fields: [{ name: 'name', label: 'Name', maxlength: 256 },
          { name: 'code', label: 'New store code (empty: keep the current one)', type: 'password', autocomplete: 'off', maxlength: 256, ifGiven: true, only: 'operator' },
          { name: 'require_token', label: 'Require a token', type: 'checkbox' }, { name: 'errors_by_code', label: 'Errors by code', type: 'checkbox' }],
      },
      actions: [{ label: 'New store code', method: 'POST', path: p => `/woocommerce/stores/${enc(p.id)}/code`, secret: 'code',
        confirm: () => 'Make a new store code? The current one stops working at once.' },
        { label: 'Delete the store', method: 'DELETE', path: p => `/woocommerce/stores/${enc(p.id)}`, confirm: () => 'Delete this store? Refused while it sells SKUs.', danger: true, then: () => 'woocommerce/stores' }],
      children: [{
        title: 'SKUs', api: p => `/woocommerce/stores/${enc(p.id)}/skus`, empty: 'The store sells no product yet.',
        columns: [{ key: 'sku', label: 'SKU', mono: true }, { key: 'product', label: 'Product', link: r => `products/${r.product}` }, { key: 'desktop', label: 'Desktop product', format: 'bool' }],
        rowActions: [{ label: 'Stop selling', method: 'DELETE', path: (r, p) => `/woocommerce/stores/${enc(p.id)}/skus/${enc(r.sku)}`, confirm: r => `Stop selling the SKU ${r.sku}?`, danger: true }],
      }],
      forms: [{
        title: 'Sell a product under a SKU', submit: 'Add the SKU', method: 'POST', path: p => `/woocommerce/stores/${enc(p.id)}/skus`,
        fields: [{ name: 'sku', label: 'SKU', required: true, maxlength: 256 }, { name: 'product', label: 'Product id', type: 'number', required: true, min: 1 },
          { name: 'desktop', label: 'Desktop product (no domain; each activation takes a seat)', type: 'checkbox' }],
      }],
    },
  },
  {
    id: 'app-authorizations', title: 'App authorizations', group: 'Apps', operator: true, route: 'app-authorizations', api: () => '/app-authorizations',
    columns: [{ key: 'id', label: 'Id' }, { key: 'user', label: 'User' }, { key: 'vendor', label: 'Vendor' }, { key: 'app_name', label: 'App' }, { key: 'device_name', label: 'Device' },
      { key: 'state', label: 'State' }, { key: 'expires_at', label: 'Expires', format: 'date' }, { key: 'revoked_at', label: 'Revoked', format: 'date' }],
    filters: [{ name: 'user', label: 'User' }, { name: 'vendor', label: 'Vendor' }, { name: 'app', label: 'App name' }],
    rowActions: [{ label: 'Revoke', when: r => !r.revoked_at, method: 'DELETE', path: r => `/app-authorizations/${enc(r.id)}`, confirm: r => `Revoke ${r.app_name} for ${r.user}?`, danger: true }],
  },
  {
    id: 'app-devices', title: 'App devices', group: 'Apps', operator: true, route: 'app-devices', api: () => '/app-devices',
    columns: [{ key: 'customer_id', label: 'Customer' }, { key: 'vendor', label: 'Vendor' }, { key: 'user', label: 'User' }, { key: 'machine_code', label: 'Machine', mono: true },
      { key: 'device_name', label: 'Device' }, { key: 'registered_at', label: 'Registered', format: 'date' }],
    filters: [{ name: 'user', label: 'User' }, { name: 'vendor', label: 'Vendor' }],
    rowActions: [{ label: 'Remove', method: 'DELETE', path: r => `/app-devices?customer=${enc(r.customer_id)}&machine=${enc(r.machine_code)}`, confirm: r => `Remove the device ${r.device_name || r.machine_code}?`, danger: true }],
  },
  {
    id: 'audit', title: 'Audit log', group: 'Records', route: 'audit', api: () => '/audit',
    columns: [{ key: 'at', label: 'When', format: 'date' }, { key: 'action', label: 'Action' }, { key: 'outcome', label: 'Outcome' }, { key: 'actor', label: 'Actor' },
      { key: 'subject', label: 'Subject' }, { key: 'client_host', label: 'Client' }, { key: 'detail', label: 'Detail' }],
    filters: [{ name: 'action', label: 'Action (or prefix ending in .)' }, { name: 'subject', label: 'Subject' },
      { name: 'since', label: 'Since', type: 'datetime-local', to: rfc3339 }, { name: 'until', label: 'Until', type: 'datetime-local', to: rfc3339 }],
  },
];
