// Writes status back to the API server like a Gateway API controller: after every applied snapshot
// (and when watched objects change), computes each object's status, compares it with what is there and
// PUTs the status subresource only when it differs, retrying on 409 Conflict with a fresh read.
// Only the leader (leader-election.ts) writes.
import { resourcePath } from '../../config/source/kubernetes/api-resources.js';
import type { ApiResource } from '../../config/source/kubernetes/api-resources.js';
import { CONTROLLER_NAME } from '../../config/status.js';
import { WAYPOINT_GATEWAY_CLASS } from '../../config/model/gateway.js';
import { isAppliedKind } from '../../config/validate/kinds.js';
import type { Logger } from '../../observability/logger.js';
import { ApiError, isObject, type JsonObject, type KubeRest, metadataOf } from '../kube-rest.js';
import { apiTime, sameJson } from './api-conditions.js';
import { gatewayTargets, WAYPOINT_CONTROLLER_NAME } from './gateway-status.js';
import { policyTargets, serviceTargets } from './object-status.js';
import { routeTargets } from './route-status.js';
import { BasisIndex, type StatusBasis, type StatusContext, statusOf, type StatusTarget } from './status-basis.js';

const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute'];

/** Every kind this writer may PUT the status subresource of (deploy/cluster/clusterrole.yaml grants exactly these). */
export function statusKinds(): string[] {
  return ['GatewayClass', 'Gateway', ...ROUTE_KINDS.filter(isAppliedKind), 'Service', 'AuthorizationPolicy'];
}

export interface ObjectLookup {
  /** The newest cached object. */
  current(kind: string, namespace: string, name: string): JsonObject | undefined;
  resourceOf(kind: string): { readonly resource: ApiResource; readonly apiVersion: string } | undefined;
}

export interface StatusWriterOptions {
  readonly rest: KubeRest;
  readonly objects: ObjectLookup;
  readonly log: Logger;
  readonly clusterDomain: string;
  readonly isLeader: () => boolean;
  readonly now?: () => Date;
  readonly debounceMs?: number;
  readonly maxConflictRetries?: number;
  /** Delay before retrying a pass that failed (API server errors); doubles up to 30 s. */
  readonly retryMs?: number;
  /** Full pass this often even without changes (repairs status edited by hand). */
  readonly resyncMs?: number;
}

export interface WriterStats {
  written: number;
  conflicts: number;
  failures: number;
  passes: number;
}

type Outcome = 'written' | 'unchanged' | 'gone' | 'not-leader';

export class StatusWriter {
  readonly stats: WriterStats = { written: 0, conflicts: 0, failures: 0, passes: 0 };
  readonly #o: StatusWriterOptions;
  #basis: StatusBasis | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #failedPasses = 0;
  #closed = false;
  readonly #resync: NodeJS.Timeout;
  /** Our own writes, until the informer cache catches up (avoids a 409 round trip on a stale cache). */
  readonly #written = new Map<string, { readonly staleRv: unknown; readonly obj: JsonObject }>();

  constructor(options: StatusWriterOptions) {
    this.#o = options;
    this.#resync = setInterval(() => this.schedule(), options.resyncMs ?? 300_000);
    this.#resync.unref();
  }

  /** The live snapshot and the objects it was compiled from; triggers a pass. */
  setBasis(basis: StatusBasis): void {
    this.#basis = basis;
    this.schedule();
  }

