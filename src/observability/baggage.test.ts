import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_BAGGAGE_BYTES, parseBaggage } from './baggage.js';

const ztunnel = 'k8s.cluster.name=Kubernetes,k8s.namespace.name=default,k8s.deployment.name=productpage-v1,service.name=productpage,service.version=v1';

const cases: ReadonlyArray<{ name: string; header: string | undefined; want: Record<string, string | undefined> | undefined }> = [
  { name: 'ztunnel baggage fills the source metadata', header: ztunnel, want: { cluster: 'Kubernetes', namespace: 'default', workload: 'productpage-v1', service: 'productpage', revision: 'v1', app: undefined, version: undefined } },
  { name: 'app.name/app.version are read; properties after ; are ignored', header: 'app.name=reviews;p=1, app.version = v2', want: { app: 'reviews', version: 'v2' } },
  { name: 'deployment name wins over pod name', header: 'k8s.pod.name=web-7d9c-x1,k8s.deployment.name=web', want: { workload: 'web' } },
  { name: 'cronjob and job names name the workload', header: 'k8s.job.name=backup-123', want: { workload: 'backup-123' } },
  { name: 'percent-encoded values are decoded', header: 'service.name=my%2Dsvc', want: { service: 'my-svc' } },
  { name: 'unknown keys are ignored', header: 'userId=alice,service.name=x', want: { service: 'x' } },
  { name: 'absent header', header: undefined, want: undefined },
  { name: 'a member without = makes the header malformed', header: 'service.name=x,garbage', want: undefined },
  { name: 'an invalid key token makes it malformed', header: 'bad key=1', want: undefined },
  { name: 'a value unsafe as a label is not trusted', header: 'service.name=a"b', want: undefined },
  { name: 'a value with spaces is not trusted', header: 'k8s.namespace.name=a%20b', want: undefined },
  { name: 'a bad percent escape is malformed', header: 'service.name=%zz', want: undefined },
  { name: 'more than 64 members is ignored whole', header: Array.from({ length: 65 }, (_, i) => `k${i}=v`).join(','), want: undefined },
  { name: 'more than 8192 bytes is ignored whole', header: `service.name=x,pad=${'a'.repeat(MAX_BAGGAGE_BYTES)}`, want: undefined },
  { name: 'an over-long value is not trusted', header: `service.name=${'a'.repeat(300)}`, want: undefined },
];

for (const c of cases) {
  test(c.name, () => {
    const got = parseBaggage(c.header);
    if (c.want === undefined) return assert.equal(got, undefined);
    assert.ok(got !== undefined);
    for (const [k, v] of Object.entries(c.want)) assert.equal(got[k as keyof typeof got], v, k);
  });
}
