// deploy/ and the Dockerfile, checked without a cluster: the kustomization renders (with `kubectl
// kustomize` when a kubectl with kustomize >= v4 is installed, and always with a small renderer that
// the kubectl output, when there is one, must equal); every object passes the Kubernetes OpenAPI
// schema of its kind (kubernetes-models); ports, probes, flags, RBAC and names agree with each other
// and with the code.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Gateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import { GatewayClass } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { API_RESOURCES, watchedResources } from '../../src/config/source/kubernetes/api-resources.js';
import { OWN_GATEWAY_CLASS } from '../../src/config/model/gateway.js';
import { WAYPOINT_CONTROLLER_NAME } from '../../src/kubernetes/status/gateway-status.js';
import { statusKinds } from '../../src/kubernetes/status/status-writer.js';

type Obj = Record<string, unknown>;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPLOY = path.join(ROOT, 'deploy');
const MAIN = path.join(ROOT, 'dist/src/main.js');

/** Kinds kustomize knows to be cluster-scoped (it namespaces every kind it does not know, CRDs included). */
const KUSTOMIZE_CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);
const CLUSTER_SCOPED = new Set([...KUSTOMIZE_CLUSTER_SCOPED, 'GatewayClass']);

function docs(text: string): Obj[] {
  return parseAllDocuments(text).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as Obj;
  }).filter((o) => o !== null);
}

const meta = (o: Obj): Obj => (o['metadata'] ?? {}) as Obj;
const spec = (o: Obj): Obj => (o['spec'] ?? {}) as Obj;

