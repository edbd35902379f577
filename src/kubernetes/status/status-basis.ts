// What status is computed from: the live snapshot and the exact objects it was compiled from, plus
// lookups every status kind needs (who owns a parentRef, the errors reported for a resource).
import type { Snapshot } from '../../config/snapshot.js';
import type { Condition, ServiceBindingStatus } from '../../config/status.js';
import { resourceRefString } from '../../config/resource.js';
import type { LoadedObjects } from '../../config/source/kubernetes/kubernetes-source.js';
import { isObject, type JsonObject, metadataOf } from '../kube-rest.js';

export interface StatusBasis {
  readonly snapshot: Snapshot;
  /** The objects the snapshot was compiled from, by kind then `namespace/name`. */
  readonly objects: LoadedObjects;
}

export interface StatusContext {
  /** `controllerName` in route status: the controller of the waypoint's GatewayClass. */
  readonly controllerName: string;
  /** `namespace/name` of the waypoint Gateway this process serves. */
  readonly waypointKey: string;
  readonly clusterDomain: string;
  /** metav1.Time of this write pass. */
  readonly now: string;
}

/** A status this writer would put on one object. */
export interface StatusTarget {
  readonly kind: string;
  /** '' for cluster-scoped kinds. */
  readonly namespace: string;
  readonly name: string;
  /** The object's new `status`, given the object as it is now (other controllers' parts kept). */
  desired(current: JsonObject): JsonObject;
}

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** Who writes the status of a parentRef: this waypoint, nobody in particular (unbound Service), or another. */
export type ParentOwner = 'ours' | 'unbound' | 'foreign';

export class BasisIndex {
  readonly basis: StatusBasis;
  readonly ctx: StatusContext;
  readonly #bindings: ReadonlyMap<string, ServiceBindingStatus>;
  readonly #errors = new Map<string, string[]>();

  constructor(basis: StatusBasis, ctx: StatusContext) {
    this.basis = basis;
    this.ctx = ctx;
    this.#bindings = new Map(basis.snapshot.status.services.map((s) => [s.service, s]));
    for (const d of basis.snapshot.diagnostics) {
      if (d.severity !== 'error' || d.resource === undefined) continue;
      const list = this.#errors.get(d.resource) ?? [];
      list.push(d.path === undefined ? d.message : `${d.path}: ${d.message}`);
      this.#errors.set(d.resource, list);
    }
  }

  objects(kind: string): ReadonlyMap<string, JsonObject> {
    return this.basis.objects.get(kind) ?? new Map();
  }

  object(kind: string, namespace: string, name: string): JsonObject | undefined {
    return this.objects(kind).get(namespace === '' ? name : `${namespace}/${name}`);
  }

  /** Error diagnostics naming this resource, one line each. */
  errorsOf(kind: string, namespace: string, name: string): ReadonlyArray<string> {
    return this.#errors.get(resourceRefString(kind, namespace, name)) ?? [];
  }

  binding(serviceKey: string): ServiceBindingStatus | undefined {
    return this.#bindings.get(serviceKey);
  }

  /** A Service parent is ours when bound to our waypoint; a Gateway parent only when it is our Gateway. */
  parentOwner(ref: NormalizedParentRef): ParentOwner {
    if (ref.kind === 'Service' && (ref.group === '' || ref.group === 'core')) {
      const waypoint = this.#bindings.get(`${ref.namespace}/${ref.name}`)?.waypoint;
      if (waypoint === undefined) return 'unbound';
      return waypoint === this.ctx.waypointKey ? 'ours' : 'foreign';
    }
    if (ref.kind === 'Gateway' && ref.group === GATEWAY_GROUP) return `${ref.namespace}/${ref.name}` === this.ctx.waypointKey ? 'ours' : 'foreign';
    return 'foreign';
  }
}

export interface NormalizedParentRef {
  readonly group: string;
  readonly kind: string;
  /** Effective namespace (the route's when not written). */
  readonly namespace: string;
  readonly name: string;
  /** The reference as it goes into status: defaults for group and kind filled in, as the CRD does. */
  readonly record: JsonObject;
  /** Identity for matching status entries to spec entries. */
  readonly key: string;
}

export function normalizeParentRef(ref: unknown, routeNamespace: string): NormalizedParentRef | undefined {
  if (!isObject(ref) || typeof ref['name'] !== 'string') return undefined;
  const group = typeof ref['group'] === 'string' ? ref['group'] : GATEWAY_GROUP;
  const kind = typeof ref['kind'] === 'string' ? ref['kind'] : 'Gateway';
  const written = typeof ref['namespace'] === 'string' ? ref['namespace'] : undefined;
  const namespace = written ?? routeNamespace;
  const record: JsonObject = { group, kind, name: ref['name'] };
  if (written !== undefined) record['namespace'] = written;
  if (typeof ref['sectionName'] === 'string') record['sectionName'] = ref['sectionName'];
  if (typeof ref['port'] === 'number') record['port'] = ref['port'];
  const key = [group, kind, namespace, ref['name'], record['sectionName'] ?? '', record['port'] ?? ''].join('|');
  return { group, kind, namespace, name: ref['name'], record, key };
}

export function generationOf(obj: JsonObject): number | undefined {
  const gen = metadataOf(obj)['generation'];
  return typeof gen === 'number' ? gen : undefined;
}

/** True when every condition was computed for this generation (conditions without one count as current). */
export function computedFor(conditions: ReadonlyArray<Condition>, generation: number | undefined): boolean {
  return conditions.every((c) => c.observedGeneration === undefined || generation === undefined || c.observedGeneration === generation);
}

/** The `status` of an object as a record (empty when absent). */
export function statusOf(obj: JsonObject): JsonObject {
  const s = obj['status'];
  return isObject(s) ? s : {};
}

export function rejectedMessage(errors: ReadonlyArray<string>, keptPrevious: boolean): string {
  const head = keptPrevious ? 'this generation is rejected and not applied (the previous generation keeps serving)' : 'rejected';
  return `${head}: ${errors.slice(0, 5).join('; ')}${errors.length > 5 ? ` (and ${errors.length - 5} more)` : ''}`;
}
