// Leader election over a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: acquire
// when the lease is free or its holder stopped renewing for leaseDuration (measured on our own clock
// from when we last saw the record change, so clock skew does not matter), renew every retryPeriod,
// give up after renewDeadline without a successful renewal, release on shutdown.
import { ApiError, isObject, type JsonObject, type KubeRest, metadataOf } from './kube-rest.js';
import type { Logger } from '../observability/logger.js';

export interface LeaderElectionOptions {
  readonly rest: KubeRest;
  readonly namespace: string;
  readonly name: string;
  /** Unique per process: `hostname_random`. */
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly log: Logger;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  readonly now?: () => number;
}

/** client-go's defaults (kube-controller-manager uses the same). */
export const DEFAULT_LEASE_TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

export class LeaderElector {
  readonly #o: LeaderElectionOptions;
  readonly #now: () => number;
  #leader = false;
  #lastRenew = 0;
  #observed: { readonly key: string; readonly at: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #tick: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#o.namespace)}/leases`;
  }

  start(): void {
    this.#loop();
  }

  /** Stops campaigning; a leader releases the lease so another replica takes over at once. */
  async stop(release = true): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#tick;
    if (!this.#leader) return;
    this.#setLeader(false);
    if (!release) return;
    try {
      const lease = await this.#o.rest.get(`${this.path}/${encodeURIComponent(this.#o.name)}`);
      const spec = isObject(lease['spec']) ? lease['spec'] : {};
      if (spec['holderIdentity'] !== this.#o.identity) return;
      const now = microTime(this.#now());
      // client-go's release: no holder, a 1 s duration, times set to now.
      await this.#o.rest.replace(`${this.path}/${encodeURIComponent(this.#o.name)}`, { ...lease, spec: { ...spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now } });
      this.#o.log.info('leader lease released', { lease: `${this.#o.namespace}/${this.#o.name}` });
    } catch (err) {
      this.#o.log.warn('could not release the leader lease', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  #loop(): void {
    if (this.#stopped) return;
    this.#tick = this.#tryAcquireOrRenew().then((ok) => {
      if (ok) this.#lastRenew = this.#now();
      if (this.#leader && !ok && this.#now() - this.#lastRenew > this.#o.renewDeadlineMs) {
        this.#o.log.warn('leader lease not renewed within the renew deadline: no longer the leader', { lease: `${this.#o.namespace}/${this.#o.name}` });
        this.#setLeader(false);
      } else if (!this.#leader && ok) this.#setLeader(true);
    }).finally(() => {
      if (!this.#stopped) this.#timer = setTimeout(() => this.#loop(), this.#o.retryPeriodMs);
    });
  }

  #setLeader(leader: boolean): void {
    if (this.#leader === leader) return;
    this.#leader = leader;
    this.#o.log.info(leader ? 'became the leader: writing status' : 'stopped leading: not writing status', { lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity });
    if (leader) this.#o.onStartedLeading();
    else this.#o.onStoppedLeading();
  }

  /** One round; true when we hold the lease afterwards. Errors count as "not renewed". */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const { rest, name, identity } = this.#o;
    const now = this.#now();
    const durationSeconds = Math.max(1, Math.round(this.#o.leaseDurationMs / 1000));
    try {
      let lease: JsonObject;
      try {
        lease = await rest.get(`${this.path}/${encodeURIComponent(name)}`);
      } catch (err) {
        if (!(err instanceof ApiError) || err.statusCode !== 404) throw err;
        await rest.create(this.path, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace: this.#o.namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      }
      const spec = isObject(lease['spec']) ? lease['spec'] : {};
      const holder = typeof spec['holderIdentity'] === 'string' ? spec['holderIdentity'] : '';
      const held = typeof spec['leaseDurationSeconds'] === 'number' ? spec['leaseDurationSeconds'] * 1000 : this.#o.leaseDurationMs;
      const key = `${holder}|${String(spec['renewTime'])}|${String(metadataOf(lease)['resourceVersion'])}`;
      if (this.#observed?.key !== key) this.#observed = { key, at: now };
      if (holder !== '' && holder !== identity && now < this.#observed.at + held) return false;
      const transitions = typeof spec['leaseTransitions'] === 'number' ? spec['leaseTransitions'] : 0;
      const next = {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        acquireTime: holder === identity && typeof spec['acquireTime'] === 'string' ? spec['acquireTime'] : microTime(now),
        leaseTransitions: holder === identity ? transitions : transitions + 1,
      };
      // The resourceVersion in metadata makes this a compare-and-swap: a 409 means someone else won.
      await rest.replace(`${this.path}/${encodeURIComponent(name)}`, { ...lease, spec: next });
      return true;
    } catch (err) {
      if (!(err instanceof ApiError) || (err.statusCode !== 409 && err.statusCode !== 404)) {
        this.#o.log.warn('leader election: lease request failed', { error: err instanceof Error ? err.message : String(err) });
      }
      return false;
    }
  }
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
