// The CLI's side of the admin API: one GET against a running waypoint's admin address, JSON or text.
import http from 'node:http';

export interface AdminResponse {
  readonly status: number;
  readonly body: string;
}

export function adminGet(address: string, path: string, timeoutMs = 5000): Promise<AdminResponse> {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  const host = m?.[1] === undefined || m[1] === '' || m[1] === '0.0.0.0' ? '127.0.0.1' : m[1];
  const port = Number(m?.[2] ?? 15000);
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from the admin server at ${address} within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code === 'ECONNREFUSED' ? `no waypoint admin server at ${address} (is it running? see --admin)` : err.message)));
  });
}

/** Loose readers for the JSON the admin API returns (typed `unknown` on the wire). */
export type Json = unknown;
export const obj = (v: Json): Record<string, Json> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, Json>) : {});
export const arr = (v: Json): Json[] => (Array.isArray(v) ? v : []);
export const str = (v: Json): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : v === null || v === undefined ? '' : JSON.stringify(v));

/** A left-aligned text table, columns two spaces apart, like kubectl. */
export function table(header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: ReadonlyArray<string>): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