/** The subset of kustomize this repository uses: resources (files, directories), namespace, images. */
function render(dir: string): Obj[] {
  const k = docs(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'))[0] ?? {};
  const out: Obj[] = [];
  for (const r of (k['resources'] ?? []) as string[]) {
    const p = path.join(dir, r);
    out.push(...(statSync(p).isDirectory() ? render(p) : docs(readFileSync(p, 'utf8'))));
  }
  const ns = k['namespace'];
  if (typeof ns === 'string') {
    for (const o of out) {
      if (!KUSTOMIZE_CLUSTER_SCOPED.has(String(o['kind']))) meta(o)['namespace'] = ns;
      for (const s of (o['subjects'] ?? []) as Obj[]) if (s['kind'] === 'ServiceAccount' && s['namespace'] === undefined) s['namespace'] = ns;
    }
  }
  for (const img of (k['images'] ?? []) as Obj[]) {
    for (const o of out) {
      const containers = ((spec(spec(o)['template'] as Obj ?? {})['containers']) ?? []) as Obj[];
      for (const c of containers) if (c['image'] === img['name']) c['image'] = `${String(img['newName'] ?? img['name'])}:${String(img['newTag'] ?? 'latest')}`;
    }
  }
  return out;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) return `{${Object.keys(v).sort().map((k) => `${k}:${canonical((v as Obj)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

const byId = (objs: Obj[]): string[] => objs.map(canonical).sort();

/** `kubectl kustomize` when kubectl has kustomize v4 or newer (Debian's kubectl 1.20 has v2, too old). */
function kubectlRender(): { objs: Obj[]; version: string } | undefined {
  const v = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  const version = /Kustomize Version: v(\d+)[.\d]*/.exec(v.stdout ?? '');
  if (v.status !== 0 || version === null || Number(version[1]) < 4) return undefined;
  const r = spawnSync('kubectl', ['kustomize', DEPLOY], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { objs: docs(r.stdout), version: version[0] };
}

const rendered = render(DEPLOY);
const find = (kind: string, name?: string): Obj => {
  const o = rendered.find((x) => x['kind'] === kind && (name === undefined || meta(x)['name'] === name));
  assert.ok(o !== undefined, `${kind} ${name ?? ''} is in deploy/`);
  return o;
};
const deployment = find('Deployment');
const pod = spec(deployment)['template'] as Obj;
const container = (spec(pod)['containers'] as Obj[])[0] ?? {};
const args = (container['args'] ?? []) as string[];
const flag = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const portOf = (hostPort: string | undefined): number => Number(hostPort?.split(':').pop());
const containerPorts = (container['ports'] ?? []) as Obj[];

test('kubectl kustomize renders deploy/ exactly as the built-in renderer does (when kubectl is installed)', (t) => {
  const real = kubectlRender();
  if (real === undefined) {
    t.diagnostic('no kubectl with kustomize >= v4 installed: only the built-in renderer was used');
    return;
  }
  t.diagnostic(`rendered with kubectl (${real.version})`);
  assert.deepEqual(byId(real.objs), byId(rendered));
});

const MODELS: Readonly<Record<string, new (o: never) => { validate(): void }>> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'gateway.networking.k8s.io/v1/Gateway': Gateway,
  'gateway.networking.k8s.io/v1/GatewayClass': GatewayClass,
};

test('every object passes its kind\'s OpenAPI schema and is scoped right', () => {
  assert.deepEqual(rendered.map((o) => String(o['kind'])).sort(), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Gateway', 'GatewayClass', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
  for (const o of rendered) {
    const id = `${String(o['apiVersion'])}/${String(o['kind'])}`;
    const Model = MODELS[id];
    assert.ok(Model !== undefined, `no schema for ${id}`);
    new Model(o as never).validate();
    assert.equal(meta(o)['namespace'] === undefined, CLUSTER_SCOPED.has(String(o['kind'])), `${id} ${String(meta(o)['name'])} namespace`);
  }
});

test('ports, probes and Prometheus annotations agree with the waypoint flags (Istio layout)', () => {
  const named = (name: unknown): number | undefined => (typeof name === 'number' ? name : containerPorts.find((p) => p['name'] === name)?.['containerPort'] as number | undefined);
  const probe = (container['readinessProbe'] as Obj)['httpGet'] as Obj;
  assert.equal(probe['path'], '/healthz/ready');
  assert.equal(named(probe['port']), portOf(flag('health-address')));
  assert.equal(portOf(flag('health-address')), 15021);
  assert.equal(portOf(flag('metrics-address')), 15020);
  assert.equal(portOf(flag('hbone-address')), 15008);
  assert.equal(flag('admin-address'), '127.0.0.1:15000', 'admin stays on loopback');
  assert.deepEqual(containerPorts.map((p) => p['containerPort']).sort(), [15008, 15020, 15021], 'admin (15000) is not exposed');
  const annotations = meta(pod)['annotations'] as Obj;
  assert.deepEqual([annotations['prometheus.io/scrape'], annotations['prometheus.io/port'], annotations['prometheus.io/path']], ['true', String(portOf(flag('metrics-address'))), '/stats/prometheus']);
  const svc = find('Service', 'waypoint');
  for (const p of spec(svc)['ports'] as Obj[]) assert.equal(named(p['targetPort']), p['port'], `Service port ${String(p['name'])}`);
  const dockerExpose = /^EXPOSE (.*)$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1]?.split(/\s+/).map(Number).sort();
  assert.deepEqual(dockerExpose, [15008, 15020, 15021]);
});

test('shutdown: the grace period covers preStop plus --drain-timeout', () => {
  const grace = spec(pod)['terminationGracePeriodSeconds'] as number;
  const preStop = (((container['lifecycle'] as Obj)['preStop'] as Obj)['sleep'] as Obj)['seconds'] as number;
  const drain = Number(/^(\d+)s$/.exec(flag('drain-timeout') ?? '')?.[1]);
  assert.ok(grace > preStop + drain, `${grace} > ${preStop} + ${drain}`);
});

test('every flag in the Deployment is one `waypoint run` accepts, and it runs in Kubernetes mode', () => {
  const help = spawnSync(process.execPath, [MAIN, 'run', '--help'], { encoding: 'utf8' }).stdout;
  assert.equal(args[0], 'run');
  for (const a of args.slice(1)) {
    const name = /^(--[a-z-]+)/.exec(a)?.[1];
    assert.ok(name !== undefined && (help.includes(`${name} `) || help.includes(`${name},`)), `${a} is not a flag of waypoint run`);
  }
  assert.ok(args.includes('--kubernetes'));
  const gw = find('Gateway');
  assert.equal(flag('waypoint'), `$(POD_NAMESPACE)/${String(meta(gw)['name'])}`);
  const env = (container['env'] ?? []) as Obj[];
  assert.equal(((env.find((e) => e['name'] === 'POD_NAMESPACE')?.['valueFrom'] as Obj)['fieldRef'] as Obj)['fieldPath'], 'metadata.namespace');
});

test('selectors, names and references line up', () => {
  const labels = meta(pod)['labels'] as Obj;
  const matches = (sel: Obj): boolean => Object.entries(sel).every(([k, v]) => labels[k] === v);
  assert.ok(matches((spec(deployment)['selector'] as Obj)['matchLabels'] as Obj));
  assert.ok(matches(spec(find('Service', 'waypoint'))['selector'] as Obj));
  assert.ok(matches((spec(find('PodDisruptionBudget'))['selector'] as Obj)['matchLabels'] as Obj));
  const hpa = spec(find('HorizontalPodAutoscaler'));
  assert.deepEqual(hpa['scaleTargetRef'], { apiVersion: 'apps/v1', kind: 'Deployment', name: meta(deployment)['name'] });
  assert.equal(((hpa['metrics'] as Obj[])[0]?.['resource'] as Obj)['name'], 'cpu');
  assert.ok(((container['resources'] as Obj)['requests'] as Obj)['cpu'] !== undefined, 'CPU utilization needs a CPU request');
  assert.ok((spec(find('PodDisruptionBudget'))['minAvailable'] as number) < (hpa['minReplicas'] as number), 'a drain can always evict one Pod');
  // The Service named after the Gateway is what the Gateway status reports as its address.
  const gw = find('Gateway');
  assert.equal(meta(find('Service', String(meta(gw)['name'])))['namespace'], meta(gw)['namespace']);
  assert.equal(spec(gw)['gatewayClassName'], OWN_GATEWAY_CLASS);
  assert.deepEqual((spec(gw)['listeners'] as Obj[]).map((l) => [l['port'], l['protocol']]), [[15008, 'HBONE']]);
  assert.equal(spec(find('GatewayClass', OWN_GATEWAY_CLASS))['controllerName'], WAYPOINT_CONTROLLER_NAME);
  const sa = find('ServiceAccount');
  assert.equal(spec(pod)['serviceAccountName'], meta(sa)['name']);
  for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
    const b = find(kind);
    const role = (b['roleRef'] as Obj)['name'];
    find(kind === 'RoleBinding' ? 'Role' : 'ClusterRole', String(role));
    assert.deepEqual(b['subjects'], [{ kind: 'ServiceAccount', name: meta(sa)['name'], namespace: meta(deployment)['namespace'] }]);
  }
  const mounts = (container['volumeMounts'] ?? []) as Obj[];
  const volumes = (spec(pod)['volumes'] ?? []) as Obj[];
  for (const m of mounts) assert.ok(volumes.some((v) => v['name'] === m['name']), `volume ${String(m['name'])}`);
  for (const f of ['cert', 'key', 'trust-bundle']) assert.ok(mounts.some((m) => flag(f)?.startsWith(`${String(m['mountPath'])}/`)), `--${f} is on a mounted volume`);
});

test('pod security: non-root, read-only root filesystem, no privilege escalation, no capabilities', () => {
  const podSec = spec(pod)['securityContext'] as Obj;
  const sec = container['securityContext'] as Obj;
  assert.equal(podSec['runAsNonRoot'], true);
  assert.ok((podSec['runAsUser'] as number) > 0);
  assert.deepEqual([sec['allowPrivilegeEscalation'], sec['readOnlyRootFilesystem'], (sec['capabilities'] as Obj)['drop']], [false, true, ['ALL']]);
});

/** `group/resource` → verbs granted by the ClusterRole. */
function grants(role: Obj): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const rule of role['rules'] as Obj[]) {
    for (const g of rule['apiGroups'] as string[]) for (const r of rule['resources'] as string[]) {
      const set = out.get(`${g}/${r}`) ?? new Set();
      for (const v of rule['verbs'] as string[]) set.add(v);
      out.set(`${g}/${r}`, set);
    }
  }
  return out;
}

