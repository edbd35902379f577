// HeaderMap views over the exchange's header lists. The request map shows HTTP/2 pseudo-headers
// (`:authority`, `:path`, `:method`, `:scheme`) first, as Envoy does, and writes them back to the exchange
// (`:authority` is the upstream Host); the response map shows `:status` (read-only here).
import type { HeaderList } from '../../http/header-list.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { HeaderMap } from './host-context.js';

/** A plain list (trailers, http_call responses, response headers without `:status`). */
export function headerListMap(list: HeaderList): HeaderMap {
  return {
    pairs: () => list.fields,
    get: (name) => list.get(name),
    add: (name, value) => list.add(name, value),
    replace: (name, value) => list.set(name, value),
    remove: (name) => void list.remove(name),
    setPairs(fields) {
      list.fields.length = 0;
      for (let i = 0; i < fields.length; i += 2) list.add(fields[i] as string, fields[i + 1] as string);
    },
  };
}

export class RequestHeaderMap implements HeaderMap {
  readonly #ex: HttpExchange;

  constructor(ex: HttpExchange) {
    this.#ex = ex;
  }

  pairs(): ReadonlyArray<string> {
    const ex = this.#ex;
    const out = [':authority', ex.requestHeaders.get('host') ?? '', ':path', ex.path, ':method', ex.method, ':scheme', 'http'];
    const f = ex.requestHeaders.fields;
    for (let i = 0; i < f.length; i += 2) {
      const name = f[i] as string;
      if (name.length === 4 && name.toLowerCase() === 'host') continue;
      out.push(name.toLowerCase(), f[i + 1] as string);
    }
    return out;
  }

  get(name: string): string | undefined {
    const ex = this.#ex;
    if (name.charCodeAt(0) === 0x3a) {
      if (name === ':path') return ex.path;
      if (name === ':method') return ex.method;
      if (name === ':authority') return ex.requestHeaders.get('host');
      if (name === ':scheme') return 'http';
      return undefined;
    }
    const all = ex.requestHeaders.getAll(name);
    return all.length <= 1 ? all[0] : all.join(',');
  }

  add(name: string, value: string): void {
    if (this.#pseudo(name, value)) return;
    this.#ex.requestHeaders.add(name, value);
  }

  replace(name: string, value: string): void {
    if (this.#pseudo(name, value)) return;
    this.#ex.requestHeaders.set(name, value);
  }

  remove(name: string): void {
    if (name.charCodeAt(0) === 0x3a) return;
    this.#ex.requestHeaders.remove(name);
  }

  setPairs(fields: ReadonlyArray<string>): void {
    const list = this.#ex.requestHeaders;
    list.fields.length = 0;
    for (let i = 0; i < fields.length; i += 2) this.add(fields[i] as string, fields[i + 1] as string);
    if (!list.has('host')) list.set('host', '');
  }

  /** Writes a pseudo-header to the exchange; true when `name` was one. */
  #pseudo(name: string, value: string): boolean {
    if (name.charCodeAt(0) !== 0x3a) return false;
    const ex = this.#ex;
    if (name === ':path') ex.path = value;
    else if (name === ':method') ex.method = value;
    else if (name === ':authority') ex.requestHeaders.set('host', value);
    return true;
  }
}

export class ResponseHeaderMap implements HeaderMap {
  readonly #list: HeaderList;
  readonly #status: number;

  constructor(list: HeaderList, status: number) {
    this.#list = list;
    this.#status = status;
  }

  pairs(): ReadonlyArray<string> {
    const f = this.#list.fields;
    const out = [':status', String(this.#status)];
    for (let i = 0; i < f.length; i += 2) out.push((f[i] as string).toLowerCase(), f[i + 1] as string);
    return out;
  }

  get(name: string): string | undefined {
    if (name === ':status') return String(this.#status);
    const all = this.#list.getAll(name);
    return all.length <= 1 ? all[0] : all.join(',');
  }

  add(name: string, value: string): void {
    if (name.charCodeAt(0) !== 0x3a) this.#list.add(name, value);
  }

  replace(name: string, value: string): void {
    if (name.charCodeAt(0) !== 0x3a) this.#list.set(name, value);
  }

  remove(name: string): void {
    this.#list.remove(name);
  }

  setPairs(fields: ReadonlyArray<string>): void {
    this.#list.fields.length = 0;
    for (let i = 0; i < fields.length; i += 2) this.add(fields[i] as string, fields[i + 1] as string);
  }
}
