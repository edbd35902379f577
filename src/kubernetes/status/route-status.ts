// Route `status.parents` as a Gateway API controller writes it: one entry per parentRef this waypoint
// is responsible for, keyed by (parentRef, controllerName); entries of other controllers and of
// parents another waypoint serves are left untouched; at most 32 entries (the CRD's limit).
import type { Condition, RouteStatus } from '../../config/status.js';
import { condition } from '../../config/status.js';
import { isObject, type JsonObject, metadataOf } from '../kube-rest.js';
import { mergeConditionList, toApiConditions } from './api-conditions.js';
import { type BasisIndex, computedFor, generationOf, normalizeParentRef, type NormalizedParentRef, rejectedMessage, statusOf, type StatusTarget } from './status-basis.js';

const MAX_PARENTS = 32;

/** Status targets for every route of `kind` in the basis. */
export function routeTargets(kind: string, index: BasisIndex): StatusTarget[] {
  const compiled = new Map<string, RouteStatus>();
  for (const rs of index.basis.snapshot.status.routes) if (rs.kind === kind) compiled.set(`${rs.namespace}/${rs.name}`, rs);
  const out: StatusTarget[] = [];
  for (const [key, obj] of index.objects(kind)) {
    const target = routeTarget(kind, obj, compiled.get(key), index);
    if (target !== undefined) out.push(target);
  }
  return out;
}

interface DesiredParent {
  readonly ref: NormalizedParentRef;
  readonly conditions: ReadonlyArray<Condition>;
}

function routeTarget(kind: string, obj: JsonObject, compiled: RouteStatus | undefined, index: BasisIndex): StatusTarget | undefined {
  const meta = metadataOf(obj);
  const namespace = typeof meta['namespace'] === 'string' ? meta['namespace'] : 'default';
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  const generation = generationOf(obj);
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const specRefs = (Array.isArray(spec['parentRefs']) ? spec['parentRefs'] : []).map((r) => normalizeParentRef(r, namespace)).filter((r) => r !== undefined);
  const inSpec = new Set(specRefs.map((r) => r.key));

  let desired: DesiredParent[];
  if (compiled !== undefined && compiled.parents.every((p) => computedFor(p.conditions, generation))) {
    desired = compiled.parents.flatMap((p) => {
      const ref = normalizeParentRef(p.parentRef, namespace);
      return ref === undefined ? [] : [{ ref, conditions: p.conditions }];
    });
  } else {
    // This generation did not compile (validation rejected it): say why on each parent, naming the fields.
    const errors = index.errorsOf(kind, namespace, name);
    if (errors.length === 0) return undefined; // not compiled for another reason (e.g. a newer load pending)
    const message = rejectedMessage(errors, compiled !== undefined);
    desired = specRefs.map((ref) => ({ ref, conditions: [condition('Accepted', 'False', 'UnsupportedValue', message, generation)] }));
  }
  desired = desired.filter((d) => index.parentOwner(d.ref) !== 'foreign');
  const controllerName = index.ctx.controllerName;

  return {
    kind,
    namespace,
    name,
    desired(current) {
      const status = statusOf(current);
      const existing = Array.isArray(status['parents']) ? status['parents'] : [];
      const kept: unknown[] = [];
      const ours = new Map<string, JsonObject>();
      for (const entry of existing) {
        if (!isObject(entry)) continue;
        const ref = normalizeParentRef(entry['parentRef'], namespace);
        if (entry['controllerName'] !== controllerName || ref === undefined) {
          kept.push(entry);
          continue;
        }
        // Ours: rewritten below when we still serve it; kept when another waypoint serves that parent;
        // dropped when the parentRef left the spec or the parent is gone.
        if (inSpec.has(ref.key) && index.parentOwner(ref) === 'foreign') kept.push(entry);
        else ours.set(ref.key, entry);
      }
      const parents = [...kept];
      for (const d of desired) {
        if (parents.length >= MAX_PARENTS) break;
        const previous = ours.get(d.ref.key);
        const conditions = toApiConditions(d.conditions, previous?.['conditions'], index.ctx.now, generation);
        parents.push({ parentRef: d.ref.record, controllerName, conditions: mergeConditionList(previous?.['conditions'], conditions, d.conditions.length === 0 ? [] : knownRouteConditions) });
      }
      return { ...status, parents };
    },
  };
}

/** Route condition types this writer asserts; a stale one (e.g. PartiallyInvalid once fixed) is dropped. */
const knownRouteConditions = ['Accepted', 'ResolvedRefs', 'PartiallyInvalid', 'ResolvedWaypoints'];
