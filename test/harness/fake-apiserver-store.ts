// The storage behind the fake API server: objects per resource, one global resourceVersion counter
// (as etcd), generation bumped on spec changes only, an event history that watches replay from a
// resourceVersion, and compaction that makes older resourceVersions "too old" (410 Gone).
import { randomUUID } from 'node:crypto';

export type Obj = Record<string, unknown>;

export interface FakeResource {
  readonly kind: string;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** Writes to the main resource ignore `status`; only `/status` changes it. */
  readonly statusSubresource: boolean;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  readonly type: EventType;
  readonly rv: number;
  readonly plural: string;
  readonly namespace: string;
  readonly object: Obj;
}

export class StoreError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

type Listener = (event: StoredEvent) => void;

export class FakeStore {
  #rv = 100;
  #compactedThrough = 0;
  readonly #objects = new Map<string, Map<string, Obj>>();
  readonly #history: StoredEvent[] = [];
  readonly #listeners = new Set<Listener>();

  get resourceVersion(): number {
    return this.#rv;
  }

  list(r: FakeResource, namespace: string | undefined): { items: Obj[]; rv: number } {
    const all = [...(this.#objects.get(r.plural)?.values() ?? [])];
    const items = all.filter((o) => namespace === undefined || meta(o)['namespace'] === namespace).sort((a, b) => (key(a) < key(b) ? -1 : 1));
    return { items: items.map((o) => structuredClone(o)), rv: this.#rv };
  }

  get(r: FakeResource, namespace: string, name: string): Obj {
    const found = this.#objects.get(r.plural)?.get(`${namespace}/${name}`);
    if (found === undefined) throw new StoreError(404, 'NotFound', `${r.plural} "${name}" not found`);
    return structuredClone(found);
  }

  create(r: FakeResource, input: Obj, namespace: string): Obj {
    const m = meta(input);
    const name = String(m['name'] ?? '');
    if (name === '') throw new StoreError(422, 'Invalid', 'metadata.name: Required value');
    const map = this.#map(r);
    const id = `${r.namespaced ? namespace : ''}/${name}`;
    if (map.has(id)) throw new StoreError(409, 'AlreadyExists', `${r.plural} "${name}" already exists`);
    const obj: Obj = structuredClone(input);
    if (r.statusSubresource) delete obj['status'];
    obj['apiVersion'] = r.group === '' ? r.version : `${r.group}/${r.version}`;
    obj['kind'] = r.kind;
    obj['metadata'] = {
      ...m,
      ...(r.namespaced ? { namespace } : {}),
      uid: randomUUID(),
      generation: 1,
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      resourceVersion: String(++this.#rv),
      managedFields: [{ manager: 'fake-apiserver', operation: 'Update' }],
    };
    map.set(id, obj);
    this.#emit('ADDED', r, obj);
    return structuredClone(obj);
  }

  /** PUT of the main resource (`status: false`) or of `/status` (`status: true`). */
  replace(r: FakeResource, input: Obj, namespace: string, name: string, status: boolean): Obj {
    const current = this.#objects.get(r.plural)?.get(`${r.namespaced ? namespace : ''}/${name}`);
    if (current === undefined) throw new StoreError(404, 'NotFound', `${r.plural} "${name}" not found`);
    const wantRv = meta(input)['resourceVersion'];
    if (wantRv !== undefined && wantRv !== '' && wantRv !== meta(current)['resourceVersion']) {
      throw new StoreError(409, 'Conflict', `Operation cannot be fulfilled on ${r.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    const next: Obj = structuredClone(current);
    if (status) next['status'] = structuredClone(input['status']);
    else {
      for (const k of Object.keys(next)) if (k !== 'metadata' && k !== 'status' && k !== 'apiVersion' && k !== 'kind') delete next[k];
      for (const [k, v] of Object.entries(input)) if (k !== 'metadata' && k !== 'apiVersion' && k !== 'kind' && (k !== 'status' || !r.statusSubresource)) next[k] = structuredClone(v);
      const im = meta(input);
      const nm = meta(next);
      for (const f of ['labels', 'annotations'] as const) {
        if (im[f] === undefined) delete nm[f];
        else nm[f] = structuredClone(im[f]);
      }
      if (specOf(current) !== specOf(next)) nm['generation'] = Number(meta(current)['generation'] ?? 1) + 1;
    }
    return this.#commit(r, next);
  }

  /** JSON merge patch (RFC 7386) of `/status`, with the same resourceVersion precondition. */
  mergePatchStatus(r: FakeResource, patch: Obj, namespace: string, name: string): Obj {
    const current = this.get(r, namespace, name);
    const patched = { ...current, status: mergePatch(current['status'], patch['status']), metadata: { ...meta(current), resourceVersion: meta(patch)['resourceVersion'] } };
    return this.replace(r, patched, namespace, name, true);
  }

  delete(r: FakeResource, namespace: string, name: string): Obj {
    const map = this.#objects.get(r.plural);
    const id = `${r.namespaced ? namespace : ''}/${name}`;
    const current = map?.get(id);
    if (map === undefined || current === undefined) throw new StoreError(404, 'NotFound', `${r.plural} "${name}" not found`);
    map.delete(id);
    const gone = structuredClone(current);
    meta(gone)['resourceVersion'] = String(++this.#rv);
    this.#record('DELETED', r, gone);
    return gone;
  }

  /** Bumps an object's resourceVersion as another writer would (an annotation changes). */
  touch(r: FakeResource, namespace: string, name: string): void {
    const current = this.get(r, namespace, name);
    const m = meta(current);
    m['annotations'] = { ...(m['annotations'] as Obj | undefined), 'fake-apiserver/touched': String(this.#rv + 1) };
    this.#commit(r, current);
  }

  /** Forgets history: watches from any resourceVersion up to now get 410 Gone. */
  compact(): void {
    this.#compactedThrough = this.#rv;
    this.#history.length = 0;
  }

  /** Events after `from` for one resource, or `expired` when `from` is older than the history. */
  since(plural: string, namespace: string | undefined, from: number): StoredEvent[] | 'expired' {
    if (from < this.#compactedThrough) return 'expired';
    return this.#history.filter((e) => e.rv > from && e.plural === plural && (namespace === undefined || e.namespace === namespace));
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #commit(r: FakeResource, next: Obj): Obj {
    const m = meta(next);
    m['resourceVersion'] = String(++this.#rv);
    this.#map(r).set(`${r.namespaced ? String(m['namespace']) : ''}/${String(m['name'])}`, next);
    this.#record('MODIFIED', r, next);
    return structuredClone(next);
  }

  #emit(type: EventType, r: FakeResource, obj: Obj): void {
    this.#record(type, r, obj);
  }

  #record(type: EventType, r: FakeResource, obj: Obj): void {
    const event: StoredEvent = { type, rv: this.#rv, plural: r.plural, namespace: String(meta(obj)['namespace'] ?? ''), object: structuredClone(obj) };
    this.#history.push(event);
    for (const l of this.#listeners) l(event);
  }

  #map(r: FakeResource): Map<string, Obj> {
    let map = this.#objects.get(r.plural);
    if (map === undefined) {
      map = new Map();
      this.#objects.set(r.plural, map);
    }
    return map;
  }
}

export function meta(o: Obj): Obj {
  let m = o['metadata'];
  if (typeof m !== 'object' || m === null) {
    m = {};
    o['metadata'] = m;
  }
  return m as Obj;
}

function key(o: Obj): string {
  return `${String(meta(o)['namespace'] ?? '')}/${String(meta(o)['name'])}`;
}

function specOf(o: Obj): string {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const out: Obj = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Obj) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
