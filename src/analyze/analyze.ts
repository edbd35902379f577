// `waypoint analyze`: turns compile diagnostics and status into istioctl-analyze-style messages. It maps what
// compile already found (diagnostics, route and Service binding status) and recomputes nothing.
import type { Diagnostic } from '../config/diagnostics.js';
import type { ConfigStatus } from '../config/status.js';
import { type Level, messageTypeFor, ROUTE_PARENT_NOT_BOUND, WAYPOINT_NOT_FOUND } from './message-catalog.js';

export interface AnalysisMessage {
  /** e.g. `IST0101` or `WPA0001`. */
  readonly code: string;
  readonly name: string;
  readonly level: Level;
  /** `Kind namespace/name`. */
  readonly resource: string | undefined;
  /** `file:line`, when known. */
  readonly origin: string | undefined;
  readonly field: string | undefined;
  readonly message: string;
  readonly fix: string;
}

export interface AnalyzeInput {
  readonly diagnostics: ReadonlyArray<Diagnostic>;
  readonly status: ConfigStatus;
  /** `namespace/name` of every Gateway in the config, whatever its class. */
  readonly gateways: ReadonlySet<string>;
}

const LEVEL: Readonly<Record<Diagnostic['severity'], Level>> = { error: 'Error', warning: 'Warning', info: 'Info' };

export function analyze(input: AnalyzeInput): AnalysisMessage[] {
  const out: AnalysisMessage[] = [];
  for (const d of input.diagnostics) {
    const type = messageTypeFor(d.code);
    out.push({
      code: type.code,
      name: type.code === 'WPA0000' ? d.code : type.name,
      level: type.level ?? LEVEL[d.severity],
      resource: d.resource,
      origin: d.file === undefined ? undefined : `${d.file}${d.line === undefined ? '' : `:${d.line}`}`,
      field: d.path,
      message: d.message,
      fix: type.fix,
    });
  }
  const binding = new Map(input.status.services.map((s) => [s.service, s]));
  for (const s of input.status.services) {
    if (s.waypoint === undefined || input.gateways.has(s.waypoint)) continue;
    out.push(fromType(WAYPOINT_NOT_FOUND, `Service ${s.service}`, 'metadata.labels', `the Service uses waypoint ${s.waypoint} (label on the ${s.source}), which does not exist`));
  }
  for (const r of input.status.routes) {
    r.parents.forEach((p, i) => {
      if (p.parentRef['kind'] !== 'Service') return;
      const key = `${String(p.parentRef['namespace'] ?? r.namespace)}/${String(p.parentRef['name'] ?? '')}`;
      const bound = binding.get(key);
      // A missing Service is already reported by compile (parent-not-found).
      if (bound === undefined || bound.waypoint !== undefined) return;
      out.push(fromType(ROUTE_PARENT_NOT_BOUND, `${r.kind} ${r.namespace}/${r.name}`, `spec.parentRefs[${i}]`,
        `parent Service ${key} is not bound to any waypoint, so this route has no effect on mesh traffic`));
    });
  }
  return out.sort(compareMessages);
}

function fromType(type: { code: string; name: string; level?: Level; fix: string }, resource: string, field: string, message: string): AnalysisMessage {
  return { code: type.code, name: type.name, level: type.level ?? 'Warning', resource, origin: undefined, field, message, fix: type.fix };
}

const RANK: Readonly<Record<Level, number>> = { Error: 0, Warning: 1, Info: 2 };

function compareMessages(a: AnalysisMessage, b: AnalysisMessage): number {
  return RANK[a.level] - RANK[b.level] || cmp(a.resource ?? '', b.resource ?? '') || cmp(a.code, b.code) || cmp(a.field ?? '', b.field ?? '') || cmp(a.message, b.message);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** istioctl analyze's line format: `Error [IST0101] (HTTPRoute ns/name file:line) message`, then field and fix. */
export function formatMessage(m: AnalysisMessage): string {
  const where = [m.resource, m.origin].filter((x) => x !== undefined).join(' ');
  const field = m.field === undefined ? '' : `\n    field: ${m.field}`;
  return `${m.level} [${m.code}] (${where}) ${m.message}${field}\n    fix: ${m.fix}\n`;
}
