// Compiled conditions → metav1.Condition as written to the API server. lastTransitionTime changes only
// when a condition's status changes (as apimachinery's meta.SetStatusCondition), so an unchanged
// condition compares equal and is not rewritten.
import { isObject, type JsonObject } from '../kube-rest.js';
import type { Condition } from '../../config/status.js';

export interface ApiCondition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

/** metav1.Condition limits: reason is CamelCase (1-1024 chars), message at most 32768 characters. */
const MAX_MESSAGE = 32_768;
const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/** RFC 3339 with second precision, as metav1.Time serializes. */
export function apiTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function toApiConditions(desired: ReadonlyArray<Condition>, existing: unknown, now: string, generation: number | undefined): ApiCondition[] {
  const previous = new Map<string, JsonObject>();
  if (Array.isArray(existing)) for (const c of existing) if (isObject(c) && typeof c['type'] === 'string') previous.set(c['type'], c);
  return desired.map((c) => {
    const prev = previous.get(c.type);
    const gen = c.observedGeneration ?? generation;
    const kept = prev !== undefined && prev['status'] === c.status && typeof prev['lastTransitionTime'] === 'string' ? prev['lastTransitionTime'] : now;
    return {
      type: c.type,
      status: c.status,
      reason: REASON.test(c.reason) ? c.reason : 'Unknown',
      message: c.message.length > MAX_MESSAGE ? `${c.message.slice(0, MAX_MESSAGE - 3)}...` : c.message,
      lastTransitionTime: kept,
      ...(gen === undefined ? {} : { observedGeneration: gen }),
    };
  });
}

/**
 * Sets the given condition types in a conditions list, keeping every other type (other controllers'
 * conditions) where it was; `remove` drops types this writer no longer asserts.
 */
export function mergeConditionList(existing: unknown, set: ReadonlyArray<ApiCondition>, remove: ReadonlyArray<string> = []): unknown[] {
  const out: unknown[] = [];
  const pending = new Map(set.map((c) => [c.type, c]));
  if (Array.isArray(existing)) {
    for (const c of existing) {
      const type = isObject(c) && typeof c['type'] === 'string' ? c['type'] : undefined;
      if (type !== undefined && pending.has(type)) {
        out.push(pending.get(type));
        pending.delete(type);
      } else if (type === undefined || !remove.includes(type)) out.push(c);
    }
  }
  out.push(...pending.values());
  return out;
}

/** Deep equality that ignores key order (the API server does not keep it). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
