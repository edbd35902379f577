// Istio's standard metric labels: the workload metadata they are made of, their order (istio/proxy
// istio_stats.cc) and their values when something is unknown. Label text is built once per source
// peer or destination endpoint, never per request.
import { escapeLabelValue } from './exposition.js';

/** What Istio knows about a workload (peer metadata), as metric labels read it. */
export interface WorkloadMeta {
  readonly workload: string;
  readonly namespace: string;
  readonly principal: string;
  readonly app: string;
  readonly version: string;
  readonly canonicalService: string;
  readonly canonicalRevision: string;
  readonly cluster: string;
}

/** Missing metadata renders as `unknown`, except the canonical revision, which defaults to `latest`. */
export const UNKNOWN_WORKLOAD: WorkloadMeta = Object.freeze({
  workload: 'unknown',
  namespace: 'unknown',
  principal: 'unknown',
  app: 'unknown',
  version: 'unknown',
  canonicalService: 'unknown',
  canonicalRevision: 'latest',
  cluster: 'unknown',
});

/** The destination Service of a request, from the upstream cluster (or the listener's Service). */
export interface DestinationService {
  readonly hostname: string;
  readonly name: string;
  readonly namespace: string;
}

export type SecurityPolicy = 'mutual_tls' | 'none' | 'unknown';

const label = (name: string, value: string): string => `${name}="${escapeLabelValue(value)}"`;

/** `reporter` and the nine source_* labels, in Istio's order. */
export function sourceLabelText(src: WorkloadMeta): string {
  return [
    label('reporter', 'waypoint'),
    label('source_workload', src.workload),
    label('source_canonical_service', src.canonicalService),
    label('source_canonical_revision', src.canonicalRevision),
    label('source_workload_namespace', src.namespace),
    label('source_principal', src.principal),
    label('source_app', src.app),
    label('source_version', src.version),
    label('source_cluster', src.cluster),
  ].join(',');
}

/** The eleven destination_* labels, in Istio's order. */
export function destinationLabelText(dst: WorkloadMeta, svc: DestinationService, cluster: string): string {
  return [
    label('destination_workload', dst.workload),
    label('destination_workload_namespace', dst.namespace),
    label('destination_principal', dst.principal),
    label('destination_app', dst.app),
    label('destination_version', dst.version),
    label('destination_service', svc.hostname),
    label('destination_canonical_service', dst.canonicalService),
    label('destination_canonical_revision', dst.canonicalRevision),
    label('destination_service_name', svc.name),
    // Istio's testdata (server_waypoint_proxy_request_total) reports the Service's namespace here.
    label('destination_service_namespace', svc.namespace),
    label('destination_cluster', cluster),
  ].join(',');
}

/** `spiffe://td/ns/<ns>/sa/<sa>` → `<ns>`. */
export function namespaceOfPrincipal(principal: string): string | undefined {
  const m = /\/ns\/([^/]+)\//.exec(principal);
  return m?.[1];
}
