// Outlier detection (DestinationRule outlierDetection, Envoy's consecutive_5xx / consecutive_gateway_failure):
// per-endpoint counters and ejections kept outside the snapshot, keyed by the endpoint id (`ip:port`).
// An endpoint is ejected for baseEjectionTime × times ejected, then returns; ejections are bounded by maxEjectionPercent.

/** The compiled policy on a cluster (snapshot.ts ClusterConfig.outlier). */
export interface OutlierPolicy {
  /** 0 disables. */
  readonly consecutive5xx: number;
  /** 0 disables; 502, 503, 504 and connect failures count. */
  readonly consecutiveGateway: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionPercent: number;
  /** Below this share of healthy endpoints, detection is ignored and every endpoint is used. */
  readonly minHealthPercent: number;
  readonly intervalMs: number;
}

interface EndpointOutlier {
  consecutive5xx: number;
  consecutiveGateway: number;
  timesEjected: number;
  /** Ejections by the detector that tripped (Envoy's ejections_enforced_consecutive_5xx / _gateway_failure). */
  enforced5xx: number;
  enforcedGateway: number;
  /** Ejections refused by maxEjectionPercent (Envoy's ejections_overflow). */
  overflow: number;
  /** ms (clock) until which the endpoint is ejected; 0 when not ejected. */
  ejectedUntil: number;
}

/** An endpoint's outlier-detection state as reported (the clock is the detector's, ms since the epoch by default). */
export interface OutlierState {
  /** Set while ejected: when the endpoint returns. */
  readonly ejectedUntilMs: number | undefined;
  readonly timesEjected: number;
  readonly consecutive5xx: number;
  readonly consecutiveGateway: number;
  readonly enforced5xx: number;
  readonly enforcedGateway: number;
  readonly overflow: number;
}

/** What an attempt ended with, as outlier detection counts it. */
export type AttemptOutcome = { readonly kind: 'status'; readonly status: number } | { readonly kind: 'connect-failure' };

export class OutlierDetectors {
  readonly #endpoints = new Map<string, EndpointOutlier>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Records one attempt's outcome; may eject the endpoint. `cluster` is every endpoint key of its cluster. */
  record(policy: OutlierPolicy, cluster: ReadonlyArray<string>, endpoint: string, outcome: AttemptOutcome): void {
    const s = this.#state(endpoint);
    const status = outcome.kind === 'status' ? outcome.status : 503;
    if (status < 500) {
      s.consecutive5xx = 0;
      s.consecutiveGateway = 0;
      return;
    }
    s.consecutive5xx++;
    if (status === 502 || status === 503 || status === 504) s.consecutiveGateway++;
    else s.consecutiveGateway = 0;
    const tripped = (policy.consecutive5xx > 0 && s.consecutive5xx >= policy.consecutive5xx)
      || (policy.consecutiveGateway > 0 && s.consecutiveGateway >= policy.consecutiveGateway);
    if (!tripped) return;
    const now = this.#now();
    if (this.#ejected(s, now)) return;
    const ejected = cluster.filter((k) => this.isEjected(k)).length;
    // Bounded by maxEjectionPercent; as Envoy does, one host may always be ejected when none is.
    if (ejected > 0 && (100 * (ejected + 1)) / cluster.length > policy.maxEjectionPercent) {
      s.overflow++;
      return;
    }
    if (policy.consecutive5xx > 0 && s.consecutive5xx >= policy.consecutive5xx) s.enforced5xx++;
    else s.enforcedGateway++;
    s.timesEjected++;
    s.ejectedUntil = now + policy.baseEjectionMs * s.timesEjected;
    s.consecutive5xx = 0;
    s.consecutiveGateway = 0;
  }

  isEjected(endpoint: string): boolean {
    const s = this.#endpoints.get(endpoint);
    return s !== undefined && this.#ejected(s, this.#now());
  }

  /** The endpoints to balance over: the non-ejected ones, or all when too few are healthy (minHealthPercent). */
  healthy<E extends { readonly key: string }>(policy: OutlierPolicy, endpoints: ReadonlyArray<E>): ReadonlyArray<E> {
    const healthy = endpoints.filter((e) => !this.isEjected(e.key));
    if (healthy.length === endpoints.length) return endpoints;
    if (healthy.length === 0 || (100 * healthy.length) / endpoints.length < policy.minHealthPercent) return endpoints;
    return healthy;
  }

  /** Debug view: every endpoint currently ejected, with when it returns and how often it was ejected. */
  describe(): Array<{ endpoint: string; ejectedForMs: number; timesEjected: number }> {
    const now = this.#now();
    const out: Array<{ endpoint: string; ejectedForMs: number; timesEjected: number }> = [];
    for (const [endpoint, s] of this.#endpoints) if (this.#ejected(s, now)) out.push({ endpoint, ejectedForMs: s.ejectedUntil - now, timesEjected: s.timesEjected });
    return out.sort((a, b) => (a.endpoint < b.endpoint ? -1 : 1));
  }

  /** Live state of one endpoint for /config_dump and metrics; undefined when nothing was ever recorded for it. */
  state(endpoint: string): OutlierState | undefined {
    const s = this.#endpoints.get(endpoint);
    if (s === undefined) return undefined;
    const ejected = this.#ejected(s, this.#now());
    return {
      ejectedUntilMs: ejected ? s.ejectedUntil : undefined,
      timesEjected: s.timesEjected,
      consecutive5xx: s.consecutive5xx,
      consecutiveGateway: s.consecutiveGateway,
      enforced5xx: s.enforced5xx,
      enforcedGateway: s.enforcedGateway,
      overflow: s.overflow,
    };
  }

  #ejected(s: EndpointOutlier, now: number): boolean {
    if (s.ejectedUntil === 0) return false;
    if (now < s.ejectedUntil) return true;
    s.ejectedUntil = 0;
    return false;
  }

  #state(endpoint: string): EndpointOutlier {
    let s = this.#endpoints.get(endpoint);
    if (s === undefined) {
      s = { consecutive5xx: 0, consecutiveGateway: 0, timesEjected: 0, enforced5xx: 0, enforcedGateway: 0, overflow: 0, ejectedUntil: 0 };
      this.#endpoints.set(endpoint, s);
    }
    return s;
  }
}

/** Istio duration strings ("30s", "1.5s", "500ms", "1m", "1h") in ms. */
export function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (m === null) return 0;
  const unit = m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000;
  return Math.round(Number(m[1]) * unit);
}
