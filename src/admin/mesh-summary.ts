// `/debug/summary`: what the dashboard shows besides traffic (enrolled Services, routes and their status,
// policies and where they are enforced, diagnostics, admin exposure), as compact JSON. Built once per
// snapshot and diagnostics list, so any number of polling clients cost one serialization per reload.
import type { Diagnostic } from '../config/diagnostics.js';
import type { HttpRouting, RouteEntry, Snapshot } from '../config/snapshot.js';
import type { Condition } from '../config/status.js';
import type { AdminExposure } from './admin-exposure.js';

/** Diagnostics listed; the counts cover all of them. */
export const MAX_DIAGNOSTICS = 200;

interface RouteRule {
  /** Route entry name (`ns.name.rule`), the key of its traffic series in /debug/stats. */
  readonly entry: string;
  readonly service: string;
  readonly port: number;
  readonly rule: number;
  readonly match: string;
  readonly action: string;
}

export function buildSummary(snapshot: Snapshot | undefined, diagnostics: ReadonlyArray<Diagnostic>, exposure: AdminExposure | undefined): unknown {
  const counts = { error: 0, warning: 0, info: 0 };
  for (const d of diagnostics) counts[d.severity]++;
  const admin = exposure ?? { address: '', loopback: true, warning: undefined };
  const diag = {
    counts,
    items: diagnostics.slice(0, MAX_DIAGNOSTICS).map((d) => ({ severity: d.severity, code: d.code, resource: d.resource ?? null, file: d.file ?? null, line: d.line ?? null, path: d.path ?? null, message: d.message })),
  };
  if (snapshot === undefined) return { version: null, waypoint: null, admin, services: [], routes: [], policies: [], decisionHeader: null, diagnostics: diag };
  const rules = new Map<string, RouteRule[]>();
  const services = [...snapshot.services.values()].sort((a, b) => (a.key < b.key ? -1 : 1)).map((svc) => ({
    key: svc.key,
    hostname: svc.hostname,
    vip: svc.vip ?? null,
    ports: svc.ports.map((p) => {
      for (const e of entriesOf(p.http)) pushRule(rules, e, svc.key, p.port);
      return { port: p.port, name: p.name, protocol: p.protocol, routing: p.http.kind };
    }),
  }));
  const routes = snapshot.status.routes.map((r) => {
    const key = `${r.namespace}/${r.name}`;
    return {
      kind: r.kind,
      key,
      parents: r.parents.map((p) => ({ parent: parentLabel(p.parentRef), conditions: p.conditions.map(conditionSummary) })),
      rules: rules.get(key) ?? [],
    };
  });
  const policies = (snapshot.status.authorizationPolicies ?? []).map((p) => ({
    key: `${p.namespace}/${p.name}`,
    action: p.action,
    enforcedBy: p.enforcedBy,
    reason: p.reason,
    conditions: p.conditions.map(conditionSummary),
  }));
  const dh = snapshot.decisionHeader;
  return {
    version: snapshot.version,
    waypoint: snapshot.waypoint === undefined ? null : `${snapshot.waypoint.namespace}/${snapshot.waypoint.name}`,
    admin,
    services,
    routes,
    policies,
    decisionHeader: dh === undefined ? null : { trusted: [...dh.cidrs.map((c) => c.text), ...dh.principals] },
    diagnostics: diag,
  };
}

function entriesOf(http: HttpRouting): RouteEntry[] {
  if (http.kind === 'service-default') return [];
  const out = [...http.producer];
  for (const table of http.consumers.values()) out.push(...table);
  return out;
}

function pushRule(rules: Map<string, RouteRule[]>, e: RouteEntry, service: string, port: number): void {
  let list = rules.get(e.route);
  if (list === undefined) {
    list = [];
    rules.set(e.route, list);
  }
  list.push({ entry: e.name, service, port, rule: e.ruleIndex, match: matchLabel(e), action: actionLabel(e) });
}

function matchLabel(e: RouteEntry): string {
  if (e.grpc !== undefined) return `grpc ${JSON.stringify(e.grpc)}`;
  const m = e.matchSpec;
  const parts: string[] = [];
  if (m.path !== undefined) parts.push(`${m.path.type ?? 'PathPrefix'} ${m.path.value ?? '/'}`);
  if (m.method !== undefined) parts.push(m.method);
  for (const h of m.headers ?? []) parts.push(`${h.name}${h.type === 'RegularExpression' ? '~' : '='}${h.value}`);
  for (const q of m.queryParams ?? []) parts.push(`?${q.name}${q.type === 'RegularExpression' ? '~' : '='}${q.value}`);
  return parts.join(' ');
}

function actionLabel(e: RouteEntry): string {
  const a = e.action;
  if (a.kind === 'direct') return `${a.status} ${a.details}`;
  return a.backends.targets.map((t) => (t.kind === 'cluster' ? `${t.cluster.service}:${t.cluster.port} (${t.weight})` : `invalid: ${t.reason} (${t.weight})`)).join(', ');
}

function parentLabel(ref: Readonly<Record<string, string | number>>): string {
  const kind = ref['kind'] ?? 'Service';
  const ns = ref['namespace'] === undefined ? '' : `${ref['namespace']}/`;
  const port = ref['port'] === undefined ? '' : `:${ref['port']}`;
  const section = ref['sectionName'] === undefined ? '' : `#${ref['sectionName']}`;
  return `${kind} ${ns}${ref['name'] ?? ''}${port}${section}`;
}

function conditionSummary(c: Condition): { type: string; status: string; reason: string; message: string } {
  return { type: c.type, status: c.status, reason: c.reason, message: c.message };
}
