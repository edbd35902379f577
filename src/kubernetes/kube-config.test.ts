import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadKubeConfig } from './kube-config.js';

const kubeconfig = (server: string): string => `apiVersion: v1
kind: Config
current-context: c
clusters: [{name: k, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
`;

/** Runs `fn` with these environment variables set (undefined: unset), restoring them afterwards. */
async function withEnv(vars: Record<string, string | undefined>, fn: () => void | Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try {
    await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

test('credentials: --kubeconfig, then $KUBECONFIG, then the in-cluster service account', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubeconfig-'));
  try {
    const flag = path.join(dir, 'flag.yaml');
    const env = path.join(dir, 'env.yaml');
    await writeFile(flag, kubeconfig('https://flag.example:6443'));
    await writeFile(env, kubeconfig('https://env.example:6443'));
    await withEnv({ KUBECONFIG: env, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, () => {
      assert.equal(loadKubeConfig(flag).kc.getCurrentCluster()?.server, 'https://flag.example:6443');
      assert.equal(loadKubeConfig(undefined).kc.getCurrentCluster()?.server, 'https://env.example:6443');
    });
    await withEnv({ KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, () => {
      const loaded = loadKubeConfig(undefined);
      assert.equal(loaded.kc.getCurrentCluster()?.server, 'https://10.96.0.1:443');
      assert.match(loaded.from, /in-cluster service account/);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
