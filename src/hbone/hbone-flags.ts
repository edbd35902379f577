// The command-line view of HBONE settings: the identity flags must come together, and make `run` serve
// HBONE in both directions; without them the waypoint serves its local VIPs only.
import type { HboneSettings } from './hbone-runtime.js';

export interface HboneFlags {
  readonly cert?: string;
  readonly key?: string;
  readonly trustBundle?: string;
  readonly trustDomain: string;
  readonly hboneUpstreamPort: number;
  readonly trustForwardedFrom: ReadonlyArray<string>;
}

export type HboneFlagResult = { readonly ok: true; readonly value: HboneSettings | undefined } | { readonly ok: false; readonly message: string };

export function hboneFromFlags(f: HboneFlags): HboneFlagResult {
  const given = [f.cert, f.key, f.trustBundle].filter((v) => v !== undefined).length;
  if (given === 0) return { ok: true, value: undefined };
  if (given !== 3 || f.cert === undefined || f.key === undefined || f.trustBundle === undefined) {
    return { ok: false, message: '--cert, --key and --trust-bundle go together (the workload identity for HBONE)' };
  }
  return {
    ok: true,
    value: {
      identity: { certFile: f.cert, keyFile: f.key, trustBundleFile: f.trustBundle, trustDomain: f.trustDomain },
      upstreamPort: f.hboneUpstreamPort,
      trustForwardedFrom: f.trustForwardedFrom,
    },
  };
}
