// A real Waypoint for the WasmPlugin end-to-end tests: config from a temp directory, its own Wasm module cache
// directory, a file server for modules, and helpers to wait for a plugin's module to settle.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Waypoint } from '../../src/app/waypoint.js';
import type { WasmPortPlugin } from '../../src/config/compile/wasm-plugins.js';
import { FileSource } from '../../src/config/source/file-source.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { HttpExchange } from '../../src/proxy/http-exchange.js';

export interface WasmMesh {
  readonly waypoint: Waypoint;
  readonly dir: string;
  readonly cacheDir: string;
  readonly details: string[];
  write(name: string, yaml: string): Promise<void>;
  /** The plugin's entry on a Service port once its module is no longer pending. */
  settled(service: string, port: number, plugin: string): Promise<WasmPortPlugin>;
  diagnostics(plugin: string): string[];
  close(): Promise<void>;
}

export async function startWasmMesh(files: Readonly<Record<string, string>>, options: { retryMs?: number } = {}): Promise<WasmMesh> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-wasm-e2e-'));
  const cacheDir = path.join(dir, '.cache');
  const configDir = path.join(dir, 'config');
  await mkdir(configDir);
  for (const [name, yaml] of Object.entries(files)) await writeFile(path.join(configDir, name), yaml);
  const details: string[] = [];
  const waypoint = new Waypoint({
    source: new FileSource([configDir]),
    waypoint: undefined,
    clusterDomain: 'cluster.local',
    meshConfigFile: undefined,
    adminAddress: { host: '127.0.0.1', port: 0 },
    metricsAddress: undefined,
    hboneAddress: undefined,
    connectTimeoutMs: 2000,
    log: silentLogger,
    random: Math.random,
    observer: (ex: HttpExchange) => details.push(ex.details),
    wasm: { cacheDir, timeoutMs: 3000, ...(options.retryMs === undefined ? {} : { retryMs: options.retryMs }) },
  });
  await waypoint.start();
  return {
    waypoint, dir, cacheDir, details,
    async write(name, yaml) {
      await writeFile(path.join(configDir, name), yaml);
      await waypoint.reload();
    },
    async settled(service, port, plugin) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const entry = waypoint.store.current?.wasm?.ports.get(`${service}:${port}`)?.find((p) => p.plugin === plugin);
        if (entry !== undefined && entry.module.state !== 'pending') return entry;
        assert.ok(Date.now() < deadline, `module of ${plugin} still pending on ${service}:${port}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    diagnostics(plugin) {
      return (waypoint.store.current?.diagnostics ?? []).filter((d) => d.resource === `WasmPlugin ${plugin}`).map((d) => `${d.code}: ${d.message}`);
    },
    async close() {
      await waypoint.stop(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An HTTP server for module files that counts requests per path. */
export async function startModuleServer(files: Map<string, Uint8Array>): Promise<{ base: string; hits: Map<string, number>; close(): Promise<void> }> {
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const p = req.url ?? '';
    hits.set(p, (hits.get(p) ?? 0) + 1);
    const body = files.get(p);
    if (body === undefined) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/wasm');
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, hits, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

export function wasmPluginYaml(name: string, service: string, spec: string): string {
  return `---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: ${name}, namespace: default}
spec:
  targetRefs: [{kind: Service, group: "", name: ${service}}]
${spec}`;
}
