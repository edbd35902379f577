// Finds the API server credentials: `--kubeconfig`, else $KUBECONFIG, else the in-cluster service
// account (when running in a Pod), else ~/.kube/config — the order kubectl and client-go use.
import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadedKubeConfig {
  readonly kc: KubeConfig;
  /** Where the credentials came from, for the startup log. */
  readonly from: string;
  /** The Pod's namespace when running in-cluster (the service account's namespace file). */
  readonly inClusterNamespace: string | undefined;
}

export function loadKubeConfig(kubeconfig: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedKubeConfig {
  const kc = new KubeConfig();
  let from: string;
  if (kubeconfig !== undefined) {
    kc.loadFromFile(kubeconfig);
    from = kubeconfig;
  } else if ((env['KUBECONFIG'] ?? '') !== '') {
    kc.loadFromDefault();
    from = `$KUBECONFIG (${env['KUBECONFIG'] ?? ''})`;
  } else if ((env['KUBERNETES_SERVICE_HOST'] ?? '') !== '') {
    // The token file is re-read by client-node, so rotated (bound) service account tokens keep working.
    kc.loadFromCluster();
    from = 'in-cluster service account';
  } else {
    kc.loadFromDefault();
    from = '~/.kube/config';
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null || cluster.server === '') throw new Error(`no API server in the Kubernetes config from ${from}`);
  return { kc, from: `${from}, server ${cluster.server}`, inClusterNamespace: readNamespaceFile() };
}

function readNamespaceFile(): string | undefined {
  const file = `${SA_DIR}/namespace`;
  if (!existsSync(file)) return undefined;
  const ns = readFileSync(file, 'utf8').trim();
  return ns === '' ? undefined : ns;
}
