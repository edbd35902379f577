// `waypoint status`: is the running waypoint ready, which Gateway it serves, which Services are enrolled,
// how many routes and policies apply, and the config diagnostics (like `istioctl waypoint status`).
import { adminGet, arr, type Json, obj, str, table } from '../admin/admin-client.js';

type Write = (s: string) => void;

export async function statusCommand(o: { readonly admin: string }, out: Write, err: Write): Promise<number> {
  try {
    const ready = await adminGet(o.admin, '/healthz/ready');
    const dump = await adminGet(o.admin, '/config_dump');
    const body = JSON.parse(dump.body) as Json;
    out(renderStatus(ready.status === 200, body));
    return ready.status === 200 ? 0 : 1;
  } catch (e) {
    err(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

export function renderStatus(ready: boolean, dump: Json): string {
  const d = obj(dump);
  const st = obj(d['status']);
  const lines: string[] = [];
  lines.push(`waypoint   ${str(d['waypoint']) || '(none)'}   ${ready ? 'READY' : 'NOT READY'}   config version ${str(d['version'])}`);
  const gws = arr(st['gateways']).map(obj);
  for (const g of gws) {
    const conds = arr(g['conditions']).map(obj).map((c) => `${str(c['type'])}=${str(c['status'])}`).join(' ');
    lines.push(`gateway    ${str(g['namespace'])}/${str(g['name'])}   ${conds}`);
  }
  lines.push('');
  lines.push(table(['SERVICE', 'SERVED HERE', 'WAYPOINT', 'BOUND'], arr(st['services']).map(obj).map((s) => {
    const bound = arr(s['conditions']).map(obj).find((c) => c['type'] === 'istio.io/WaypointBound');
    return [str(s['service']), s['servedHere'] === true ? 'yes' : 'no', str(s['waypoint']) || '-', bound === undefined ? '-' : `${str(bound['status'])} (${str(bound['reason'])})`];
  })).trimEnd());
  const routes = arr(st['routes']).map(obj);
  const acceptedRoutes = routes.filter((r) => arr(r['parents']).some((p) => arr(obj(p)['conditions']).map(obj).some((c) => c['type'] === 'Accepted' && c['status'] === 'True')));
  const policies = arr(st['authorizationPolicies']).map(obj);
  const diags = [...arr(d['latestDiagnostics'] ?? d['diagnostics'])].map(obj);
  const errors = diags.filter((x) => x['severity'] === 'error').length;
  const warnings = diags.filter((x) => x['severity'] === 'warning').length;
  lines.push('');
  lines.push(`routes     ${acceptedRoutes.length} accepted of ${routes.length}`);
  lines.push(`policies   ${policies.filter((p) => p['enforcedBy'] === 'this-waypoint').length} enforced here of ${policies.length}`);
  lines.push(`diagnostics ${errors} errors, ${warnings} warnings`);
  for (const x of diags.filter((y) => y['severity'] !== 'info')) lines.push(`  ${str(x['severity'])}: ${str(x['resource'])} ${str(x['message'])}`);
  return `${lines.join('\n')}\n`;
}
