// The dashboard's script (served as /dashboard/dashboard.js): polls /debug/stats every second and
// /debug/summary every few seconds, draws the charts on canvas with its own small code and fills the
// tables with textContent only (config and request data never become markup).
export const DASHBOARD_JS = String.raw`
import { lineChart, sparkline } from './charts.js';

const STATS_URL = '/debug/stats?window=10&points=60';
const COLORS = ['#58a6ff', '#3fb950', '#d29922', '#bc8cff', '#f778ba', '#39c5cf', '#ff9b50', '#a5d6ff'];
const MAX_LINES = 8;
const state = { summary: null, stats: null, statsUpdates: 0 };

function $(id) { return document.getElementById(id); }

function el(tag, props, children) {
  const e = document.createElement(tag);
  if (props) for (const k of Object.keys(props)) {
    if (k === 'text') e.textContent = props[k];
    else if (k === 'cls') e.className = props[k];
    else e.setAttribute(k, props[k]);
  }
  if (children) for (const c of children) if (c) e.appendChild(c);
  return e;
}

function td(text, cls) { return el('td', { text: text === null || text === undefined ? '–' : String(text), cls: cls || '' }); }

function fillBody(table, rows, empty, cols) {
  const body = $(table).tBodies[0];
  body.replaceChildren();
  if (rows.length === 0) {
    const cell = el('td', { text: empty, cls: 'empty' });
    cell.colSpan = cols;
    body.appendChild(el('tr', null, [cell]));
    return;
  }
  for (const r of rows) body.appendChild(r);
}

function fmt(n, digits) {
  if (n === null || n === undefined) return '–';
  if (n >= 100) return String(Math.round(n));
  return n.toFixed(digits === undefined ? 1 : digits);
}
function pct(r) { return (Math.round(r * 1000) / 10) + '%'; }

async function getJson(url) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 4000);
  try {
    const res = await fetch(url, { signal: ctl.signal, cache: 'no-store' });
    if (!res.ok) throw new Error(url + ': HTTP ' + res.status);
    return await res.json();
  } finally {
    clearTimeout(timer);
  }
}

// ---- rendering ----------------------------------------------------------------------------------

function colorOf(key, keys) { return COLORS[keys.indexOf(key) % COLORS.length]; }

function renderStats() {
  const s = state.stats;
  if (!s) return;
  const total = s.total.summary;
  $('kpi-rps').textContent = fmt(total.rps, 1);
  $('kpi-errors').textContent = pct(total.errorRate);
  $('kpi-errors').className = 'value ' + (total.errorRate > 0.05 ? 'bad' : total.errorRate > 0 ? 'warn' : '');
  $('kpi-denied').textContent = fmt(total.denied / s.summarySeconds, 1);
  $('kpi-p50').textContent = total.p50 === null ? '–' : fmt(total.p50) + ' ms';
  $('kpi-p99').textContent = total.p99 === null ? '–' : fmt(total.p99) + ' ms';
  for (const w of document.querySelectorAll('.window')) w.textContent = String(s.summarySeconds);
  const top = s.services.slice(0, MAX_LINES);
  const keys = top.map((x) => x.key).sort();
  lineChart($('chart-rps'), $('legend-rps'), top.map((x) => ({ label: x.key, color: colorOf(x.key, keys), values: x.points.requests })));
  lineChart($('chart-errors'), $('legend-errors'), top.filter((x) => x.points.errors.some((v) => v > 0)).map((x) => ({ label: x.key, color: colorOf(x.key, keys), values: x.points.errors })), { empty: 'no 5xx in the last 60 s' });
  const p = s.total.points;
  lineChart($('chart-latency'), $('legend-latency'), p.requests.some((v) => v > 0) ? [
    { label: 'p50', color: '#3fb950', values: p.p50 },
    { label: 'p99', color: '#f85149', values: p.p99 },
  ] : []);
  renderServices();
  renderRoutes();
  renderFailures();
}

function byKey(list) { const m = new Map(); for (const x of list || []) m.set(x.key, x); return m; }

function renderServices() {
  const sum = state.summary;
  if (!sum) return;
  const traffic = byKey(state.stats ? state.stats.services : []);
  fillBody('services', sum.services.map((svc) => {
    const t = traffic.get(svc.key);
    const m = t ? t.summary : null;
    const ports = svc.ports.map((p) => p.port + '/' + p.protocol + (p.routing === 'routes' ? ' (routes)' : '')).join(', ');
    return el('tr', { 'data-service': svc.key }, [
      td(svc.key, 'mono'), td(svc.vip, 'mono'), td(ports),
      td(m ? fmt(m.rps) : '0', 'num rps'), td(m ? pct(m.errorRate) : '0%', 'num ' + (m && m.errors > 0 ? 'bad' : '')),
      td(m ? m.denied : 0, 'num ' + (m && m.denied > 0 ? 'warn' : '')),
      td(m ? fmt(m.p50) : null, 'num'), td(m ? fmt(m.p99) : null, 'num'),
      el('td', null, [sparkline(t ? t.points.requests : [])]),
    ]);
  }), 'no Service is enrolled in this waypoint', 9);
}

function conditionBadges(conditions) {
  const cell = el('div');
  for (const c of conditions) {
    if (c.type !== 'Accepted' && c.type !== 'ResolvedRefs' && c.status === 'True') continue;
    const cls = c.status === 'True' ? 'ok' : c.type === 'Accepted' ? 'bad' : 'warn';
    const b = el('span', { cls: 'badge ' + cls, text: c.type + (c.status === 'True' ? '' : ': ' + c.reason), title: c.message });
    cell.appendChild(b);
  }
  return cell;
}

function renderRoutes() {
  const sum = state.summary;
  if (!sum) return;
  const traffic = byKey(state.stats ? state.stats.routes : []);
  const rows = [];
  for (const r of sum.routes) {
    const status = el('td');
    for (const p of r.parents) {
      status.appendChild(el('div', { cls: 'mono', text: p.parent }));
      status.appendChild(conditionBadges(p.conditions));
    }
    const rules = r.rules.length > 0 ? r.rules : [null];
    rules.forEach((rule, i) => {
      const t = rule ? traffic.get(rule.entry) : undefined;
      const m = t ? t.summary : null;
      rows.push(el('tr', { 'data-route': r.key }, [
        i === 0 ? td(r.kind + ' ' + r.key, 'mono') : td(''),
        i === 0 ? status : td(''),
        td(rule ? '#' + rule.rule + ' on ' + rule.service + ':' + rule.port : 'not attached here'),
        td(rule ? rule.match || '/' : '', 'mono'), td(rule ? rule.action : '', 'mono'),
        td(m ? fmt(m.rps) : '0', 'num'), td(m ? pct(m.errorRate) : '0%', 'num ' + (m && m.errors > 0 ? 'bad' : '')),
        td(m ? fmt(m.p99) : null, 'num'),
      ]));
    });
  }
  fillBody('routes', rows, 'no routes in the configuration', 8);
}

function renderFailures() {
  const s = state.stats;
  const rows = (s ? s.failures : []).slice(0, 30).map((f) => el('tr', { 'data-status': String(f.status) }, [
    td(new Date(f.time).toLocaleTimeString([], { hour12: false }), 'mono'), td(f.service, 'mono'), td(f.method + ' ' + f.path, 'mono'), td(f.source, 'mono'),
    td(f.status === 0 ? 'reset' : f.status, 'num ' + (f.status >= 500 || f.status === 0 ? 'bad' : 'warn')),
    td(f.flags, 'mono'), td(decidedBy(f), 'mono decided'), td(f.details, 'mono'),
  ]));
  fillBody('failures', rows, 'no denied or failed requests recently', 8);
}

function decidedBy(f) {
  const parts = [];
  if (f.authz !== '-') parts.push('authz ' + f.authz);
  if (f.route !== '-') parts.push('route ' + f.route);
  return parts.length === 0 ? '–' : parts.join(' · ');
}

function renderSummary() {
  const s = state.summary;
  if (!s) return;
  $('gateway').textContent = s.waypoint ? 'Gateway ' + s.waypoint : 'no waypoint Gateway';
  $('version').textContent = s.version === null ? '' : 'config v' + s.version;
  const exp = $('exposure');
  exp.hidden = !s.admin.warning;
  exp.textContent = s.admin.warning ? '⚠ ' + s.admin.warning : '';
  const c = s.diagnostics.counts;
  const kd = $('kpi-diagnostics');
  kd.textContent = c.error + ' errors, ' + c.warning + ' warnings';
  kd.className = 'value ' + (c.error > 0 ? 'bad' : c.warning > 0 ? 'warn' : '');
  kd.style.fontSize = '15px';
  fillBody('policies', s.policies.map((p) => el('tr', { 'data-policy': p.key }, [
    td(p.key, 'mono'), td(p.action), td(p.enforcedBy, p.enforcedBy === 'this-waypoint' ? 'ok' : p.enforcedBy === 'nowhere' ? 'bad' : 'warn'), td(p.reason),
  ])), 'no AuthorizationPolicy', 4);
  fillBody('diagnostics', s.diagnostics.items.map((d) => el('tr', null, [
    td(d.severity, d.severity === 'error' ? 'bad' : d.severity === 'warning' ? 'warn' : 'muted'),
    td(d.resource || '', 'mono'), td((d.file ? d.file.split('/').pop() : '') + (d.line ? ':' + d.line : '') + (d.path ? ' ' + d.path : ''), 'mono'), td(d.message),
  ])), 'no diagnostics: every resource applied cleanly', 4);
  renderServices();
  renderRoutes();
}

// ---- polling ------------------------------------------------------------------------------------

function showError(err) {
  const b = $('load-error');
  b.hidden = err === null;
  b.textContent = err === null ? '' : 'cannot reach the waypoint admin server: ' + err.message;
  const live = $('live');
  live.textContent = err === null ? 'live' : 'disconnected';
  live.className = 'pill ' + (err === null ? 'on' : 'off');
}

async function pollStats() {
  try {
    state.stats = await getJson(STATS_URL);
    state.statsUpdates++;
    document.body.dataset.statsUpdates = String(state.statsUpdates);
    renderStats();
    showError(null);
  } catch (err) {
    showError(err);
  } finally {
    setTimeout(pollStats, 1000);
  }
}

async function pollSummary() {
  try {
    state.summary = await getJson('/debug/summary');
    document.body.dataset.summaryVersion = String(state.summary.version);
    renderSummary();
  } catch (err) {
    showError(err);
  } finally {
    setTimeout(pollSummary, 3000);
  }
}

pollSummary();
pollStats();
`;
