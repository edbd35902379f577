// `npm start`: a small mesh on this machine. Sample workloads on loopback addresses, the bundled
// config in examples/demo, and the waypoint serving their VIPs. Ctrl-C stops everything.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StartupError } from '../app/waypoint.js';
import { startWaypoint } from '../cli/run-command.js';
import { createLogger } from '../observability/logger.js';
import { createDevPki } from '../security/certs/dev-ca.js';
import { demoWorkloads, startWorkloads } from './workloads.js';

const configDir = fileURLToPath(new URL('../../../examples/demo/', import.meta.url));
const log = createLogger('text', (line) => process.stderr.write(line), 'info');

async function main(): Promise<number> {
  const servers = await startWorkloads(demoWorkloads({ reviews: '127.10.0.2' }));
  // A throwaway dev CA: the waypoint's own identity for HBONE, and a client identity for `waypoint request`.
  const pkiDir = mkdtempSync(path.join(os.tmpdir(), 'waypoint-demo-pki-'));
  const pki = await createDevPki(pkiDir, { waypoint: 'spiffe://cluster.local/ns/bookinfo/sa/waypoint', sleep: 'spiffe://cluster.local/ns/default/sa/sleep' });
  const hbonePort = Number(process.env['WAYPOINT_HBONE_PORT'] ?? 15008);
  let running;
  try {
    running = await startWaypoint({
      config: [configDir],
      waypoint: undefined,
      clusterDomain: 'cluster.local',
      meshConfigFile: undefined,
      adminAddress: { host: '127.0.0.1', port: Number(process.env['WAYPOINT_ADMIN_PORT'] ?? 15000) },
      metricsAddress: { host: '127.0.0.1', port: Number(process.env['WAYPOINT_METRICS_PORT'] ?? 15020) },
      hboneAddress: { host: '127.0.0.1', port: hbonePort },
      hbone: {
        identity: { certFile: pki.files['waypoint']?.certFile ?? '', keyFile: pki.files['waypoint']?.keyFile ?? '', trustBundleFile: pki.trustBundle, trustDomain: 'cluster.local' },
        upstreamPort: 15008,
        trustForwardedFrom: [],
      },
      drainTimeoutMs: 5000,
      connectTimeoutMs: 5000,
      watch: true,
      log,
    });
  } catch (err) {
    log.error(err instanceof StartupError ? err.message : String(err));
    for (const s of servers) s.close();
    rmSync(pkiDir, { recursive: true, force: true });
    return 1;
  }
  const admin = running.waypoint.adminAddress;
  process.stdout.write(`
waypoint demo mesh is up: config in ${configDir}

Services (VIPs served by the waypoint):
  productpage  127.10.0.1:9080   calls reviews through the waypoint
  reviews      127.10.0.2:9080   HTTPRoute: end-user=jason -> v2, else 90% v1 / 10% v2
  reviews-v1   127.10.0.3:9080
  reviews-v2   127.10.0.4:9080
  ratings      127.10.0.5:9080   no route: load-balanced over its own endpoints; read-only (AuthorizationPolicy)

Dashboard: http://${admin}/  (live traffic, routes, policies, recent denials)

Try:
  curl -s http://127.10.0.1:9080/productpage
  curl -s -H 'end-user: jason' http://127.10.0.1:9080/productpage
  for i in $(seq 20); do curl -s http://127.10.0.2:9080/ ; done | grep -o '"version":"v[12]"' | sort | uniq -c
  curl -s -X DELETE http://127.10.0.5:9080/ratings/0                # 403: denied by bookinfo/ratings-read-only
  curl -s http://${admin}/config_dump
  curl -s http://${admin}/healthz/ready

As a mesh workload (spiffe://cluster.local/ns/default/sa/sleep), through an HBONE tunnel on 127.0.0.1:${hbonePort}:
  node dist/src/main.js request --cert ${pkiDir}/sleep-cert.pem --key ${pkiDir}/sleep-key.pem \\
    --trust-bundle ${pki.trustBundle} --via 127.0.0.1:${hbonePort} GET http://127.10.0.1:9080/productpage
  node dist/src/main.js ca issue --dir ${pkiDir} --spiffe spiffe://cluster.local/ns/team-a/sa/app --out ${pkiDir}/app

Edit ${configDir}30-routes.yaml (for example the weights) and the change applies within a second.
Ctrl-C to stop.
`);
  return new Promise((resolve) => {
    const stop = (): void => {
      process.stdout.write('\nstopping...\n');
      void running.stop().then(() => {
        for (const s of servers) s.close();
        rmSync(pkiDir, { recursive: true, force: true });
        resolve(0);
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

process.exitCode = await main();
