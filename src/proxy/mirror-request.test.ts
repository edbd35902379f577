import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterConfig } from '../config/snapshot.js';
import { mirrorSelected, shadowHost } from './mirror-request.js';

const hosts = [
  { in: 'echo', out: 'echo-shadow' },
  { in: 'echo:8080', out: 'echo-shadow:8080' },
  { in: 'reviews.default.svc.cluster.local', out: 'reviews.default.svc.cluster.local-shadow' },
  { in: '[::1]:80', out: '[::1]-shadow:80' },
];
for (const c of hosts) test(`shadow Host of ${c.in} is ${c.out}`, () => assert.equal(shadowHost(c.in), c.out));

const cluster = {} as ClusterConfig;
const shares = [
  { numerator: 100, denominator: 100, random: 0.9999, want: true },
  { numerator: 0, denominator: 100, random: 0, want: false },
  { numerator: 20, denominator: 100, random: 0.19, want: true },
  { numerator: 20, denominator: 100, random: 0.2, want: false },
  { numerator: 25, denominator: 50, random: 0.49, want: true },
  { numerator: 25, denominator: 50, random: 0.5, want: false },
];
for (const c of shares) {
  test(`mirror ${c.numerator}/${c.denominator} with random ${c.random}: ${c.want ? 'sent' : 'not sent'}`, () => {
    assert.equal(mirrorSelected({ cluster, numerator: c.numerator, denominator: c.denominator }, () => c.random), c.want);
  });
}
