import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeGrpcMessage, grpcStatusForHttp, isGrpcContentType, parseGrpcTimeout, upstreamProtocolFor } from './grpc-protocol.js';

const timeouts: ReadonlyArray<[string | undefined, number | undefined]> = [
  ['1S', 1000], ['250m', 250], ['2M', 120_000], ['1H', 3_600_000], ['1500u', 2], ['1n', 1], ['0S', 0],
  ['99999999m', 99_999_999], [undefined, undefined], ['', undefined], ['S', undefined], ['10', undefined],
  ['1s', undefined], ['-1S', undefined], ['123456789S', undefined], ['1.5S', undefined],
];
for (const [value, want] of timeouts) {
  test(`grpc-timeout ${JSON.stringify(value)} → ${String(want)} ms`, () => assert.equal(parseGrpcTimeout(value), want));
}

// Envoy's Grpc::Utility::httpToGrpcStatus.
const statuses: ReadonlyArray<[number, number]> = [[400, 13], [401, 16], [403, 7], [404, 12], [429, 14], [502, 14], [503, 14], [504, 14], [500, 2], [426, 2], [431, 2]];
for (const [http, grpc] of statuses) test(`HTTP ${http} → grpc-status ${grpc}`, () => assert.equal(grpcStatusForHttp(http), grpc));

const contentTypes: ReadonlyArray<[string | undefined, boolean]> = [
  ['application/grpc', true], ['application/grpc+proto', true], ['application/grpc;charset=utf-8', true],
  ['application/grpc-web', false], ['application/grpcx', false], ['application/json', false], [undefined, false],
];
for (const [ct, want] of contentTypes) test(`content-type ${String(ct)} is gRPC: ${want}`, () => assert.equal(isGrpcContentType(ct), want));

const messages: ReadonlyArray<[string, string]> = [
  ['no healthy upstream', 'no healthy upstream'], ['100%', '100%25'], ['line\nbreak', 'line%0Abreak'], ['caf\u00e9', 'caf%C3%A9'],
];
for (const [plain, encoded] of messages) test(`grpc-message ${JSON.stringify(plain)} is percent-encoded as ${encoded}`, () => assert.equal(encodeGrpcMessage(plain), encoded));

const protocols: ReadonlyArray<[Parameters<typeof upstreamProtocolFor>[0], number, 'h1' | 'h2']> = [
  ['grpc', 1, 'h2'], ['http2', 1, 'h2'], ['http', 2, 'h1'], ['unknown', 2, 'h2'], ['unknown', 1, 'h1'],
];
for (const [protocol, major, want] of protocols) {
  test(`port protocol ${protocol} with an HTTP/${major} client goes upstream as ${want}`, () => assert.equal(upstreamProtocolFor(protocol, major), want));
}
