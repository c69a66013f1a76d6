// The console's pages, as data: one definition per resource of the management API. A definition names the
// console route, the API path, the list's columns and filters, the actions on a row, the create form's fields
// (with the rules checked before anything is sent) and, for resources with a page of their own, that page's
// fields, edit form, actions and child lists. app.js renders every definition the same way.
//
// Field rules: type (text, password, number, checkbox, select, textarea, datetime-local), required, min, max,
// minlength, maxlength, pattern (HTML constraint validation), check(value, values) for what HTML cannot say,
// to(value) to turn the input into the JSON member. only: 'operator' or 'vendor' shows a field to that role.

const enc = encodeURIComponent;

// Rules shared by several forms.
const userName = { minlength: 1, maxlength: 64, pattern: '[^\\s\\/]+', title: 'no spaces or slashes' };
const featureList = {
  type: 'text', pattern: '\\s*([1-8](\\s*[, ]\\s*[1-8])*)?\\s*', title: 'numbers 1 to 8, separated by commas',
  to: v => v.split(/[\s,]+/).filter(Boolean).map(Number),
};
const words = v => v.split(/[\s,]+/).filter(Boolean);
const rfc3339 = v => (v ? new Date(v).toISOString() : undefined);
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
      { name: 'admin', label: 'Operator', type: 'select', options: [['', 'any'], ['true', 'yes'], ['false', 'no']] },
      { name: 'disabled', label: 'Disabled', type: 'select', options: [['', 'any'], ['true', 'yes'], ['false', 'no']] },
    ],
    rowActions: [
      { label: 'Make vendor', method: 'POST', path: () => '/vendors', body: r => ({ user: r.name }) },
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
      edit: { title: 'Edit', fields: [{ name: 'admin', label: 'Operator', type: 'checkbox' }, { name: 'disabled', label: 'Disabled', type: 'checkbox' }] },
      forms: [{
        title: 'Set the password', method: 'PUT', path: p => `/users/${enc(p.name)}/password`,
        fields: [{ name: 'password', label: 'New password', type: 'password', required: true, minlength: 8, maxlength: 1024, autocomplete: 'new-password' }],
      }],
    },
  },
  {
    id: 'vendors', title: 'Vendors', group: 'Accounts', route: 'vendors', api: () => '/vendors',
    columns: [{ key: 'name', label: 'Vendor' }, { key: 'user', label: 'Account' }, { key: 'created_at', label: 'Since', format: 'date' }],
    filters: [{ name: 'prefix', label: 'Name starts with' }],
    rowActions: [{ label: 'Products', go: r => `products?vendor=${enc(r.name)}` }],
    create: { title: 'Make a user a vendor', only: 'operator', fields: [{ name: 'user', label: 'User name', required: true, ...userName }] },
  },
  {
    id: 'admin-tokens', title: 'Admin API tokens', group: 'Accounts', route: 'admin-tokens', api: () => '/admin-tokens',
    columns: [{ key: 'id', label: 'Id' }, { key: 'user', label: 'User' }, { key: 'name', label: 'Name' }, { key: 'read_only', label: 'Read-only', format: 'bool' },
      { key: 'vendor', label: 'Vendor' }, { key: 'expires_at', label: 'Expires', format: 'date' }, { key: 'revoked_at', label: 'Revoked', format: 'date' }],
    filters: [{ name: 'user', label: 'User', only: 'operator' }, { name: 'live', label: 'Live only', type: 'select', options: [['', 'all'], ['true', 'live']] }],
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
      { key: 'created_at', label: 'Created', format: 'date' }, { key: 'expires_at', label: 'Expires', format: 'date' }, { key: 'revoked_at', label: 'Revoked', format: 'date' }],
    filters: [{ name: 'user', label: 'User' }, { name: 'client', label: 'Client host' },
      { name: 'kind', label: 'Kind', type: 'select', options: [['', 'any'], ['session', 'session'], ['jwt', 'jwt'], ['opaque', 'opaque']] },
      { name: 'live', label: 'Live only', type: 'select', options: [['', 'all'], ['true', 'live']] }],
    rowActions: [{ label: 'Revoke', when: r => !r.revoked_at, method: 'DELETE', path: r => `/tokens/${enc(r.id)}`, confirm: () => 'Revoke this token?', danger: true }],
  },
  {
    id: 'sessions', title: 'Sessions', group: 'Tokens', operator: true, route: 'sessions', api: () => '/sessions',
    columns: [{ key: 'id', label: 'Id' }, { key: 'user', label: 'User' }, { key: 'client_host', label: 'Client' },
      { key: 'created_at', label: 'Started', format: 'date' }, { key: 'last_seen_at', label: 'Last seen', format: 'date' }, { key: 'ended_at', label: 'Ended', format: 'date' }],
    filters: [{ name: 'user', label: 'User' }, { name: 'client', label: 'Client host' }, { name: 'live', label: 'Live only', type: 'select', options: [['', 'all'], ['true', 'live']] }],
    rowActions: [{ label: 'End', when: r => !r.ended_at, method: 'DELETE', path: r => `/sessions/${enc(r.id)}`, confirm: r => `End the session of ${r.user}?`, danger: true }],
  },
  {
    id: 'clients', title: 'API clients', group: 'Tokens', operator: true, route: 'clients', api: () => '/clients',
    columns: [{ key: 'id', label: 'Client id' }, { key: 'description', label: 'Description' }, { key: 'scopes', label: 'Scopes', format: 'list' },
      { key: 'token_lifetime_seconds', label: 'Token lifetime (s)' }, { key: 'disabled', label: 'Disabled', format: 'bool' }, { key: 'created_at', label: 'Created', format: 'date' }],
    rowActions: [
      { label: 'Disable', when: r => !r.disabled, method: 'POST', path: r => `/clients/${enc(r.id)}/disable` },
      { label: 'Enable', when: r => r.disabled, method: 'POST', path: r => `/clients/${enc(r.id)}/enable` },
      { label: 'New secret', method: 'POST', path: r => `/clients/${enc(r.id)}/secret`, confirm: r => `Replace the secret of ${r.id}? Its users must be given the new one.`, secret: 'secret' },
      { label: 'OAuth tokens', go: r => `oauth-tokens?client_id=${enc(r.id)}` },
    ],
    create: {
      title: 'New API client', secret: 'secret',
      fields: [
        { name: 'id', label: 'Client id', required: true, maxlength: 128, pattern: '[A-Za-z0-9._~\\-]+', title: 'letters, digits, . _ ~ -' },
        { name: 'description', label: 'Description', maxlength: 256 },
        { name: 'scopes', label: 'Scopes (separated by spaces)', to: words },
        { name: 'token_lifetime_seconds', label: 'Token lifetime (seconds)', type: 'number', min: 60, max: 86400, value: '3600' },
        { name: 'require_subscription_key', label: 'Require a subscription key', type: 'checkbox' },
      ],
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
    filters: [{ name: 'user', label: 'User' }],
    rowActions: [
      { label: 'Block', when: r => r.status === 'ACTIVE', method: 'POST', path: r => `/powerauth/activations/${enc(r.id)}/block` },
      { label: 'Unblock', when: r => r.status === 'BLOCKED', method: 'POST', path: r => `/powerauth/activations/${enc(r.id)}/unblock` },
      { label: 'Tokens', go: r => `powerauth/tokens?activation=${enc(r.id)}` },
      { label: 'Remove', method: 'DELETE', path: r => `/powerauth/activations/${enc(r.id)}`, confirm: () => 'Remove this activation and its tokens?', danger: true },
    ],
  },
  {
    id: 'powerauth-tokens', title: 'PowerAuth tokens', group: 'Apps', operator: true, route: 'powerauth/tokens', api: () => '/powerauth/tokens',
    columns: [{ key: 'id', label: 'Token' }, { key: 'activation_id', label: 'Activation' }, { key: 'created_at', label: 'Created', format: 'date' }],
    filters: [{ name: 'activation', label: 'Activation id' }],
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
      { key: 'company', label: 'Company' }, { key: 'vendor', label: 'Vendor' }, { key: 'user', label: 'Account' }],
    filters: [{ name: 'vendor', label: 'Vendor', only: 'operator' }, { name: 'name', label: 'Name' }, { name: 'email', label: 'E-mail' }],
    rowActions: [{ label: 'Delete', method: 'DELETE', path: r => `/customers/${enc(r.id)}`, confirm: r => `Delete the customer ${r.name}?`, danger: true }],
    create: {
      title: 'New customer',
      fields: [
        { name: 'vendor', label: 'Vendor', only: 'operator', required: true, ...userName },
        { name: 'name', label: 'Name', required: true, maxlength: 256 },
        { name: 'email', label: 'E-mail', type: 'email', maxlength: 256 },
        { name: 'company', label: 'Company', maxlength: 256 },
        { name: 'max_devices', label: 'Devices at most (0: any)', type: 'number', min: 0, max: 100000 },
        { name: 'user', label: 'Linked user account', ...userName, minlength: 0 },
      ],
    },
    detail: {
      route: 'customers/:id', api: p => `/customers/${enc(p.id)}`, title: c => `Customer ${c.name}`,
      fields: [['id', 'Id'], ['name', 'Name'], ['email', 'E-mail'], ['company', 'Company'], ['vendor', 'Vendor'], ['user', 'Account'], ['max_devices', 'Devices at most']],
      edit: { title: 'Edit', fields: [{ name: 'name', label: 'Name', required: true, maxlength: 256 }, { name: 'email', label: 'E-mail', type: 'email', maxlength: 256 },
        { name: 'company', label: 'Company', maxlength: 256 }, { name: 'max_devices', label: 'Devices at most (0: any)', type: 'number', min: 0, max: 100000 }] },
      actions: [{ label: 'Delete the customer', method: 'DELETE', path: p => `/customers/${enc(p.id)}`, confirm: () => 'Delete this customer?', danger: true, then: () => 'customers' }],
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
      { key: 'product_lock', label: 'Product' }, { key: 'expires_at', label: 'Expires', format: 'date' }, { key: 'revoked_at', label: 'Revoked', format: 'date' }],
    filters: [{ name: 'vendor', label: 'Vendor', only: 'operator' }],
    rowActions: [{ label: 'Revoke', when: r => !r.revoked_at, method: 'DELETE', path: r => `/api-tokens/${enc(r.id)}`, confirm: r => `Revoke the token ${r.name || r.id}? Apps using it stop working.`, danger: true }],
    create: {
      title: 'New licensing API token', secret: 'token',
      fields: [
        { name: 'vendor', label: 'Vendor', only: 'operator', required: true, ...userName },
        { name: 'name', label: 'Name', required: true, maxlength: 256 },
        { name: 'methods', label: 'Methods (e.g. Activate Deactivate GetKey)', required: true, to: words },
        { name: 'product_lock', label: 'Only product id (optional)', type: 'number', min: 1 },
        { name: 'key_lock', label: 'Key lock (optional)', type: 'number', min: -1 },
        { name: 'expires_at', label: 'Expires (optional)', type: 'datetime-local', to: rfc3339 },
      ],
    },
  },
  {
    id: 'woocommerce', title: 'WooCommerce stores', group: 'Licensing', route: 'woocommerce/stores', api: () => '/woocommerce/stores',
    columns: [{ key: 'id', label: 'Id', link: r => `woocommerce/stores/${r.id}` }, { key: 'name', label: 'Name', link: r => `woocommerce/stores/${r.id}` }, { key: 'vendor', label: 'Vendor' },
      { key: 'require_token', label: 'Requires a token', format: 'bool' }, { key: 'created_at', label: 'Created', format: 'date' }],
    filters: [{ name: 'vendor', label: 'Vendor', only: 'operator' }],
    rowActions: [{ label: 'Delete', method: 'DELETE', path: r => `/woocommerce/stores/${enc(r.id)}`, confirm: r => `Delete the store ${r.name}?`, danger: true }],
    create: {
      title: 'New store',
      fields: [
        { name: 'vendor', label: 'Vendor', only: 'operator', required: true, ...userName },
        { name: 'name', label: 'Name', required: true, maxlength: 256 },
        { name: 'code', label: 'Store code (8 characters at least)', required: true, minlength: 8, maxlength: 256 },
        { name: 'require_token', label: 'Require a token', type: 'checkbox' },
        { name: 'errors_by_code', label: 'Errors by code', type: 'checkbox' },
      ],
    },
    detail: {
      route: 'woocommerce/stores/:id', api: p => `/woocommerce/stores/${enc(p.id)}`, title: s => `Store ${s.name}`,
      fields: [['id', 'Id'], ['name', 'Name'], ['vendor', 'Vendor'], ['require_token', 'Requires a token', 'bool'], ['errors_by_code', 'Errors by code', 'bool'], ['created_at', 'Created', 'date']],
      edit: { title: 'Edit', fields: [{ name: 'name', label: 'Name', required: true, maxlength: 256 }, { name: 'require_token', label: 'Require a token', type: 'checkbox' },
        { name: 'errors_by_code', label: 'Errors by code', type: 'checkbox' }] },
      actions: [{ label: 'Delete the store', method: 'DELETE', path: p => `/woocommerce/stores/${enc(p.id)}`, confirm: () => 'Delete this store?', danger: true, then: () => 'woocommerce/stores' }],
      children: [{
        title: 'SKUs', api: p => `/woocommerce/stores/${enc(p.id)}/skus`, empty: 'No SKU is mapped to a product.',
        columns: [{ key: 'sku', label: 'SKU' }, { key: 'product_id', label: 'Product' }, { key: 'period', label: 'Period (days)' }],
      }],
    },
  },
  {
    id: 'app-authorizations', title: 'App authorizations', group: 'Apps', operator: true, route: 'app-authorizations', api: () => '/app-authorizations',
    columns: [{ key: 'id', label: 'Id' }, { key: 'user', label: 'User' }, { key: 'vendor', label: 'Vendor' }, { key: 'app_name', label: 'App' }, { key: 'device_name', label: 'Device' },
      { key: 'state', label: 'State' }, { key: 'expires_at', label: 'Expires', format: 'date' }, { key: 'revoked_at', label: 'Revoked', format: 'date' }],
    filters: [{ name: 'user', label: 'User' }, { name: 'vendor', label: 'Vendor' }],
    rowActions: [{ label: 'Revoke', when: r => !r.revoked_at, method: 'DELETE', path: r => `/app-authorizations/${enc(r.id)}`, confirm: r => `Revoke ${r.app_name} for ${r.user}?`, danger: true }],
  },
  {
    id: 'app-devices', title: 'App devices', group: 'Apps', operator: true, route: 'app-devices', api: () => '/app-devices',
    columns: [{ key: 'customer_id', label: 'Customer' }, { key: 'vendor', label: 'Vendor' }, { key: 'user', label: 'User' }, { key: 'machine_code', label: 'Machine', mono: true },
      { key: 'device_name', label: 'Device' }, { key: 'registered_at', label: 'Registered', format: 'date' }],
    filters: [{ name: 'user', label: 'User' }],
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
