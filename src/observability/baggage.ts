// The W3C `baggage` header as ztunnel sends it on HBONE CONNECT (source workload metadata for the
// source_* metric labels). Untrusted input: anything oversized or malformed is ignored whole.

/** The keys Istio reads from baggage (istio/proxy extensions/common/metadata_object.h). */
export interface BaggageMetadata {
  readonly namespace: string | undefined;
  readonly cluster: string | undefined;
  /** `service.name`: the canonical service. */
  readonly service: string | undefined;
  /** `service.version`: the canonical revision. */
  readonly revision: string | undefined;
  readonly app: string | undefined;
  readonly version: string | undefined;
  /** Workload name from `k8s.deployment.name`, `k8s.job.name`, `k8s.cronjob.name` or `k8s.pod.name`. */
  readonly workload: string | undefined;
}

/** W3C Baggage: "a maximum of 64 list-members" and "a maximum of 8192 bytes" per header. */
export const MAX_BAGGAGE_BYTES = 8192;
export const MAX_BAGGAGE_MEMBERS = 64;

const KEY = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Values become metric labels: only what Kubernetes names and versions use, so nothing can explode them. */
const SAFE_VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,252})?$/;

const WORKLOAD_KEYS: ReadonlyArray<string> = ['k8s.deployment.name', 'k8s.cronjob.name', 'k8s.job.name', 'k8s.pod.name'];
const READ_KEYS: ReadonlySet<string> = new Set(['k8s.namespace.name', 'k8s.cluster.name', 'service.name', 'service.version', 'app.name', 'app.version', ...WORKLOAD_KEYS]);

/** Parses `baggage`; undefined when absent, too large, malformed, or carrying an unsafe value for a key we read. */
export function parseBaggage(header: string | undefined): BaggageMetadata | undefined {
  if (header === undefined || header === '' || header.length > MAX_BAGGAGE_BYTES) return undefined;
  const members = header.split(',');
  if (members.length > MAX_BAGGAGE_MEMBERS) return undefined;
  const values = new Map<string, string>();
  for (const member of members) {
    const pair = member.split(';', 1)[0] ?? '';
    const eq = pair.indexOf('=');
    if (eq <= 0) return undefined;
    const key = pair.slice(0, eq).trim();
    if (!KEY.test(key)) return undefined;
    if (!READ_KEYS.has(key)) continue;
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
    if (!SAFE_VALUE.test(value)) return undefined;
    if (!values.has(key)) values.set(key, value);
  }
  let workload: string | undefined;
  for (const k of WORKLOAD_KEYS) {
    workload = values.get(k);
    if (workload !== undefined) break;
  }
  return Object.freeze({
    namespace: values.get('k8s.namespace.name'),
    cluster: values.get('k8s.cluster.name'),
    service: values.get('service.name'),
    revision: values.get('service.version'),
    app: values.get('app.name'),
    version: values.get('app.version'),
    workload,
  });
}
