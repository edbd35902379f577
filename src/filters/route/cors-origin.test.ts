import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OriginMatcher, validOrigin } from './cors-origin.js';

// HTTPCORSFilter.allowOrigins: scheme://host[:port], default ports implied, `*` greedy to the left, lone `*`.
const cases = [
  { allow: ['https://www.foo.com'], origin: 'https://www.foo.com', want: true },
  { allow: ['https://www.foo.com'], origin: 'https://WWW.FOO.COM', want: true },
  { allow: ['https://www.foo.com'], origin: 'http://www.foo.com', want: false },
  { allow: ['https://www.foo.com'], origin: 'https://www.foo.com:443', want: true },
  { allow: ['https://www.foo.com:443'], origin: 'https://www.foo.com', want: true },
  { allow: ['http://www.foo.com'], origin: 'http://www.foo.com:8080', want: false },
  { allow: ['http://www.foo.com:8080'], origin: 'http://www.foo.com:8080', want: true },
  { allow: ['https://*.bar.com'], origin: 'https://www.bar.com', want: true },
  { allow: ['https://*.bar.com'], origin: 'https://a.b.bar.com', want: true },
  { allow: ['https://*.bar.com'], origin: 'https://bar.com', want: false },
  { allow: ['https://*.bar.com'], origin: 'https://www.bar.com.evil.org', want: false },
  { allow: ['https://*.bar.com'], origin: 'https://evilbar.com', want: false },
  { allow: ['*'], origin: 'https://anything.example:1234', want: true },
  { allow: ['*'], origin: 'null', want: true },
  { allow: ['https://www.foo.com'], origin: 'null', want: false },
  { allow: ['https://www.foo.com'], origin: 'https://*.foo.com', want: false },
];

for (const c of cases) {
  test(`allowOrigins ${JSON.stringify(c.allow)} ${c.want ? 'matches' : 'does not match'} ${c.origin}`, () => {
    assert.equal(new OriginMatcher(c.allow).matches(c.origin), c.want);
  });
}

const valid = [
  { origin: '*', want: true },
  { origin: 'https://a.example', want: true },
  { origin: 'http://a.example:8080', want: true },
  { origin: 'https://*.example.com', want: true },
  { origin: 'a.example', want: false },
  { origin: 'ftp://a.example', want: false },
  { origin: 'https://a.example/path', want: false },
  { origin: 'https://a.example:99999', want: false },
];
for (const c of valid) {
  test(`origin "${c.origin}" is ${c.want ? '' : 'not '}a valid allowOrigins entry`, () => assert.equal(validOrigin(c.origin), c.want));
}
