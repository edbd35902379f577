// One error model: every reply the waypoint makes itself carries Envoy's status, body,
// response flag and response-code details, so logs, metrics and tests speak one language.

/** Envoy's short response flags (the subset the waypoint produces). */
export type ResponseFlag = 'NR' | 'NC' | 'UH' | 'UF' | 'UC' | 'UR' | 'UT' | 'UO' | 'URX' | 'DC' | 'DPE' | 'LR';

export interface LocalReply {
  readonly status: number;
  /** text/plain body; empty for Envoy's bodiless replies. */
  readonly body: string;
  /** `undefined` when Envoy sets no flag (RBAC denials, direct responses). */
  readonly flag: ResponseFlag | undefined;
  /** Envoy's response-code details, e.g. `route_not_found`. */
  readonly details: string;
}

function reply(status: number, body: string, flag: ResponseFlag | undefined, details: string): LocalReply {
  return Object.freeze({ status, body, flag, details });
}

/** Why an upstream attempt failed before response headers, in Envoy's reset-reason words. */
export type ResetReason =
  | 'remote connection failure'
  | 'local connection failure'
  | 'connection termination'
  | 'connection timeout'
  | 'overflow'
  | 'local reset'
  | 'remote reset'
  | 'protocol error';

const RESET_FLAG: Readonly<Record<ResetReason, ResponseFlag>> = {
  'remote connection failure': 'UF',
  'local connection failure': 'UF',
  'connection timeout': 'UF',
  'connection termination': 'UC',
  overflow: 'UO',
  'local reset': 'LR',
  'remote reset': 'UR',
  'protocol error': 'UR',
};

export const LocalReplies = {
  /** A route is attached but no rule matched: Gateway API requires 404. */
  routeNotFound: reply(404, '', 'NR', 'route_not_found'),
  /** The connection's listener no longer exists in the current snapshot. */
  filterChainNotFound: reply(404, '', 'NR', 'filter_chain_not_found'),
  /** An invalid backendRef's share of traffic (Gateway API: 500). */
  clusterNotFound: reply(500, '', 'NC', 'cluster_not_found'),
  noHealthyUpstream: reply(503, 'no healthy upstream', 'UH', 'no_healthy_upstream'),
  upstreamTimeout: reply(504, 'upstream request timeout', 'UT', 'upstream_response_timeout'),
  /** Istio rejects HTTP/1.0 unless explicitly enabled. */
  lowVersion: reply(426, '', undefined, 'low_version'),
  direct(status: number, details: string): LocalReply {
    return reply(status, '', undefined, details);
  },
  upstreamReset(reason: ResetReason, transportFailure: string | undefined): LocalReply {
    const detail = transportFailure === undefined ? reason : `${reason}, transport failure reason: ${transportFailure}`;
    return reply(
      503,
      `upstream connect error or disconnect/reset before headers. reset reason: ${detail}`,
      RESET_FLAG[reason],
      `upstream_reset_before_response_started{${reason.replaceAll(' ', '_')}}`,
    );
  },
} as const;
