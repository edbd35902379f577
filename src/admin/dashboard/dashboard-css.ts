// Styles of the dashboard page (served as /dashboard/dashboard.css).
export const DASHBOARD_CSS = String.raw`
:root { --bg: #0f1419; --panel: #171d24; --line: #26303b; --text: #d9e1e8; --muted: #8a98a8; --ok: #3fb950; --warn: #d29922; --bad: #f85149; --accent: #58a6ff; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; align-items: baseline; gap: 14px; padding: 12px 20px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; letter-spacing: .5px; }
main { padding: 14px 20px 8px; display: grid; gap: 16px; }
h2 { font-size: 14px; margin: 0 0 6px; font-weight: 600; }
.muted { color: var(--muted); font-weight: normal; }
.pill { margin-left: auto; padding: 1px 8px; border-radius: 10px; border: 1px solid var(--line); color: var(--muted); }
.pill.on { color: var(--ok); border-color: var(--ok); }
.pill.off { color: var(--bad); border-color: var(--bad); }
.banner { margin: 10px 20px 0; padding: 8px 12px; border: 1px solid var(--bad); background: #3a1d1d; color: #ffd7d5; border-radius: 6px; font-weight: 600; }
.kpis { display: grid; grid-template-columns: repeat(6, minmax(120px, 1fr)); gap: 10px; }
.kpi { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.kpi .label { color: var(--muted); font-size: 12px; }
.kpi .value { font-size: 22px; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 10px; }
figure { margin: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
canvas { width: 100%; height: 200px; display: block; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 12px; color: var(--muted); margin-top: 4px; min-height: 18px; }
.legend i { display: inline-block; width: 10px; height: 3px; margin-right: 5px; vertical-align: middle; }
section > h2 .muted { font-size: 12px; }
table { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; background: #1b222b; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:last-child td { border-bottom: none; }
td.empty { color: var(--muted); font-style: italic; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); }
.badge { display: inline-block; padding: 0 6px; border-radius: 4px; border: 1px solid currentColor; font-size: 11px; margin: 0 4px 2px 0; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
canvas.spark { width: 120px; height: 24px; }
footer { padding: 8px 20px 16px; }
footer a { color: var(--accent); }
@media (max-width: 1100px) { .charts, .two { grid-template-columns: 1fr; } .kpis { grid-template-columns: repeat(3, 1fr); } }
`;
