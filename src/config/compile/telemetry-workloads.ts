// Workload metadata for Istio's metric labels, from Pods: the workload name (the Deployment, CronJob or
// other controller that owns the Pod, as Istio derives it), the app/version and canonical-service labels,
// and the SPIFFE principal of its service account. Built once per snapshot.
import { type DestinationService, destinationLabelText, UNKNOWN_WORKLOAD, type WorkloadMeta } from '../../observability/istio-labels.js';
import type { DestinationLabels } from '../../observability/istio-metrics.js';
import type { ClusterTelemetry } from '../../observability/telemetry-config.js';
import type { PodSpec } from '../model/pod.js';
import type { ClusterConfig } from '../snapshot.js';
import type { Valid } from '../validate/validate.js';

/** Istio's default cluster id (`CLUSTER_ID`), reported as destination_cluster and for local Pods. */
export const DEFAULT_CLUSTER_ID = 'Kubernetes';

const CANONICAL_NAME = 'service.istio.io/canonical-name';
const CANONICAL_REVISION = 'service.istio.io/canonical-revision';
const APP_NAME = 'app.kubernetes.io/name';
const APP_VERSION = 'app.kubernetes.io/version';

interface OwnerReference {
  readonly kind: string;
  readonly name: string;
  readonly controller: boolean;
}

/** The metadata Istio's peer metadata would carry for this Pod. */
export function podWorkloadMeta(pod: Valid<PodSpec>, trustDomain: string, cluster: string): WorkloadMeta {
  const labels = pod.raw.metadata.labels;
  const workload = workloadName(pod.raw.metadata.name, controllerOf(pod.raw.object['metadata']), labels['pod-template-hash']);
  const namespace = pod.raw.metadata.namespace;
  return Object.freeze({
    workload,
    namespace,
    principal: `spiffe://${trustDomain}/ns/${namespace}/sa/${pod.spec.serviceAccountName ?? 'default'}`,
    app: labels['app'] ?? labels[APP_NAME] ?? UNKNOWN_WORKLOAD.app,
    version: labels['version'] ?? labels[APP_VERSION] ?? UNKNOWN_WORKLOAD.version,
    // Istio's canonical service: the label, else app.kubernetes.io/name, else app, else the workload name.
    canonicalService: labels[CANONICAL_NAME] ?? labels[APP_NAME] ?? labels['app'] ?? workload,
    canonicalRevision: labels[CANONICAL_REVISION] ?? labels[APP_VERSION] ?? labels['version'] ?? UNKNOWN_WORKLOAD.canonicalRevision,
    cluster,
  });
}

/**
 * As Istio names workloads: a ReplicaSet owner stands for its Deployment (the name without the
 * `-<pod-template-hash>` suffix), a Job named `<cronjob>-<digits>` for its CronJob, other controllers by
 * their own name, and a Pod without a controller by its own name.
 */
export function workloadName(podName: string, owner: OwnerReference | undefined, templateHash: string | undefined): string {
  if (owner === undefined) return podName;
  if (owner.kind === 'ReplicaSet') {
    if (templateHash !== undefined && owner.name.endsWith(`-${templateHash}`)) return owner.name.slice(0, -templateHash.length - 1);
    const dash = owner.name.lastIndexOf('-');
    return dash > 0 ? owner.name.slice(0, dash) : owner.name;
  }
  if (owner.kind === 'Job') {
    const m = /^(.+)-\d+$/.exec(owner.name);
    return m?.[1] ?? owner.name;
  }
  return owner.name;
}

function controllerOf(metadata: unknown): OwnerReference | undefined {
  if (!isRecord(metadata) || !Array.isArray(metadata['ownerReferences'])) return undefined;
  const refs: OwnerReference[] = [];
  for (const r of metadata['ownerReferences'] as unknown[]) {
    if (isRecord(r) && typeof r['kind'] === 'string' && typeof r['name'] === 'string') refs.push({ kind: r['kind'], name: r['name'], controller: r['controller'] === true });
  }
  return refs.find((r) => r.controller) ?? refs[0];
}

