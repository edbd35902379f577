// Options of `waypoint run --kubernetes` (kept apart from kubernetes-mode.ts so file mode never loads
// the Kubernetes client library).
import type { HostPort } from '../admin/admin-server.js';

export interface KubernetesTiming {
  /** Quiet period after a watch event before reloading. */
  readonly reloadDebounceMs: number;
  /** Server-side watch timeout is this times 1..2; a silent watch is dropped after it plus watchIdleGraceMs. */
  readonly minWatchSeconds: number;
  readonly watchConnectTimeoutMs: number;
  readonly watchIdleGraceMs: number;
  /** First retry delay after a list/watch error (doubles up to 30 s). */
  readonly backoffMs: number;
  /** How often a kind the API server does not serve (CRD missing) is asked for again. */
  readonly absentRetryMs: number;
  readonly requestTimeoutMs: number;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly statusDebounceMs: number;
}

export const DEFAULT_KUBERNETES_TIMING: KubernetesTiming = {
  reloadDebounceMs: 200,
  minWatchSeconds: 300,
  watchConnectTimeoutMs: 30_000,
  watchIdleGraceMs: 30_000,
  backoffMs: 500,
  absentRetryMs: 60_000,
  requestTimeoutMs: 60_000,
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
  statusDebounceMs: 200,
};

export interface KubernetesRunOptions {
  /** `--kubeconfig`; else $KUBECONFIG, the in-cluster service account, ~/.kube/config. */
  readonly kubeconfig: string | undefined;
  /** `--no-write-status` turns it off (read-only, e.g. a debugging copy next to the real waypoint). */
  readonly writeStatus: boolean;
  /** Namespace of the leader-election Lease: flag, else $POD_NAMESPACE, else the Pod's own, else the Gateway's. */
  readonly leaderElectionNamespace: string | undefined;
  /** `--health-address`: `/healthz/ready` on Istio's readiness port (15021), up while the cache syncs. */
  readonly healthAddress: HostPort | undefined;
  readonly timing?: Partial<KubernetesTiming>;
}

/** `--kubernetes` and its companions from parsed flags, or why they do not go together. */
export function kubernetesFromFlags(opts: Readonly<Record<string, unknown>>): { readonly ok: true; readonly value: KubernetesRunOptions | undefined } | { readonly ok: false; readonly message: string } {
  const config = Array.isArray(opts['config']) ? opts['config'] : [];
  const str = (k: string): string | undefined => (typeof opts[k] === 'string' ? opts[k] : undefined);
  const healthAddress = opts['healthAddress'] as HostPort | undefined;
  if (opts['kubernetes'] !== true) {
    if (config.length === 0) return { ok: false, message: 'give the configuration with --config PATH, or read it from a cluster with --kubernetes' };
    const stray = [['kubeconfig', '--kubeconfig'], ['leaderElectionNamespace', '--leader-election-namespace'], ['healthAddress', '--health-address']].find(([k]) => opts[k ?? ''] !== undefined);
    if (stray !== undefined) return { ok: false, message: `${stray[1] ?? ''} needs --kubernetes` };
    if (opts['writeStatus'] === false) return { ok: false, message: '--no-write-status needs --kubernetes' };
    return { ok: true, value: undefined };
  }
  if (config.length > 0) return { ok: false, message: '--config and --kubernetes do not go together: the configuration comes from the API server' };
  return { ok: true, value: { kubeconfig: str('kubeconfig'), writeStatus: opts['writeStatus'] !== false, leaderElectionNamespace: str('leaderElectionNamespace'), healthAddress } };
}
