// Slow start (DestinationRule loadBalancer.warmupDurationSecs / warmup, Envoy's slow_start_config): an endpoint
// added to an existing cluster gets a weight ramping up over the window, from minimumPercent (10% by default):
// factor = max(minimumPercent / 100, (time since added / window) ^ (1 / aggression)). Endpoints present when
// the cluster first appeared are not warming. Applied to ROUND_ROBIN and LEAST_REQUEST, as Envoy does.

export interface SlowStart {
  readonly windowMs: number;
  /** 0..1 (Envoy's min_weight_percent / 100, default 0.1). */
  readonly minWeight: number;
  /** Envoy's aggression (default 1: linear). */
  readonly aggression: number;
}

/** The share of its normal weight an endpoint added at `addedAt` has at `now` (1 once warm or never warming). */
export function slowStartFactor(s: SlowStart, addedAt: number, now: number): number {
  if (addedAt === 0) return 1;
  const elapsed = now - addedAt;
  if (elapsed >= s.windowMs) return 1;
  const t = Math.max(1, elapsed) / s.windowMs;
  return Math.max(s.minWeight, s.aggression === 1 ? t : t ** (1 / s.aggression));
}
