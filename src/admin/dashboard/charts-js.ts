// Line charts on canvas for the dashboard (served as /dashboard/charts.js, imported by dashboard.js):
// axes, grid, legend and sparklines, in a few dozen lines instead of a charting library.
export const CHARTS_JS = String.raw`
function setupCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * lines: [{ label, color, values: (number|null)[] }], one value per second ending now.
 * opts: { empty: legend text without lines, bare: no axes (sparklines) }.
 */
export function lineChart(canvas, legend, lines, opts) {
  const o = opts || {};
  const g = setupCanvas(canvas);
  const ctx = g.ctx;
  const left = o.bare ? 1 : 44, right = o.bare ? 1 : 8, top = o.bare ? 2 : 8, bottom = o.bare ? 2 : 20;
  const pw = g.w - left - right, ph = g.h - top - bottom;
  let max = 0, n = 0, sum = 0;
  for (const l of lines) {
    n = Math.max(n, l.values.length);
    for (const v of l.values) if (v !== null) { max = Math.max(max, v); sum += v; }
  }
  canvas.dataset.sum = String(Math.round(sum * 100) / 100);
  canvas.dataset.max = String(max);
  const ymax = niceMax(max);
  ctx.font = '11px system-ui, sans-serif';
  if (!o.bare) drawAxes(ctx, g, left, top, pw, ph, ymax, n);
  drawLines(ctx, lines, left, top, pw, ph, ymax, n);
  if (legend) {
    legend.replaceChildren();
    for (const l of lines) {
      const swatch = document.createElement('i');
      swatch.style.background = l.color;
      const item = document.createElement('span');
      item.append(swatch, l.label);
      legend.appendChild(item);
    }
    if (lines.length === 0) {
      const item = document.createElement('span');
      item.textContent = o.empty || 'no traffic yet';
      legend.appendChild(item);
    }
  }
}

function tick(v) { return Number.isInteger(v) ? String(v) : v.toFixed(v < 1 ? 2 : 1); }

function drawAxes(ctx, g, left, top, pw, ph, ymax, n) {
  ctx.strokeStyle = '#26303b';
  ctx.fillStyle = '#8a98a8';
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = top + ph - (ph * i) / 4;
    ctx.beginPath(); ctx.moveTo(left, y + 0.5); ctx.lineTo(left + pw, y + 0.5); ctx.stroke();
    const v = (ymax * i) / 4;
    ctx.textAlign = 'right';
    ctx.fillText(tick(v), left - 4, y + 4);
  }
  ctx.textAlign = 'center';
  if (n > 1) for (const s of [0, 15, 30, 45]) {
    const x = left + pw - (pw * s) / (n - 1);
    if (x >= left) ctx.fillText(s === 0 ? 'now' : '-' + s + 's', x, g.h - 5);
  }
}

function drawLines(ctx, lines, left, top, pw, ph, ymax, n) {
  for (const l of lines) {
    ctx.strokeStyle = l.color;
    ctx.lineWidth = l.width || 1.6;
    ctx.beginPath();
    let pen = false;
    l.values.forEach((v, i) => {
      if (v === null) { pen = false; return; }
      const x = left + (n <= 1 ? pw : (pw * i) / (n - 1));
      const y = top + ph - (ph * Math.min(v, ymax)) / ymax;
      if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      pen = true;
    });
    ctx.stroke();
  }
}

export function sparkline(values) {
  const c = document.createElement('canvas');
  c.className = 'spark';
  c.width = 120;
  c.height = 24;
  requestAnimationFrame(() => lineChart(c, null, [{ label: '', color: '#58a6ff', values: values, width: 1.2 }], { bare: true }));
  return c;
}
`;
