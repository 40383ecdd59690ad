// Turnpike dashboard: plain browser JavaScript, no build step, no external resources.
// Every value from the gateway is inserted as text (textContent / attributes), never as HTML.
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';
const CLASS_COLORS = { '1xx': '#9ca3af', '2xx': '#16a34a', '3xx': '#2563eb', '4xx': '#d97706', '5xx': '#dc2626' };
const PALETTE = ['#0f766e', '#7c3aed', '#db2777', '#ea580c', '#2563eb', '#65a30d', '#0891b2', '#b45309'];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

async function getJSON(url, init) {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

function pill(text, cls) { return el('span', { class: `pill ${cls || ''}` }, text); }
function scopePill(scope) { return pill(scope, `scope-${scope.includes('+') ? 'combo' : scope}`); }
function list(values) { return values && values.length ? values.map((v) => pill(v)) : el('span', { class: 'muted' }, '–'); }
function configDetails(config) {
  return el('details', {}, el('summary', {}, 'config'), el('pre', {}, JSON.stringify(config, null, 2)));
}

function fillTable(sectionId, rows, render) {
  const section = document.getElementById(sectionId);
  const body = section.querySelector('tbody');
  const cols = section.querySelectorAll('thead th').length;
  body.replaceChildren(...(rows.length ? rows.map((r) => el('tr', {}, render(r).map((cell) => el('td', {}, cell))))
    : [el('tr', {}, el('td', { class: 'empty', colspan: cols }, 'none'))]));
  const count = section.querySelector('h2 .count');
  if (count) count.textContent = String(rows.length);
}

// ------------------------------------------------------------------ overview panels

function renderOverview(o) {
  document.getElementById('node-version').textContent = `v${o.node.version}`;
  document.getElementById('node-workers').textContent = String(o.node.workers);
  const cfg = o.config;
  document.getElementById('config-hash').textContent = cfg ? cfg.hash : 'no configuration';
  document.getElementById('config-loaded').textContent = cfg ? new Date(cfg.loadedAt).toLocaleString() : '–';
  document.getElementById('config-loaded').title = cfg ? cfg.loadedAt : '';
  document.getElementById('config-source').textContent = cfg ? cfg.source : '–';

  fillTable('services', o.services, (s) => [s.name || s.id, el('code', {}, s.url), list(s.routes), s.upstream || '–', s.enabled ? 'yes' : 'no']);
  fillTable('routes', o.routes, (r) => [
    r.name || r.id, r.service || el('span', { class: 'muted' }, '(none)'), list(r.methods), list(r.hosts), list(r.paths),
    list(Object.entries(r.headers).map(([k, v]) => `${k}: ${v.join(',')}`)), String(r.strip_path), String(r.preserve_host),
  ]);
  fillTable('plugins', o.plugins, (p) => [
    p.name, p.instance_name || '–', scopePill(p.scope),
    list(Object.entries(p.applies_to).map(([k, v]) => `${k}: ${v}`)), p.priority === null ? '–' : String(p.priority),
    p.enabled ? 'yes' : 'no', configDetails(p.config),
  ]);
  fillTable('consumers', o.consumers, (c) => [
    c.username || '–', c.custom_id || '–',
    c.credentials.length ? c.credentials.map((cr) => el('div', { class: 'mono credential' }, `${cr.type}: ${credentialText(cr)}`)) : '–',
    list(c.acls), list(c.plugins),
  ]);
  fillTable('upstreams', o.upstreams, (u) => [
    u.name, u.algorithm,
    u.targets.length ? u.targets.map((t) => el('div', { class: 'target' }, el('code', {}, t.target), ' ', pill(t.health, `health-${t.health}`), el('span', { class: 'muted' }, ` weight ${t.weight}`))) : '–',
    `${u.healthchecks.active ? 'active' : ''}${u.healthchecks.active && u.healthchecks.passive ? ' + ' : ''}${u.healthchecks.passive ? 'passive' : ''}` || 'off',
    list(u.services),
  ]);
  renderController(o.controller);
}

function renderController(k) {
  const section = document.getElementById('kubernetes');
  section.hidden = !k;
  if (!k) return;
  fillTable('kubernetes', k.events, (e) => [e.type, e.reason, `${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}`, e.message]);
  const outcome = document.getElementById('kubernetes-outcome');
  outcome.textContent = `from ${k.source} at ${new Date(k.at).toLocaleTimeString()}: config ${k.outcome}${k.message ? ` (${k.message})` : ''}`;
  outcome.className = `muted outcome-${k.outcome}`;
  document.getElementById('kubernetes-problems').replaceChildren(...k.problems.map((p) => el('li', {}, p)));
}

function credentialText(cr) {
  switch (cr.type) {
    case 'key-auth': return cr.key;
    case 'basic-auth': return `${cr.username} / ${cr.password}`;
    case 'jwt': return `${cr.key} (${cr.algorithm})`;
    case 'hmac-auth': return `${cr.username} / ${cr.secret}`;
    case 'oauth2': return `${cr.name} (${cr.client_id})`;
    default: return cr.id;
  }
}

// ------------------------------------------------------------------ charts

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function fmt(v) { return v >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100); }

