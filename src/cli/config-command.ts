// `waypoint config routes|clusters|listeners|policies [-o json]`: the running waypoint's effective
// configuration (its /config_dump) as tables, like `istioctl proxy-config`, or the section as JSON.
import { adminGet, arr, type Json, obj, str, table } from '../admin/admin-client.js';

export type ConfigSection = 'routes' | 'clusters' | 'listeners' | 'policies';
export const CONFIG_SECTIONS: ReadonlyArray<ConfigSection> = ['routes', 'clusters', 'listeners', 'policies'];

type Write = (s: string) => void;

export async function configCommand(o: { readonly admin: string; readonly section: ConfigSection; readonly output: 'table' | 'json' }, out: Write, err: Write): Promise<number> {
  try {
    const res = await adminGet(o.admin, '/config_dump');
    if (res.status !== 200) {
      err(`error: /config_dump answered ${res.status}: ${res.body}`);
      return 1;
    }
    const dump = JSON.parse(res.body) as Json;
    out(o.output === 'json' ? `${JSON.stringify(sectionJson(dump, o.section), null, 2)}\n` : renderSection(dump, o.section));
    return 0;
  } catch (e) {
    err(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

function sectionJson(dump: Json, section: ConfigSection): Json {
  const d = obj(dump);
  if (section === 'policies') return { authorization: d['authorization'] ?? [], status: obj(d['status'])['authorizationPolicies'] ?? [] };
  if (section === 'routes') return { services: d['services'], status: obj(d['status'])['routes'] ?? [] };
  return d[section];
}

export function renderSection(dump: Json, section: ConfigSection): string {
  const d = obj(dump);
  switch (section) {
    case 'listeners':
      return table(['ADDRESS', 'SERVICE', 'PORT', 'PROTOCOL', 'BIND'], arr(d['listeners']).map((l) => {
        const x = obj(l);
        return [str(x['address']), str(x['service']), str(x['port']), str(x['protocol']), str(x['bind']) || 'local'];
      }));
    case 'clusters':
      return table(['CLUSTER', 'PROTOCOL', 'ENDPOINTS', 'LB'], arr(d['clusters']).map((c) => {
        const x = obj(c);
        const eps = arr(x['endpoints']).map((e) => str(obj(e)['address']));
        return [str(x['id']), str(x['protocol']), eps.join(',') || '(none)', str(obj(x['lbPolicy'])['policy'] ?? x['lbPolicy']) || '-'];
      }));
    case 'policies':
      return table(['POLICY', 'ACTION', 'ENFORCED BY', 'STATUS'], arr(obj(d['status'])['authorizationPolicies']).map((p) => {
        const x = obj(p);
        return [`${str(x['namespace'])}/${str(x['name'])}`, str(x['action']), str(x['enforcedBy']), str(x['reason'])];
      }));
    case 'routes':
      return renderRoutes(d);
  }
}

function renderRoutes(d: Record<string, Json>): string {
  const accepted = new Map<string, string>();
  for (const r of arr(obj(d['status'])['routes'])) {
    const x = obj(r);
    const conds = arr(obj(arr(x['parents'])[0])['conditions']).map(obj);
    const acc = conds.find((c) => c['type'] === 'Accepted');
    accepted.set(`${str(x['namespace'])}/${str(x['name'])}`, acc === undefined ? '?' : acc['status'] === 'True' ? 'Accepted' : `Rejected (${str(acc['reason'])})`);
  }
  const rows: string[][] = [];
  for (const s of arr(d['services'])) {
    const svc = obj(s);
    for (const p of arr(svc['ports'])) {
      const port = obj(p);
      const where = `${str(svc['service'])}:${str(port['port'])}`;
      const routing = obj(port['routing']);
      if (routing['kind'] === 'service-default') {
        rows.push([where, '(service default)', '*', str(routing['cluster']), '-']);
        continue;
      }
      const entries: Array<readonly [string, Json]> = arr(routing['producer']).map((e) => ['', e] as const);
      for (const [ns, table] of Object.entries(obj(routing['consumers']))) for (const e of arr(table)) entries.push([ns, e] as const);
      for (const [ns, e] of entries) {
        const x = obj(e);
        rows.push([where + (ns === '' ? '' : ` (from ${ns})`), str(x['name']), matchText(x['when']), actionText(x['action']), accepted.get(str(x['route'])) ?? '-']);
      }
    }
  }
  return table(['SERVICE:PORT', 'ROUTE', 'MATCH', 'BACKENDS', 'STATUS'], rows);
}

function matchText(when: Json): string {
  const w = obj(when);
  const parts: string[] = [];
  const path = obj(w['path']);
  if (path['value'] !== undefined) parts.push(`${str(path['type']) === 'Exact' ? '=' : str(path['type']) === 'RegularExpression' ? '~' : ''}${str(path['value'])}${str(path['type']) === 'PathPrefix' ? '*' : ''}`);
  if (w['method'] !== undefined) parts.push(str(w['method']));
  for (const h of arr(w['headers'])) parts.push(`${str(obj(h)['name'])}=${str(obj(h)['value'])}`);
  for (const q of arr(w['queryParams'])) parts.push(`?${str(obj(q)['name'])}=${str(obj(q)['value'])}`);
  return parts.join(' ');
}

function actionText(action: Json): string {
  const a = obj(action);
  if (a['direct'] !== undefined) return `direct ${str(a['direct'])}`;
  const targets = arr(a['backends']).map((t) => {
    const x = obj(t);
    return x['invalid'] !== undefined ? `invalid(${str(x['invalid'])})` : `${str(x['cluster'])}${x['weight'] === 1 ? '' : ` w=${str(x['weight'])}`}`;
  });
  return targets.join(', ') || '-';
}
