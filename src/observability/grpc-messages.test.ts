import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GrpcFrameCounter } from './grpc-messages.js';

function frame(payload: number): Buffer {
  const b = Buffer.alloc(5 + payload, 7);
  b[0] = 0;
  b.writeUInt32BE(payload, 1);
  return b;
}

const stream = Buffer.concat([frame(3), frame(0), frame(70000), frame(1)]);

const cases: ReadonlyArray<{ name: string; chunks: Buffer[]; want: number }> = [
  { name: 'one chunk with four messages (one empty, one large)', chunks: [stream], want: 4 },
  { name: 'byte by byte', chunks: [...stream].map((b) => Buffer.from([b])), want: 4 },
  { name: 'split inside a prefix and inside a payload', chunks: [stream.subarray(0, 2), stream.subarray(2, 11), stream.subarray(11, 5000), stream.subarray(5000)], want: 4 },
  { name: 'an incomplete prefix is not a message yet', chunks: [frame(3), Buffer.from([0, 0, 0])], want: 1 },
  { name: 'no body', chunks: [], want: 0 },
];

for (const c of cases) {
  test(c.name, () => {
    const counter = new GrpcFrameCounter();
    for (const chunk of c.chunks) counter.push(chunk);
    assert.equal(counter.messages, c.want);
    assert.equal(counter.bytes, c.chunks.reduce((n, b) => n + b.length, 0));
  });
}