/**
 * Draws lines [{label, color, values, dashed}] into a figure's SVG. Null values leave gaps.
 * The SVG carries data-max and data-points (non-zero points drawn) so tests can read it.
 */
function lineChart(figureId, lines, opts) {
  const fig = document.getElementById(figureId);
  const svg = fig.querySelector('svg');
  const W = 600, H = 170, L = 38, R = 6, T = 8, B = 18;
  let max = 0, points = 0, n = 0;
  for (const line of lines) {
    n = Math.max(n, line.values.length);
    for (const v of line.values) if (v !== null && v > 0) { max = Math.max(max, v); points++; }
  }
  const yMax = opts && opts.yMax ? opts.yMax : niceMax(max);
  const x = (i) => L + (n <= 1 ? 0 : (i / (n - 1)) * (W - L - R));
  const y = (v) => T + (1 - v / yMax) * (H - T - B);
  const nodes = [];
  for (const f of [0, 0.5, 1]) {
    nodes.push(svgEl('line', { class: 'grid', x1: L, x2: W - R, y1: y(yMax * f), y2: y(yMax * f) }));
    const label = svgEl('text', { class: 'axis-label', x: L - 4, y: y(yMax * f) + 3, 'text-anchor': 'end' });
    label.textContent = opts && opts.percent ? `${Math.round(yMax * f * 100)}%` : fmt(yMax * f);
    nodes.push(label);
  }
  const ticks = n > 120
    ? [[0, '-5m'], [Math.round((n - 1) * 0.4), '-3m'], [Math.round((n - 1) * 0.8), '-1m'], [n - 1, 'now']]
    : [[0, `-${n}s`], [Math.round((n - 1) / 2), `-${Math.round(n / 2)}s`], [n - 1, 'now']];
  for (const [i, t] of ticks) {
    const label = svgEl('text', { class: 'axis-label', x: x(i), y: H - 4, 'text-anchor': i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle' });
    label.textContent = t;
    nodes.push(label);
  }
  for (const line of lines) {
    let d = '';
    let open = false;
    line.values.forEach((v, i) => {
      if (v === null || v === undefined) { open = false; return; }
      d += `${open ? 'L' : 'M'}${x(i).toFixed(1)},${y(Math.min(v, yMax)).toFixed(1)}`;
      open = true;
    });
    if (!d) continue;
    nodes.push(svgEl('path', { class: `series${line.dashed ? ' dashed' : ''}`, d, stroke: line.color, 'data-label': line.label }));
    // A lone point between gaps would be invisible as a path: mark it.
    line.values.forEach((v, i) => {
      const prev = line.values[i - 1], next = line.values[i + 1];
      if (v !== null && v !== undefined && (prev === null || prev === undefined) && (next === null || next === undefined)) {
        nodes.push(svgEl('circle', { cx: x(i), cy: y(Math.min(v, yMax)), r: 1.8, fill: line.color }));
      }
    });
  }
  svg.replaceChildren(...nodes);
  svg.dataset.max = String(max);
  svg.dataset.points = String(points);
  const legend = fig.querySelector('.legend');
  legend.replaceChildren(...lines.filter((l) => !l.hideLegend).map((l) => {
    const swatch = el('i');
    swatch.style.background = l.color;
    return el('span', {}, swatch, l.label);
  }));
  let now = fig.querySelector('figcaption .now');
  if (!now) { now = el('span', { class: 'now' }); fig.querySelector('figcaption').append(now); }
  now.textContent = opts && opts.now !== undefined ? opts.now : '';
}

function last(values) {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
  return null;
}

/** Seconds shown; the series always holds five minutes. */
let windowSeconds = 300;
let lastTraffic = null;

function sliceSeries(t, n) {
  const cut = (a) => a.slice(-n);
  const classes = {};
  for (const k of Object.keys(t.classes)) classes[k] = cut(t.classes[k]);
  return { ...t, requests: cut(t.requests), limited: cut(t.limited), cacheHitRatio: cut(t.cacheHitRatio), classes,
    routes: t.routes.map((r) => ({ ...r, p50: cut(r.p50), p99: cut(r.p99) })) };
}

function renderTraffic(full) {
  lastTraffic = full;
  const t = sliceSeries(full, windowSeconds);
  lineChart('chart-requests', [{ label: 'requests/s', color: '#0f766e', values: t.requests }], { now: `${fmt(last(t.requests) || 0)}/s` });
  const classes = Object.keys(t.classes).filter((k) => k === '2xx' || t.classes[k].some((v) => v > 0));
  lineChart('chart-status', classes.map((k) => ({ label: k, color: CLASS_COLORS[k], values: t.classes[k] })), {});
  const lat = [];
  t.routes.forEach((r, i) => {
    const color = PALETTE[i % PALETTE.length];
    lat.push({ label: `${r.name} p50`, color, values: r.p50 });
    lat.push({ label: `${r.name} p99`, color, values: r.p99, dashed: true });
  });
  lineChart('chart-latency', lat, {});
  lineChart('chart-limited', [{ label: '429/s', color: '#d97706', values: t.limited }], { now: `${t.totals.limited} in 5 min` });
  const ratio = t.totals.cacheHits + t.totals.cacheMisses > 0
    ? `${Math.round((t.totals.cacheHits / (t.totals.cacheHits + t.totals.cacheMisses)) * 100)}% over 5 min` : 'no cacheable traffic';
  lineChart('chart-cache', [{ label: 'hits / (hits + misses)', color: '#7c3aed', values: t.cacheHitRatio }], { yMax: 1, percent: true, now: ratio });

  const c = t.totals.classes;
  const totals = [['requests', t.totals.requests], ['2xx', c[1]], ['4xx', c[3]], ['5xx', c[4]], ['429', t.totals.limited],
    ['cache hits', t.totals.cacheHits], ['cache misses', t.totals.cacheMisses]];
  document.getElementById('traffic-totals').replaceChildren(...totals.map(([k, v]) => el('div', { 'data-total': k }, el('b', {}, String(v)), el('span', {}, k))));
}

// ------------------------------------------------------------------ route explorer

function parseHeaders(text) {
  const headers = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return headers;
}

function renderExplain(r) {
  const box = document.getElementById('explorer-result');
  box.hidden = false;
  const verdict = document.getElementById('explorer-verdict');
  const code = r.exit ? el('span', { class: 'code err' }, String(r.exit.status)) : el('span', { class: 'code ok' }, 'proxied');
  verdict.replaceChildren(code, ' ',
    r.matched ? el('span', {}, 'matched route ', el('b', { id: 'explorer-route' }, r.route.name || r.route.id)) : el('span', { id: 'explorer-route' }, 'no route matched'),
    r.exit ? el('span', { class: 'muted' }, ` — ${r.exit.message}`) : '');
  const kv = [];
  const add = (k, v) => { if (v !== null && v !== undefined && v !== '') kv.push(el('dt', {}, k), el('dd', {}, v)); };
  add('request', `${r.request.method} ${r.request.scheme}://${r.request.host || '(no host)'}${r.request.path}${r.request.query ? `?${r.request.query}` : ''}`);
  if (r.request.normalized_path !== r.request.path) add('normalized path', r.request.normalized_path);
  if (r.route) add('route', `paths ${JSON.stringify(r.route.paths)}, strip_path ${r.route.strip_path}, preserve_host ${r.route.preserve_host}, path_handling ${r.route.path_handling}`);
  if (r.service) add('service', `${r.service.name || r.service.id} (${r.service.url})`);
  if (r.upstream) {
    add('upstream URL', r.upstream.url);
    add('Host header', r.upstream.host_header);
    if (r.upstream.upstream) add('upstream', `${r.upstream.upstream}: ${r.upstream.targets.join(', ') || 'no targets'}`);
    if (r.upstream.stripped_prefix) add('X-Forwarded-Prefix', r.upstream.stripped_prefix);
  }
  if (Object.keys(r.uri_captures).length) add('uri captures', JSON.stringify(r.uri_captures));
  if (r.consumer) add('consumer', r.consumer.username || r.consumer.id);
  const summary = document.getElementById('explorer-summary');
  summary.replaceChildren(...kv);
  const upstreamDd = [...summary.querySelectorAll('dt')].find((d) => d.textContent === 'upstream URL');
  if (upstreamDd) upstreamDd.nextElementSibling.id = 'explorer-upstream-url';

  const body = document.querySelector('#explorer-plugins tbody');
  body.replaceChildren(...(r.plugins.length ? r.plugins.map((p) => el('tr', { 'data-plugin': p.name },
    el('td', {}, String(p.order)), el('td', { class: 'plugin-name' }, p.name), el('td', {}, p.instance_name || '–'),
    el('td', {}, scopePill(p.scope), p.consumer_dependent ? el('span', { class: 'muted', title: 'another configuration applies once a consumer is authenticated' }, ' *') : ''),
    el('td', {}, String(p.priority)), el('td', {}, list(p.phases)), el('td', {}, configDetails(p.config)),
  )) : [el('tr', {}, el('td', { class: 'empty', colspan: 7 }, 'no plugins'))]));
  document.getElementById('explorer-phases').replaceChildren(...r.phases.map((ph) => el('li', {}, el('b', {}, ph.phase), ph.plugins.join(' → '))));
}

async function explain(ev) {
  ev.preventDefault();
  const f = ev.target;
  const input = {
    method: f.method.value, host: f.host.value.trim() || undefined, path: f.path.value.trim() || '/',
    headers: parseHeaders(f.headers.value), consumer: f.consumer.value.trim() || undefined,
  };
  try {
    renderExplain(await getJSON('/api/explain', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) }));
  } catch (err) {
    const box = document.getElementById('explorer-result');
    box.hidden = false;
    document.getElementById('explorer-verdict').textContent = `error: ${err.message}`;
  }
}