  schedule(delayMs = this.#o.debounceMs ?? 100): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.reconcile();
    }, delayMs);
  }

  /** One pass over every status target (serialized; a request during a pass runs another after it). */
  reconcile(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#pass();
        } while (this.#again && !this.#closed);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** A pass is running or scheduled. */
  get busy(): boolean {
    return this.#running !== undefined || this.#timer !== undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#resync);
    await this.#running;
  }

  async #pass(): Promise<void> {
    const basis = this.#basis;
    if (basis === undefined || !this.#o.isLeader() || basis.snapshot.waypoint === undefined) return;
    const { namespace, name } = basis.snapshot.waypoint;
    const ctx: StatusContext = {
      controllerName: controllerFor(basis, `${namespace}/${name}`),
      waypointKey: `${namespace}/${name}`,
      clusterDomain: this.#o.clusterDomain,
      now: apiTime((this.#o.now ?? (() => new Date()))()),
    };
    const index = new BasisIndex(basis, ctx);
    const targets: StatusTarget[] = [
      ...gatewayTargets(index),
      ...ROUTE_KINDS.filter(isAppliedKind).flatMap((k) => routeTargets(k, index)),
      ...serviceTargets(index),
      ...policyTargets(index),
    ];
    let written = 0;
    let failed = 0;
    for (const target of targets) {
      if (this.#closed) return;
      try {
        const outcome = await this.#write(target);
        if (outcome === 'not-leader') return;
        if (outcome === 'written') written++;
      } catch (err) {
        failed++;
        this.stats.failures++;
        this.#o.log.warn('status write failed', { object: `${target.kind} ${target.namespace === '' ? '' : `${target.namespace}/`}${target.name}`, error: err instanceof Error ? err.message : String(err) });
      }
    }
    this.stats.passes++;
    if (written > 0) this.#o.log.info('status written', { objects: written });
    if (failed > 0) {
      this.#failedPasses++;
      this.schedule(Math.min(30_000, (this.#o.retryMs ?? 1000) * 2 ** (this.#failedPasses - 1)));
    } else this.#failedPasses = 0;
  }

  async #write(target: StatusTarget): Promise<Outcome> {
    const api = this.#o.objects.resourceOf(target.kind);
    if (api === undefined) return 'gone';
    const id = `${target.kind}/${target.namespace}/${target.name}`;
    let current = this.#current(id, target);
    if (current === undefined) return 'gone';
    const version = api.apiVersion.split('/').pop() ?? 'v1';
    const at = { namespace: target.namespace, name: target.name };
    const retries = this.#o.maxConflictRetries ?? 5;
    for (let attempt = 0; ; attempt++) {
      const status = target.desired(current);
      if (sameJson(statusOf(current), status)) return 'unchanged';
      if (!this.#o.isLeader()) return 'not-leader';
      try {
        const body = { ...current, apiVersion: api.apiVersion, kind: target.kind, status };
        const written = await this.#o.rest.replace(resourcePath(api.resource, version, { ...at, subresource: 'status' }), body);
        this.#written.set(id, { staleRv: metadataOf(current)['resourceVersion'], obj: written });
        this.stats.written++;
        return 'written';
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (err.statusCode === 404) return 'gone';
        if (err.statusCode !== 409 || attempt >= retries) throw err;
        // Someone else changed the object since we read it: read it again and recompute.
        this.stats.conflicts++;
        current = await this.#o.rest.get(resourcePath(api.resource, version, at));
      }
    }
  }

  #current(id: string, target: StatusTarget): JsonObject | undefined {
    const cached = this.#o.objects.current(target.kind, target.namespace, target.name);
    const ours = this.#written.get(id);
    if (ours === undefined) return cached;
    if (cached === undefined || metadataOf(cached)['resourceVersion'] !== ours.staleRv) {
      this.#written.delete(id);
      return cached;
    }
    return ours.obj;
  }
}

/** Route status names the controller of the waypoint's class: Istio's for istio-waypoint, ours otherwise. */
function controllerFor(basis: StatusBasis, waypointKey: string): string {
  const gw = basis.objects.get('Gateway')?.get(waypointKey);
  const spec = gw !== undefined && isObject(gw['spec']) ? gw['spec'] : {};
  return spec['gatewayClassName'] === WAYPOINT_GATEWAY_CLASS ? CONTROLLER_NAME : WAYPOINT_CONTROLLER_NAME;
}
