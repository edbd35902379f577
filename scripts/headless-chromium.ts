// Debian's Chromium driven by playwright-core, for the dashboard's browser test and its screenshot:
// headless, a fresh profile in a temp dir, and every request that is not to a loopback address refused.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { isLoopbackHost } from '../src/admin/admin-exposure.js';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

const ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export interface HeadlessChromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(viewport = { width: 1440, height: 1000 }): Promise<HeadlessChromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}: the dashboard is tested in a real browser. Install Debian's package (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH.`);
  }
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'waypoint-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM_PATH, headless: true, args: ARGS, viewport, timeout: 60_000 });
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  // Only loopback: the page must work with nothing but the admin server.
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return isLoopbackHost(host) ? route.continue() : route.abort('blockedbyclient');
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Polls `check` from Node until it holds: locator reads run in Playwright's isolated world, so this works
 * under the dashboard's CSP (which forbids the eval that string-form `waitForFunction` needs).
 */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
