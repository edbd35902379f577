// TLS file reading before compile: the paths DestinationRules name, and the last good contents kept when a
// file becomes unreadable.
import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../../config/source/yaml-documents.js';
import { TlsFileReader, tlsFilePaths } from './tls-files.js';

const text = (ca: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: r, namespace: apps}
spec:
  host: a
  trafficPolicy:
    tls: {mode: SIMPLE, caCertificates: ${ca}}
    portLevelSettings:
    - port: {number: 90}
      tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: ${ca}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: x, namespace: apps}
data: {caCertificates: /not-a-dr.pem}
`;

test('tlsFilePaths: every file field of top-level and port-level tls, deduplicated, DestinationRules only', () => {
  const { resources } = parseConfigText(text('/ca.pem'), 'f.yaml', 0);
  assert.deepEqual(tlsFilePaths(resources).sort(), ['/c.pem', '/ca.pem', '/k.pem']);
});

test('TlsFileReader: ok, then stale with the last contents when the file goes, unreadable when never read', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tls-files-'));
  try {
    const ca = path.join(dir, 'ca.pem');
    await writeFile(ca, 'PEM-1');
    const { resources } = parseConfigText(text(ca), 'f.yaml', 0);
    const reader = new TlsFileReader();
    assert.deepEqual((await reader.read(resources)).get(ca), { kind: 'ok', pem: 'PEM-1' });
    await unlink(ca);
    assert.deepEqual((await reader.read(resources)).get(ca), { kind: 'stale', pem: 'PEM-1', error: 'no such file' });
    assert.deepEqual((await new TlsFileReader().read(resources)).get(ca), { kind: 'unreadable', error: 'no such file' });
    await writeFile(ca, 'PEM-2');
    assert.deepEqual((await reader.read(resources)).get(ca), { kind: 'ok', pem: 'PEM-2' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
