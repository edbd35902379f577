// `waypoint validate`: compile the config once and print every diagnostic and route status.
import { compile } from '../config/compile/index.js';
import { formatDiagnostic, sortDiagnostics } from '../config/diagnostics.js';
import { loadConfigFiles } from '../config/source/files.js';
import { loadMeshConfig } from '../config/source/mesh-config-file.js';
import type { AuthorizationPolicyStatus, ConfigStatus } from '../config/status.js';
import { readTlsFiles } from '../upstream/tls/tls-files.js';

export interface ValidateOptions {
  readonly config: ReadonlyArray<string>;
  readonly waypoint: string | undefined;
  readonly clusterDomain: string;
  readonly meshConfigFile?: string | undefined;
  readonly output: 'text' | 'json';
}

/** Returns the process exit code: 0 when there is no error, 1 otherwise. */
export async function validateCommand(options: ValidateOptions, write: (s: string) => void): Promise<number> {
  const loaded = await loadConfigFiles(options.config);
  const mesh = await loadMeshConfig(options.meshConfigFile);
  // DestinationRule TLS files are checked as the running waypoint would read them.
  const tlsFiles = await readTlsFiles(loaded.resources);
  const result = compile(loaded.resources, { waypoint: options.waypoint, clusterDomain: options.clusterDomain, mesh: mesh.config, version: 1, tlsFiles });
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...mesh.diagnostics, ...result.diagnostics]);
  const status = result.ok ? result.snapshot.status : result.status;
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  if (options.output === 'json') {
    write(`${JSON.stringify({ valid: errors === 0, diagnostics, status }, null, 2)}\n`);
    return errors === 0 ? 0 : 1;
  }
  for (const d of diagnostics) write(`${formatDiagnostic(d)}\n`);
  write(renderStatus(status));
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  write(`\n${loaded.resources.length} resources, ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
  return errors === 0 ? 0 : 1;
}

export function renderStatus(status: ConfigStatus): string {
  let out = '';
  if (status.gateways.length > 0) out += '\nwaypoint:\n';
  for (const g of status.gateways) out += `  Gateway ${g.namespace}/${g.name}: ${g.conditions.map((c) => `${c.type}=${c.status}`).join(' ')}\n`;
  const served = status.services.filter((s) => s.servedHere);
  if (status.services.length > 0) out += '\nservices:\n';
  for (const s of status.services) {
    const how = s.servedHere ? `served here (label on ${s.source})` : s.waypoint === undefined ? 'no waypoint' : `uses ${s.waypoint} (not this waypoint)`;
    out += `  ${s.service}: ${how}\n`;
  }
  if (status.routes.length > 0) out += '\nroutes:\n';
  for (const r of status.routes) {
    out += `  ${r.kind} ${r.namespace}/${r.name}\n`;
    for (const p of r.parents) {
      const ref = `${p.parentRef['kind'] ?? ''} ${p.parentRef['namespace'] ?? r.namespace}/${p.parentRef['name'] ?? ''}${p.parentRef['port'] !== undefined ? `:${p.parentRef['port']}` : ''}`;
      out += `    parent ${ref}\n`;
      for (const c of p.conditions) out += `      ${c.type}=${c.status} (${c.reason}): ${c.message}\n`;
    }
  }
  if (served.length === 0 && status.gateways.length > 0) out += '\nno Service is bound to this waypoint (label it or its namespace with istio.io/use-waypoint)\n';
  out += renderPolicyStatus(status.authorizationPolicies ?? []);
  return out;
}

/** Authorization policies: where each is enforced (this waypoint, another, ztunnel, nowhere) and why. */
function renderPolicyStatus(policies: ReadonlyArray<AuthorizationPolicyStatus>): string {
  if (policies.length === 0) return '';
  let out = '\nauthorization policies:\n';
  for (const p of policies) {
    out += `  AuthorizationPolicy ${p.namespace}/${p.name} (${p.action}): ${p.enforcedBy} — ${p.reason}\n`;
    for (const c of p.conditions) out += `      ${c.type}=${c.status} (${c.reason})${c.message === '' ? '' : `: ${c.message}`}\n`;
  }
  return out;
}
