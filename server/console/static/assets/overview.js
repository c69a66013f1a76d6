// The overview: the live counts of GET /admin/v1/stats and the server's three charts, each an accessible SVG
// drawn by the server (GET /admin/v1/stats/charts/{name}.svg) shown in a figure with its text alternative.
import { api, Problem } from './api.js';

const charts = [
  ['tokens-per-hour', 'Tokens issued per hour', 'Tokens issued per hour over the last day'],
  ['activations-per-day', 'License activations per day', 'License key activations per day over the last month'],
  ['signins-per-hour', 'Sign-ins per hour', 'Successful and failed sign-ins per hour over the last day'],
];

const label = k => k.replace(/_/g, ' ').replace(/^./, c => c.toUpperCase());

export async function overview(m, me, { h, problemBox }) {
  m.append(h('h1', { tabindex: '-1' }, 'Overview'),
    h('p', {}, `Signed in as ${me.user}, ${me.role === 'operator' ? 'an operator: every vendor is in sight.' : `the account of vendor ${me.vendor}.`}`));
  const live = h('section', { class: 'card', 'aria-labelledby': 'live-title' }, h('h2', { id: 'live-title' }, 'Live now'));
  m.append(live);
  try {
    const r = await api('GET', '/stats');
    const counts = (r.body && r.body.live) || {};
    const entries = Object.entries(counts);
    live.append(entries.length
      ? h('dl', { class: 'counts' }, entries.map(([k, v]) => h('div', { class: 'count' }, h('dt', {}, label(k)), h('dd', {}, String(v)))))
      : h('p', { class: 'empty' }, 'No live counts.'));
  } catch (p) {
    if (!(p instanceof Problem)) throw p;
    live.append(problemBox(p, 'statistics: '));
  }
  const figs = h('section', { class: 'charts', 'aria-labelledby': 'charts-title' }, h('h2', { id: 'charts-title' }, 'Activity'));
  for (const [name, caption, alt] of charts) {
    const img = h('img', { src: `/admin/v1/stats/charts/${name}.svg`, alt, width: '640', height: '240', loading: 'lazy' });
    const fig = h('figure', { class: 'chart' }, img, h('figcaption', {}, caption));
    img.addEventListener('error', () => {
      img.replaceWith(h('p', { class: 'problem', role: 'note' }, `Error: the chart “${caption}” is not available from this server.`));
    });
    figs.append(fig);
  }
  m.append(figs);
}
