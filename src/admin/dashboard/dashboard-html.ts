// The dashboard page served at `/` (browsers) and `/dashboard`: static markup only; dashboard-js.ts fills
// it from /debug/summary and /debug/stats. No inline script or style (the page's CSP forbids them).
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>waypoint dashboard</title>
<link rel="stylesheet" href="/dashboard/dashboard.css">
<script type="module" src="/dashboard/dashboard.js"></script>
</head>
<body>
<header>
  <h1>waypoint</h1>
  <span id="gateway" class="muted">loading…</span>
  <span id="version" class="muted"></span>
  <span id="live" class="pill">connecting</span>
</header>
<div id="exposure" class="banner" hidden></div>
<div id="load-error" class="banner" hidden></div>
<main>
  <section class="kpis">
    <div class="kpi"><div class="label">requests / s</div><div id="kpi-rps" class="value">0</div></div>
    <div class="kpi"><div class="label">5xx rate</div><div id="kpi-errors" class="value">0%</div></div>
    <div class="kpi"><div class="label">denied / s</div><div id="kpi-denied" class="value">0</div></div>
    <div class="kpi"><div class="label">p50 latency</div><div id="kpi-p50" class="value">–</div></div>
    <div class="kpi"><div class="label">p99 latency</div><div id="kpi-p99" class="value">–</div></div>
    <div class="kpi"><div class="label">diagnostics</div><div id="kpi-diagnostics" class="value">–</div></div>
  </section>
  <section class="charts">
    <figure><figcaption>Requests per second, by Service <span class="muted">(last 60 s)</span></figcaption><canvas id="chart-rps" width="560" height="200"></canvas><div id="legend-rps" class="legend"></div></figure>
    <figure><figcaption>5xx per second, by Service</figcaption><canvas id="chart-errors" width="560" height="200"></canvas><div id="legend-errors" class="legend"></div></figure>
    <figure><figcaption>Latency, all Services (ms)</figcaption><canvas id="chart-latency" width="560" height="200"></canvas><div id="legend-latency" class="legend"></div></figure>
  </section>
  <section>
    <h2>Services <span class="muted">enrolled and served here; traffic over the last <span class="window">10</span> s</span></h2>
    <table id="services"><thead><tr><th>Service</th><th>VIP</th><th>Ports</th><th>req/s</th><th>5xx</th><th>denied</th><th>p50 ms</th><th>p99 ms</th><th>last 60 s</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Routes <span class="muted">status per parent and traffic per rule</span></h2>
    <table id="routes"><thead><tr><th>Route</th><th>Status</th><th>Rule</th><th>Match</th><th>Backends</th><th>req/s</th><th>5xx</th><th>p99 ms</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Recent denied or failed requests <span class="muted">newest first</span></h2>
    <table id="failures"><thead><tr><th>Time</th><th>Service</th><th>Request</th><th>Source</th><th>Status</th><th>Flags</th><th>Decided by</th><th>Details</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="two">
    <div>
      <h2>Authorization policies</h2>
      <table id="policies"><thead><tr><th>Policy</th><th>Action</th><th>Enforced by</th><th>Why</th></tr></thead><tbody></tbody></table>
    </div>
    <div>
      <h2>Config diagnostics</h2>
      <table id="diagnostics"><thead><tr><th></th><th>Resource</th><th>Where</th><th>Message</th></tr></thead><tbody></tbody></table>
    </div>
  </section>
</main>
<footer class="muted">Data: <a href="/debug/summary">/debug/summary</a> · <a href="/debug/stats">/debug/stats</a> · <a href="/config_dump">/config_dump</a> · <a href="/debug/requests">/debug/requests</a> · <a href="/stats/prometheus">/stats/prometheus</a></footer>
</body>
</html>
`;
