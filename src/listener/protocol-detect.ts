// Protocol sniffing for Service ports of undeclared protocol, as Istio does: an HTTP/2 connection
// preface or an HTTP/1.x request line means HTTP; anything else is opaque TCP.

export type Detected = 'http1' | 'http2' | 'opaque' | 'need-more';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const MAX_METHOD = 'OPTIONS'.length;

export function detectProtocol(head: Buffer): Detected {
  if (head.length === 0) return 'need-more';
  // HTTP/2 prior knowledge starts with the fixed preface.
  const n = Math.min(head.length, H2_PREFACE.length);
  if (head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return n === H2_PREFACE.length ? 'http2' : 'need-more';
  // HTTP/1.x: an upper-case method token followed by a space.
  for (let i = 0; i < head.length && i <= MAX_METHOD; i++) {
    const c = head[i] as number;
    if (c === 0x20) return i >= 3 ? 'http1' : 'opaque';
    if (c < 0x41 || c > 0x5a) return 'opaque';
  }
  return head.length > MAX_METHOD ? 'opaque' : 'need-more';
}