// ------------------------------------------------------------------ polling

async function pollTraffic() {
  const dot = document.getElementById('traffic-status');
  try {
    renderTraffic(await getJSON('/api/traffic'));
    dot.className = 'status-dot live';
  } catch {
    dot.className = 'status-dot down';
  }
  setTimeout(pollTraffic, 1000);
}

let lastOverview = '';
async function pollOverview() {
  try {
    const o = await getJSON('/api/overview');
    // Re-render only on change, so open config details stay open.
    const key = JSON.stringify({ ...o, node: { ...o.node, now: null } });
    if (key !== lastOverview) { lastOverview = key; renderOverview(o); }
  } catch { /* next round */ }
  setTimeout(pollOverview, 5000);
}

document.getElementById('explorer-form').addEventListener('submit', explain);
for (const b of document.querySelectorAll('.window button')) {
  b.addEventListener('click', () => {
    windowSeconds = Number(b.dataset.window);
    for (const o of document.querySelectorAll('.window button')) o.classList.toggle('on', o === b);
    document.getElementById('traffic-window-label').textContent = `last ${windowSeconds === 60 ? 'minute' : '5 minutes'}, one point a second`;
    if (lastTraffic) renderTraffic(lastTraffic);
  });
}
pollOverview();
pollTraffic();
