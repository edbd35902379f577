// End to end: `waypoint tap` streams live requests from /debug/tap, filtered by service, path and status.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tapCommand } from '../../src/cli/tap-command.js';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';

const vip = vipRange();
const WEB = vip(1);
const API = vip(2);
let mesh: TestMesh;
let backend: Backend;

before(async () => {
  backend = await startBackend('b');
  const ep = [`127.0.0.1:${backend.port}`];
  mesh = await startMesh({ 'mesh.yaml': [meshPreamble(), serviceYaml({ name: 'web', vip: WEB, endpoints: ep }), serviceYaml({ name: 'api', vip: API, endpoints: ep })].join('\n') });
});

after(async () => {
  await mesh.close();
  await backend.close();
});

const cases: ReadonlyArray<{ readonly name: string; readonly filter: { service?: string; path?: string; status?: string }; readonly want: RegExp }> = [
  { name: 'by service', filter: { service: 'api' }, want: /^\S+ 200 GET \S+\/from-api service=default\/api route=- endpoint=127\.0\.0\.1:\d+ flags=- details=via_upstream [\d.]+ms$/ },
  { name: 'by path', filter: { path: '/from-web' }, want: / 200 GET \S+\/from-web service=default\/web / },
];

for (const c of cases) {
  test(`waypoint tap ${c.name}`, async () => {
    let out = '';
    let err = '';
    let traffic: Promise<unknown> = Promise.resolve();
    const done = tapCommand({
      admin: mesh.admin, service: c.filter.service, path: c.filter.path, status: c.filter.status, count: 1, output: 'text',
      onOpen: () => {
        // Traffic that must be filtered out comes first, then the one request the filter wants.
        traffic = (async () => {
          await request(WEB, 80, { path: '/other' });
          await request(WEB, 80, { path: '/from-web' });
          await request(API, 80, { path: '/from-api' });
        })();
      },
    }, (s) => { out += s; }, (s) => { err += s; });
    assert.equal(await done, 0, err);
    await traffic;
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, 1, out);
    assert.match(lines[0] ?? '', c.want);
  });
}

test('waypoint tap -o json streams whole decision traces', async () => {
  let out = '';
  let traffic: Promise<unknown> = Promise.resolve();
  const done = tapCommand({ admin: mesh.admin, service: undefined, path: undefined, status: '2xx', count: 1, output: 'json', onOpen: () => { traffic = request(WEB, 80, { path: '/json' }); } }, (s) => { out += s; }, () => undefined);
  assert.equal(await done, 0);
  await traffic;
  const t = JSON.parse(out) as { service: string; response: { status: number }; request: { path: string } };
  assert.equal(t.service, 'default/web');
  assert.equal(t.request.path, '/json');
  assert.equal(t.response.status, 200);
});
