// The overview: the live counts of GET /admin/v1/stats, each product's activations as a table, and the server's
// charts, each an accessible SVG drawn by the server (GET /admin/v1/stats/charts/{name}.svg) shown in a figure
// with its text alternative. A vendor account gets only its own products' activations: the live counts and
// the operator-wide charts (tokens, sign-ins) are not its to see (the server answers them 403), so its
// overview shows the activations alone.
import { api, Problem } from './api.js';

const DAYS = 30;

const charts = [
  { name: 'tokens-per-hour', caption: 'Tokens issued per hour', alt: 'Tokens issued per hour over the last two days', operator: true },
  { name: 'activations-per-day', caption: 'License activations per day', alt: `License key activations per day over the last ${DAYS} days` },
  { name: 'signins-per-hour', caption: 'Sign-ins refused per hour', alt: 'Failed and throttled sign-ins per hour over the last two days', operator: true },
];

const liveLabels = { tokens: 'Spectrum tokens', sessions: 'Sessions', oauth_tokens: 'OAuth tokens', powerauth_tokens: 'PowerAuth tokens' };
const label = k => liveLabels[k] || k.replace(/_/g, ' ').replace(/^./, c => c.toUpperCase());

export async function overview(m, me, { h, problemBox }) {
  const operator = me.role === 'operator';
  m.append(h('h1', { tabindex: '-1' }, 'Overview'),
    h('p', {}, `Signed in as ${me.user}, ${operator ? 'an operator: every vendor is in sight.' : `the account of vendor ${me.vendor}: its own products' activations.`}`));
  let stats = null;
  const loading = h('p', { class: 'loading' }, 'Loading…');
  m.append(loading);
  try {
    stats = (await api('GET', `/stats?days=${DAYS}`)).body;
  } catch (p) {
    if (!(p instanceof Problem)) throw p;
    m.append(problemBox(p, 'statistics: '));
  } finally {
    loading.remove();
  }
  if (operator && stats) {
    const entries = Object.entries(stats.live || {});
    m.append(h('section', { class: 'card', 'aria-labelledby': 'live-title' }, h('h2', { id: 'live-title' }, 'Live now'),
      entries.length
        ? h('dl', { class: 'counts' }, entries.map(([k, v]) => h('div', { class: 'count' }, h('dt', {}, label(k)), h('dd', {}, String(v)))))
        : h('p', { class: 'empty' }, 'No live counts.')));
  }
  if (stats && stats.activations_per_day) m.append(activationTable(h, stats.activations_per_day, operator));

  const figs = h('section', { class: 'charts', 'aria-labelledby': 'charts-title' }, h('h2', { id: 'charts-title' }, 'Activity'));
  for (const c of charts.filter(c => operator || !c.operator)) {
    const query = c.name === 'activations-per-day' ? `?days=${DAYS}` : '';
    const img = h('img', { src: `/admin/v1/stats/charts/${c.name}.svg${query}`, alt: c.alt, width: '640', height: '240', id: `chart-${c.name}` });
    const fig = h('figure', { class: 'chart' }, img, h('figcaption', {}, c.caption));
    img.addEventListener('error', () => {
      img.replaceWith(h('p', { class: 'problem', role: 'note' }, `Error: the chart “${c.caption}” is not available from this server.`));
    });
    figs.append(fig);
  }
  m.append(figs);
}

// activationTable is the activations per day of the stats answer as text: each product's total and today's.
function activationTable(h, a, operator) {
  const days = a.days || [];
  const rows = a.products || [];
  const sec = h('section', { class: 'card', 'aria-labelledby': 'activations-title', id: 'activations' },
    h('h2', { id: 'activations-title' }, `License activations, last ${days.length} days`));
  if (!rows.length) {
    sec.append(h('p', { class: 'empty' }, 'No license key was activated on a new machine in this time.'));
    return sec;
  }
  sec.append(h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Activations per product' },
    h('table', {},
      h('caption', {}, 'Activations per product'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Product'), operator ? h('th', { scope: 'col' }, 'Vendor') : null,
        h('th', { scope: 'col' }, 'In all'), h('th', { scope: 'col' }, `Today (${days[days.length - 1] || ''} UTC)`))),
      h('tbody', {}, rows.map(p => h('tr', {},
        h('td', { 'data-label': 'Product' }, p.id > 0 && !/\(deleted\)$/.test(p.name) ? h('a', { href: `/console/products/${p.id}` }, p.name) : p.name),
        operator ? h('td', { 'data-label': 'Vendor' }, p.vendor || '—') : null,
        h('td', { 'data-label': 'In all' }, String(p.total)),
        h('td', { 'data-label': 'Today' }, String((p.counts || [])[days.length - 1] || 0))))))));
  if (a.truncated) sec.append(h('p', { class: 'notice' }, 'Only the products with the most activations are listed.'));
  return sec;
}