/** `status.podIP` and `status.podIPs[].ip` of a Pod, as given. */
export function podIps(pod: Valid<PodSpec>): string[] {
  const status = pod.raw.object['status'];
  if (!isRecord(status)) return [];
  const out = new Set<string>();
  if (typeof status['podIP'] === 'string' && status['podIP'] !== '') out.add(status['podIP']);
  if (Array.isArray(status['podIPs'])) for (const p of status['podIPs'] as unknown[]) if (isRecord(p) && typeof p['ip'] === 'string') out.add(p['ip']);
  return [...out];
}

export function workloadsByIp(pods: ReadonlyMap<string, Valid<PodSpec>>, trustDomain: string, cluster: string): Map<string, WorkloadMeta> {
  const out = new Map<string, WorkloadMeta>();
  for (const pod of [...pods.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const meta = podWorkloadMeta(pod, trustDomain, cluster);
    for (const ip of podIps(pod)) if (!out.has(ip)) out.set(ip, meta);
  }
  return out;
}

/**
 * destination_* label sets for every cluster: one per endpoint (its Pod's metadata, or what the
 * EndpointSlice's targetRef says) and one for the Service itself. Identical label texts share one object.
 */
export function destinationTables(
  clusters: Iterable<ClusterConfig>,
  pods: ReadonlyMap<string, Valid<PodSpec>>,
  trustDomain: string,
  cluster: string,
): Map<string, ClusterTelemetry> {
  const shared = new Map<string, DestinationLabels>();
  const labels = (meta: WorkloadMeta, svc: DestinationService): DestinationLabels => {
    const text = destinationLabelText(meta, svc, cluster);
    let d = shared.get(text);
    if (d === undefined) shared.set(text, (d = Object.freeze({ text, meta })));
    return d;
  };
  const podMeta = new Map<string, WorkloadMeta>();
  const out = new Map<string, ClusterTelemetry>();
  for (const c of clusters) {
    const svc = destinationService(c);
    const endpoints = new Map<string, DestinationLabels>();
    for (const e of c.endpoints) endpoints.set(e.key, labels(endpointMeta(e.workload, pods, podMeta, trustDomain, cluster), svc));
    out.set(c.id, Object.freeze({ service: labels(UNKNOWN_WORKLOAD, svc), endpoints }));
  }
  return out;
}

export function destinationService(c: Pick<ClusterConfig, 'service' | 'hostname'>): DestinationService {
  const slash = c.service.indexOf('/');
  return { hostname: c.hostname, namespace: c.service.slice(0, slash), name: c.service.slice(slash + 1) };
}

/** `Pod ns/name` (EndpointConfig.workload) → the Pod's metadata; without the Pod, only its namespace is known. */
function endpointMeta(workload: string | undefined, pods: ReadonlyMap<string, Valid<PodSpec>>, cache: Map<string, WorkloadMeta>, trustDomain: string, cluster: string): WorkloadMeta {
  if (workload === undefined) return UNKNOWN_WORKLOAD;
  const space = workload.indexOf(' ');
  const kind = workload.slice(0, space);
  const key = workload.slice(space + 1);
  const pod = kind === 'Pod' ? pods.get(key) : undefined;
  if (pod === undefined) return Object.freeze({ ...UNKNOWN_WORKLOAD, namespace: key.slice(0, key.indexOf('/')) });
  let meta = cache.get(key);
  if (meta === undefined) cache.set(key, (meta = podWorkloadMeta(pod, trustDomain, cluster)));
  return meta;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function destinationLabelsFor(meta: WorkloadMeta, svc: DestinationService, cluster: string): DestinationLabels {
  return Object.freeze({ text: destinationLabelText(meta, svc, cluster), meta });
}
