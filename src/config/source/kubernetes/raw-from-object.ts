// API server objects → RawResources. Objects from a list carry no apiVersion/kind (the list implies
// them), so the caller passes both. There are no source lines: diagnostics name the object instead.
import { createHash } from 'node:crypto';
import { isObject, type JsonObject, metadataOf } from '../../../kubernetes/kube-rest.js';
import type { RawMetadata, RawResource, ResourceOrigin } from '../../resource.js';

/** Objects read from the API server: the file is `kubernetes` and no field has a line. */
export const KUBERNETES_ORIGIN: ResourceOrigin = Object.freeze({
  file: 'kubernetes',
  doc: 0,
  line: 0,
  lineOf: () => undefined,
});

export function rawFromObject(obj: JsonObject, apiVersion: string, kind: string, namespaced: boolean, seq: number): RawResource {
  const object: JsonObject = { ...obj, apiVersion, kind };
  return { apiVersion, kind, metadata: rawMetadata(metadataOf(obj), namespaced), object, origin: KUBERNETES_ORIGIN, seq };
}

function rawMetadata(meta: JsonObject, namespaced: boolean): RawMetadata {
  const ns = meta['namespace'];
  const gen = meta['generation'];
  return {
    name: typeof meta['name'] === 'string' ? meta['name'] : '',
    namespace: namespaced ? (typeof ns === 'string' && ns !== '' ? ns : 'default') : '',
    labels: stringMap(meta['labels']),
    annotations: stringMap(meta['annotations']),
    creationTimestamp: typeof meta['creationTimestamp'] === 'string' ? meta['creationTimestamp'] : undefined,
    generation: typeof gen === 'number' && Number.isSafeInteger(gen) ? gen : undefined,
    resourceVersion: typeof meta['resourceVersion'] === 'string' ? meta['resourceVersion'] : undefined,
  };
}

/** The API server guarantees string values; anything else is dropped rather than trusted. */
function stringMap(v: unknown): Readonly<Record<string, string>> {
  if (!isObject(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, item] of Object.entries(v)) if (typeof item === 'string') out[k] = item;
  return out;
}

/** `namespace/name` (or `name` for cluster-scoped objects): the key informers and the status writer share. */
export function objectKey(obj: JsonObject): string {
  const meta = metadataOf(obj);
  const ns = typeof meta['namespace'] === 'string' ? meta['namespace'] : '';
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  return ns === '' ? name : `${ns}/${name}`;
}

/**
 * What a change must touch to matter for compilation: everything but the resourceVersion, the
 * managed fields and, for kinds whose status controllers write, the status. A digest, so a cache of
 * thousands of Pods does not keep a second copy of each.
 */
export function contentFingerprint(obj: JsonObject, ignoreStatus: boolean): string {
  const { metadata: _m, status, ...rest } = obj;
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = metadataOf(obj);
  return createHash('sha256').update(JSON.stringify(ignoreStatus ? { meta, rest } : { meta, rest, status })).digest('base64');
}