test('the ClusterRole grants exactly what the waypoint reads and writes (least privilege, from the code)', () => {
  const want = new Map<string, Set<string>>();
  for (const r of watchedResources()) want.set(`${r.group}/${r.plural}`, new Set(['get', 'list', 'watch']));
  for (const kind of statusKinds()) {
    const r = API_RESOURCES.get(kind);
    assert.ok(r !== undefined, kind);
    want.set(`${r.group}/${r.plural}/status`, new Set(['update']));
  }
  const got = grants(find('ClusterRole'));
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [k, verbs] of want) assert.deepEqual([...(got.get(k) ?? [])].sort(), [...verbs].sort(), k);
  assert.deepEqual([...grants(find('Role', 'waypoint-leader-election')).entries()].map(([k, v]) => [k, [...v].sort()]), [['coordination.k8s.io/leases', ['create', 'get', 'update']]]);
});

test('Dockerfile: multi-stage, non-root, runs the compiled CLI; .dockerignore keeps the context small', () => {
  const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const stages = text.match(/^FROM /gm) ?? [];
  assert.ok(stages.length >= 2);
  const final = text.slice(text.lastIndexOf('\nFROM '));
  const user = /^USER (\d+)(?::(\d+))?$/m.exec(final);
  assert.ok(user !== null && Number(user[1]) > 0, 'the runtime stage runs as a non-root uid');
  assert.match(final, /ENTRYPOINT \[.*"dist\/src\/main\.js"\]/);
  assert.ok(existsSync(MAIN));
  for (const m of text.matchAll(/^COPY (?!--from)(.*) \S+$/gm)) for (const src of (m[1] ?? '').split(/\s+/)) assert.ok(existsSync(path.join(ROOT, src)), `COPY ${src}`);
  const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
  for (const p of ['node_modules', 'dist', 'test']) assert.ok(ignore.includes(p), p);
});

test('the cert-manager example writes the Secret the Deployment mounts, with the service account\'s SPIFFE ID', () => {
  const [cert] = docs(readFileSync(path.join(DEPLOY, 'examples/certificate.yaml'), 'utf8'));
  const volumes = (spec(pod)['volumes'] ?? []) as Obj[];
  const secret = (volumes.find((v) => v['secret'] !== undefined)?.['secret'] as Obj)['secretName'];
  assert.equal(spec(cert ?? {})['secretName'], secret);
  assert.deepEqual(spec(cert ?? {})['uris'], [`spiffe://cluster.local/ns/${String(meta(deployment)['namespace'])}/sa/${String(spec(pod)['serviceAccountName'])}`]);
});
