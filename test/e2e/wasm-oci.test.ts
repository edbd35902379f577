// End to end: WasmPlugins pulled from a real OCI registry on loopback (Debian's docker-registry): a Wasm OCI
// artifact and a Docker-image plugin pushed by the test with the distribution push API, the anonymous Bearer
// token flow (through an auth proxy in front of the registry), manifest sha256 pins, and missing tags.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type Backend, type EchoReply, startBackend, unusedPort } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { asPlugin, sha256 } from '../fixtures/wasm/build.js';
import { startWasmMesh, type WasmMesh, wasmPluginYaml } from './wasm-plugin-resource-mesh.js';

const vip = vipRange();
const SVC = { artifact: vip(1), docker: vip(2), token: vip(3), badSha: vip(4), missing: vip(5), index: vip(6) };

let dir: string;
let registry: ChildProcess;
let registryHost: string;
let authProxy: http.Server;
let authHost: string;
const tokenScopes: string[] = [];
let backend: Backend;
let mesh: WasmMesh;
let module: Uint8Array;
let artifactDigest: string;

async function registryCall(method: string, url: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url.startsWith('http') ? url : `http://${registryHost}${url}`, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(body.length) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : Buffer.from(body));
  });
}

const digestOf = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Monolithic blob upload: POST an upload session, PUT the bytes with their digest. */
async function pushBlob(repo: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
  const start = await registryCall('POST', `/v2/${repo}/blobs/uploads/`);
  assert.equal(start.status, 202, start.body);
  const location = new URL(String(start.headers['location']), `http://${registryHost}`);
  location.searchParams.set('digest', digestOf(bytes));
  const put = await registryCall('PUT', location.toString(), bytes, { 'content-type': 'application/octet-stream' });
  assert.equal(put.status, 201, put.body);
  return { digest: digestOf(bytes), size: bytes.length };
}

/** Pushes an index under the tag `multi`, each entry sized as the registry serves it. */
async function pushIndex(index: { manifests: Array<{ digest: string; size: number }> }): Promise<void> {
  for (const m of index.manifests) {
    const got = await registryCall('GET', `/v2/filters/add-header/manifests/${m.digest}`, undefined, { accept: 'application/vnd.oci.image.manifest.v1+json' });
    m.size = Buffer.byteLength(got.body);
  }
  await pushManifest('filters/add-header', 'multi', index, 'application/vnd.oci.image.index.v1+json');
}

async function pushManifest(repo: string, tag: string, manifest: Record<string, unknown>, mediaType: string): Promise<string> {
  const bytes = new Uint8Array(Buffer.from(JSON.stringify(manifest)));
  const put = await registryCall('PUT', `/v2/${repo}/manifests/${tag}`, bytes, { 'content-type': mediaType });
  assert.equal(put.status, 201, put.body);
  return digestOf(bytes);
}

function tarWith(name: string, body: Uint8Array): Uint8Array {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write('0', 156);
  h.write('ustar\0', 257);
  return new Uint8Array(Buffer.concat([h, Buffer.from(body), Buffer.alloc((512 - (body.length % 512)) % 512), Buffer.alloc(1024)]));
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wasm-oci-'));
  const port = await unusedPort();
  registryHost = `127.0.0.1:${port}`;
  await writeFile(path.join(dir, 'config.yml'), `version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: ${path.join(dir, 'data')}}}
http: {addr: ${registryHost}}
`);
  registry = spawn('/usr/bin/docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    const ok = await registryCall('GET', '/v2/').then((r) => r.status === 200, () => false);
    if (ok) break;
    assert.ok(i < 200, 'docker-registry did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  module = await asPlugin('add-header');
  // Wasm OCI artifact (Istio / wasm-to-oci): a Wasm config and one application/vnd.module.wasm.content.layer.v1+wasm layer.
  const config = await pushBlob('filters/add-header', new Uint8Array(Buffer.from('{}')));
  const layer = await pushBlob('filters/add-header', module);
  artifactDigest = await pushManifest('filters/add-header', '1.0', {
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.module.wasm.config.v1+json', digest: config.digest, size: config.size },
    layers: [{ mediaType: 'application/vnd.module.wasm.content.layer.v1+wasm', digest: layer.digest, size: layer.size }],
  }, 'application/vnd.oci.image.manifest.v1+json');
  // An image index whose entries are per platform: the Wasm one must be picked (the arm64 entry is no manifest at all).
  const indexBody = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: config.digest, size: 2, platform: { os: 'linux', architecture: 'arm64' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: artifactDigest, size: 0, platform: { os: 'wasip1', architecture: 'wasm' } },
  ] };
  await pushIndex(indexBody);
  // Docker image variant: one tar.gz layer holding plugin.wasm.
  const dconfig = await pushBlob('filters/docker-image', new Uint8Array(Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')));
  const dlayer = await pushBlob('filters/docker-image', new Uint8Array(gzipSync(tarWith('plugin.wasm', module))));
  await pushManifest('filters/docker-image', 'v1', {
    schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: dconfig.digest, size: dconfig.size },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: dlayer.digest, size: dlayer.size }],
  }, 'application/vnd.docker.distribution.manifest.v2+json');
  // A registry that wants anonymous Bearer tokens: 401 + challenge, a token endpoint, then the real registry.
  authProxy = http.createServer((req, res) => {
    if (req.url?.startsWith('/token') === true) {
      tokenScopes.push(new URL(req.url, 'http://x').searchParams.get('scope') ?? '');
      res.setHeader('content-type', 'application/json');
      res.end('{"token":"anon-token"}');
      return;
    }
    if (req.headers['authorization'] !== 'Bearer anon-token') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${authHost}/token",service="test-registry",scope="repository:filters/add-header:pull"` });
      res.end();
      return;
    }
    const upstream = http.request(`http://${registryHost}${req.url ?? '/'}`, { method: req.method, headers: { accept: req.headers['accept'] ?? '*/*' } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    upstream.end();
  });
  await new Promise<void>((r) => authProxy.listen(0, '127.0.0.1', r));
  authHost = `127.0.0.1:${(authProxy.address() as AddressInfo).port}`;

  backend = await startBackend('echo');
  const ep = [`127.0.0.1:${backend.port}`];
  mesh = await startWasmMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'svc-artifact', vip: SVC.artifact, endpoints: ep }),
      serviceYaml({ name: 'svc-docker', vip: SVC.docker, endpoints: ep }),
      serviceYaml({ name: 'svc-token', vip: SVC.token, endpoints: ep }),
      serviceYaml({ name: 'svc-bad-sha', vip: SVC.badSha, endpoints: ep }),
      serviceYaml({ name: 'svc-missing', vip: SVC.missing, endpoints: ep }),
      serviceYaml({ name: 'svc-index', vip: SVC.index, endpoints: ep }),
    ].join('\n'),
    'plugins.yaml': [
      wasmPluginYaml('artifact', 'svc-artifact', `  url: oci://${registryHost}/filters/add-header:1.0\n  sha256: "${artifactDigest.slice(7)}"\n  pluginConfig: {via: artifact}\n`),
      wasmPluginYaml('docker', 'svc-docker', `  url: oci://${registryHost}/filters/docker-image:v1\n  pluginConfig: {via: docker}\n`),
      // No scheme: Istio defaults the url to oci://.
      wasmPluginYaml('token', 'svc-token', `  url: ${authHost}/filters/add-header:1.0\n  pluginConfig: {via: token}\n`),
      wasmPluginYaml('bad-sha', 'svc-bad-sha', `  url: oci://${registryHost}/filters/add-header:1.0\n  sha256: "${'1'.repeat(64)}"\n`),
      wasmPluginYaml('index', 'svc-index', `  url: oci://${registryHost}/filters/add-header:multi\n  pluginConfig: {via: index}\n`),
      wasmPluginYaml('missing', 'svc-missing', `  url: oci://${registryHost}/filters/add-header:2.0\n  failStrategy: FAIL_OPEN\n`),
    ].join(''),
  });
});

