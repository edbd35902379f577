// End to end: WebSocket upgrades through the waypoint (HTTPRouteBackendProtocolWebSocket): routed and
// filtered like any request, 101 relayed, frames spliced both ways until close; refusals relayed as is.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { encodeFrame, FrameReader, websocketAccept } from '../conformance/echo-backend.js';
import { ConformanceMesh, meshRoute } from '../conformance/fixture.js';
import { waitFor } from '../harness/mesh.js';

const ROUTES = meshRoute('ws', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /ws } }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: { set: [{ name: X-Added-By-Route, value: "yes" }] }
    - type: ResponseHeaderModifier
      responseHeaderModifier: { set: [{ name: X-Route, value: ws }] }
    timeouts: { request: 300ms }
    backendRefs:
    - name: echo-v1
      port: 80
  - matches: [{ path: { type: PathPrefix, value: /moved } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org } }]
  - matches: [{ path: { type: PathPrefix, value: /plain } }]
    backendRefs:
    - name: echo-v2
      port: 80`);

let cm: ConformanceMesh;

before(async () => {
  cm = await ConformanceMesh.start(ROUTES);
});

after(async () => {
  await cm.close();
});

interface Session {
  readonly status: number;
  readonly head: string;
  readonly socket: net.Socket;
  readonly frames: string[];
  /** Resolves with the next text frame. */
  next(): Promise<string>;
}

/** Opens a WebSocket (or tries to) through the echo Service's VIP. */
function connect(path: string, headers: Record<string, string> = {}, key = randomBytes(16).toString('base64')): Promise<Session> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(80, cm.vip('echo'));
    let buf = Buffer.alloc(0);
    const frames: string[] = [];
    const waiters: Array<(s: string) => void> = [];
    const reader = new FrameReader((opcode, payload) => {
      if (opcode !== 0x1) return;
      const text = payload.toString('utf8');
      const w = waiters.shift();
      if (w !== undefined) w(text);
      else frames.push(text);
    });
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const head = buf.subarray(0, end).toString('latin1');
      const rest = buf.subarray(end + 4);
      socket.on('data', (d: Buffer) => reader.push(d));
      if (rest.length > 0) reader.push(rest);
      resolve({
        status: Number(head.split(' ')[1]), head, socket, frames,
        next: () => new Promise((r) => {
          const f = frames.shift();
          if (f !== undefined) r(f);
          else waiters.push(r);
        }),
      });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: echo\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n${extra}\r\n`);
  });
}

/** Sends `request` as is on a new connection to the echo VIP; resolves with all it got back once closed. */
function rawExchange(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(80, cm.vip('echo'), () => socket.write(request));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

function header(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

test('a WebSocket upgrade is routed, filtered, answered 101 and carries frames both ways', async () => {
  const key = randomBytes(16).toString('base64');
  const s = await connect('/ws/chat', {}, key);
  assert.equal(s.status, 101, s.head);
  assert.equal(header(s.head, 'sec-websocket-accept'), websocketAccept(key));
  assert.equal(header(s.head, 'upgrade')?.toLowerCase(), 'websocket');
  assert.equal(header(s.head, 'x-route'), 'ws', 'ResponseHeaderModifier applies to the 101');
  s.socket.write(encodeFrame(0x1, Buffer.from('hello'), true));
  assert.equal(await s.next(), 'echo-v1-0: hello');
  // Longer than the route's 300 ms request timeout: it bounds the handshake, not the session.
  await new Promise((r) => setTimeout(r, 500));
  s.socket.write(encodeFrame(0x1, Buffer.from('still there'), true));
  assert.equal(await s.next(), 'echo-v1-0: still there');
  const seen = cm.pod('echo-v1').log.at(-1);
  assert.equal(seen?.path, '/ws/chat');
  assert.equal(seen?.headers['x-added-by-route'], 'yes');
  assert.equal(seen?.headers['upgrade'], 'websocket');
  const closed = new Promise<void>((resolve) => s.socket.once('close', () => resolve()));
  s.socket.write(encodeFrame(0x8, Buffer.alloc(0), true));
  await closed;
  // The exchange ends (access log, metrics) once both sides of the tunnel closed.
  await waitFor(() => cm.mesh.records.some((r) => r.status === 101));
  const rec = cm.mesh.records.find((r) => r.status === 101);
  assert.equal(rec?.route, 'gateway-conformance-mesh.ws.0');
  assert.equal(rec?.flag, undefined);
});

test('a backend refusing the upgrade: its response is relayed and the connection closed', async () => {
  // No Sec-WebSocket-Key: the echo backend answers 400.
  const s = await rawExchange('GET /ws/bad HTTP/1.1\r\nHost: echo\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  assert.match(s, /^HTTP\/1\.1 400 /);
});

test('an upgrade request matching a redirect rule gets the redirect', async () => {
  const s = await connect('/moved/x');
  assert.equal(s.status, 302, s.head);
  assert.equal(header(s.head, 'location'), 'http://example.org/moved/x');
  s.socket.destroy();
});

test('an upgrade to something else than websocket is served as a plain request', async () => {
  const text = await rawExchange('GET /plain HTTP/1.1\r\nHost: echo\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
  assert.match(text, /^HTTP\/1\.1 200 /);
  assert.match(text, /"backend":"echo-v2"/);
  assert.equal(cm.pod('echo-v2').log.at(-1)?.headers['upgrade'], undefined, 'the h2c upgrade is not passed on');
});
