// `npm run screenshot`: runs the demo mesh (`npm start`'s program, admin on an ephemeral port), sends it
// some traffic (including writes to `ratings`, which its AuthorizationPolicy denies), then photographs the
// dashboard in headless Chromium into docs/dashboard.png.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { launchChromium, until } from './headless-chromium.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = process.argv[2] ?? `${root}docs/dashboard.png`;
const TRAFFIC_MS = Number(process.env['SCREENSHOT_TRAFFIC_MS'] ?? 20_000);

function call(host: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host, port: 9080, path, method, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function traffic(until: number, stopped: () => boolean = () => false): Promise<void> {
  let i = 0;
  while (Date.now() < until && !stopped()) {
    i++;
    // A load that varies over time, so the charts have a shape.
    const burst = 2 + Math.round(3 * (1 + Math.sin(i / 15)));
    const calls: Array<Promise<number>> = [];
    for (let k = 0; k < burst; k++) calls.push(call('127.10.0.1', '/productpage'));
    if (i % 3 === 0) calls.push(call('127.10.0.1', '/productpage', 'GET', { 'end-user': 'jason' }));
    if (i % 2 === 0) calls.push(call('127.10.0.5', '/ratings/0'));
    if (i % 25 === 0) calls.push(call('127.10.0.5', '/ratings/0', 'DELETE'));
    if (i % 40 === 0) calls.push(call('127.10.0.5', '/ratings/0', 'PUT'));
    await Promise.all(calls);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const demo = spawn(process.execPath, [`${root}dist/src/demo/main.js`], {
    env: { ...process.env, WAYPOINT_ADMIN_PORT: '0', WAYPOINT_METRICS_PORT: '0', WAYPOINT_HBONE_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const admin = await new Promise<string>((resolve, reject) => {
      let text = '';
      demo.stdout.on('data', (c: Buffer) => {
        text += c.toString('utf8');
        const m = /http:\/\/(127\.0\.0\.1:\d+)\/config_dump/.exec(text);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      demo.once('exit', (code) => reject(new Error(`the demo exited (${code}) before it was up`)));
    });
    process.stderr.write(`demo up, admin at ${admin}; sending traffic for ${TRAFFIC_MS / 1000}s\n`);
    // Traffic keeps flowing while the browser starts and the page loads, so the charts end at "now".
    let stop = false;
    const load = traffic(Date.now() + TRAFFIC_MS + 60_000, () => stop);
    try {
      await new Promise((r) => setTimeout(r, TRAFFIC_MS));
      await photograph(admin);
    } finally {
      stop = true;
      await load;
    }
  } finally {
    if (demo.exitCode === null) {
      const exited = new Promise((r) => demo.once('exit', r));
      demo.kill('SIGINT');
      await exited;
    }
  }
}

async function photograph(admin: string): Promise<void> {
  const browser = await launchChromium({ width: 1440, height: 1000 });
  try {
    const page = await browser.context.newPage();
    await page.goto(`http://${admin}/`);
    const body = page.locator('body');
    await until('the dashboard has data', async () => Number(await body.getAttribute('data-stats-updates')) >= 2 && (await body.getAttribute('data-summary-version')) !== null);
    await page.waitForTimeout(1200);
    await page.screenshot({ path: out, fullPage: true });
    process.stderr.write(`wrote ${out}\n`);
  } finally {
    await browser.close();
  }
}

await main();