after(async () => {
  await mesh?.close();
  await backend?.close();
  await new Promise<void>((r) => (authProxy === undefined ? r() : authProxy.close(() => r())));
  if (registry?.pid !== undefined && registry.exitCode === null) {
    const exited = new Promise((r) => registry.once('exit', r));
    registry.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
});

const pulls = [
  { name: 'a Wasm OCI artifact, pinned by its manifest digest', service: 'default/svc-artifact', plugin: 'default/artifact', address: () => SVC.artifact, via: 'artifact' },
  { name: 'a Docker image whose tar.gz layer holds plugin.wasm', service: 'default/svc-docker', plugin: 'default/docker', address: () => SVC.docker, via: 'docker' },
  { name: 'an image index: the wasm platform entry is pulled', service: 'default/svc-index', plugin: 'default/index', address: () => SVC.index, via: 'index' },
  { name: 'a registry asking for an anonymous Bearer token (bare reference, defaulted to oci)', service: 'default/svc-token', plugin: 'default/token', address: () => SVC.token, via: 'token' },
] as const;

for (const c of pulls) {
  test(`OCI pull: ${c.name}`, async () => {
    const entry = await mesh.settled(c.service, 80, c.plugin);
    assert.deepEqual(entry.module, { state: 'ready', sha256: sha256(module) }, mesh.diagnostics(c.plugin).join('\n'));
    const res = await request(c.address(), 80);
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as EchoReply).headers['x-wasm-request'], `{"via":"${c.via}"}`);
    assert.equal(res.headers['x-wasm-response'], 'hit');
  });
}

test('OCI pull: the token was requested for the challenge scope', async () => {
  await mesh.settled('default/svc-token', 80, 'default/token');
  assert.ok(tokenScopes.includes('repository:filters/add-header:pull'), JSON.stringify(tokenScopes));
});

test('OCI pull: a sha256 that is not the manifest digest fails closed, naming both digests', async () => {
  const entry = await mesh.settled('default/svc-bad-sha', 80, 'default/bad-sha');
  assert.equal(entry.module.state, 'failed');
  const expected = new RegExp(`has checksum ${artifactDigest.slice(7)}, which does not match: ${'1'.repeat(64)}`);
  assert.ok(mesh.diagnostics('default/bad-sha').some((d) => expected.test(d)), mesh.diagnostics('default/bad-sha').join('\n'));
  const res = await request(SVC.badSha, 80);
  assert.equal(res.status, 503);
  assert.equal(res.body, '');
});

test('OCI pull: a tag that does not exist is diagnosed; FAIL_OPEN lets traffic through', async () => {
  const entry = await mesh.settled('default/svc-missing', 80, 'default/missing');
  assert.equal(entry.module.state, 'failed');
  assert.ok(mesh.diagnostics('default/missing').some((d) => /manifest 2\.0 not found .*HTTP 404/.test(d)), mesh.diagnostics('default/missing').join('\n'));
  const res = await request(SVC.missing, 80);
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-wasm-response'], undefined);
});
