// One error model: every reply the waypoint makes itself carries Envoy's status, body,
// response flag and response-code details, so logs, metrics and tests speak one language.

/** Flags of upstream failures; Envoy pairs them with `URX` when the retries ran out (`UF,URX`). */
export type UpstreamFailureFlag = 'UF' | 'UC' | 'UR' | 'UT' | 'UO' | 'LR';

/** Envoy's short response flags (the subset the waypoint produces). */
export type ResponseFlag = 'NR' | 'NC' | 'UH' | UpstreamFailureFlag | 'URX' | `${UpstreamFailureFlag},URX` | 'DC' | 'DPE' | 'UAEX';

export interface LocalReply {
  readonly status: number;
  /** text/plain body; empty for Envoy's bodiless replies. */
  readonly body: string;
  /** `undefined` when Envoy sets no flag (RBAC denials, direct responses). */
  readonly flag: ResponseFlag | undefined;
  /** Envoy's response-code details, e.g. `route_not_found`. */
  readonly details: string;
  /** grpc-status for gRPC requests when it is not the one mapped from `status` (proxy/grpc-protocol.ts). */
  readonly grpcStatus?: number;
  /** Extra response fields, flat [name, value, ...] (a redirect's `location`, CORS preflight headers). */
  readonly headers?: ReadonlyArray<string>;
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
  | 'remote refused stream reset'
  | 'protocol error';

const RESET_FLAG: Readonly<Record<ResetReason, UpstreamFailureFlag>> = {
  'remote connection failure': 'UF',
  'local connection failure': 'UF',
  'connection timeout': 'UF',
  'connection termination': 'UC',
  overflow: 'UO',
  'local reset': 'LR',
  'remote reset': 'UR',
  'remote refused stream reset': 'UR',
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
  /** A cluster circuit breaker (DestinationRule connectionPool) refused the request: Envoy's overflow reset. */
  overflow: reply(503, 'upstream connect error or disconnect/reset before headers. reset reason: overflow', 'UO', 'upstream_reset_before_response_started{overflow}'),
  upstreamTimeout: reply(504, 'upstream request timeout', 'UT', 'upstream_response_timeout'),
  /** Istio rejects HTTP/1.0 unless explicitly enabled. */
  lowVersion: reply(426, '', undefined, 'low_version'),
  direct(status: number, details: string): LocalReply {
    return reply(status, '', undefined, details);
  },
  /** The last attempt hit the per-attempt timeout (`backendRequest` with `retry`); URX when retries ran out. */
  upstreamPerTryTimeout(retryLimitExceeded: boolean): LocalReply {
    return reply(504, 'upstream request timeout', retryLimitExceeded ? 'UT,URX' : 'UT', 'upstream_per_try_timeout');
  },
  /** HTTPRoute RequestRedirect: Envoy answers redirects as direct responses with a Location and no body. */
  redirect(status: number, location: string): LocalReply {
    return Object.freeze({ status, body: '', flag: undefined, details: 'direct_response', headers: Object.freeze(['location', location]) });
  },
  /** A CORS preflight answered by the CORS filter (never forwarded), with the CORS headers it granted. */
  corsPreflight(headers: ReadonlyArray<string>): LocalReply {
    return Object.freeze({ status: 200, body: '', flag: undefined, details: 'cors_response', headers });
  },
  /**
   * Envoy's jwt_authn denial: 401 (403 for a wrong audience), the verification status as the body, a
   * `WWW-Authenticate` challenge, details `jwt_authn_access_denied{<status, spaces as _>}`.
   */
  jwtDenied(status: 401 | 403, message: string, wwwAuthenticate: string): LocalReply {
    const details = `jwt_authn_access_denied{${message.replaceAll(' ', '_')}}`;
    return Object.freeze({ status, body: message, flag: undefined, details, headers: Object.freeze(['www-authenticate', wwwAuthenticate]) });
  },
  /**
   * Reset before headers after at least one retry. Newer Envoy words it "retried and the latest reset
   * reason", and adds URX to the flag when the retry limit was what stopped it.
   */
  upstreamResetRetried(reason: ResetReason, transportFailure: string | undefined, retryLimitExceeded: boolean): LocalReply {
    const detail = transportFailure === undefined ? reason : `${reason}, transport failure reason: ${transportFailure}`;
    const flag = RESET_FLAG[reason];
    return reply(
      503,
      `upstream connect error or disconnect/reset before headers. retried and the latest reset reason: ${detail}`,
      retryLimitExceeded ? `${flag},URX` : flag,
      `upstream_reset_before_response_started{${reason.replaceAll(' ', '_')}}`,
    );
  },
  /** AuthorizationPolicy denial (a DENY rule matched, or no ALLOW rule did: policyId `none`), as Envoy's RBAC filter. */
  rbacDenied(policyId: string): LocalReply {
    return reply(403, 'RBAC: access denied', undefined, `rbac_access_denied_matched_policy[${policyId.replace(/\s/g, '_')}]`);
  },
  /** CUSTOM: the external authorizer denied; its status, body and allowed headers go to the client. */
  extAuthzDenied(status: number, body: string, headers: ReadonlyArray<string>): LocalReply {
    return Object.freeze({ status, body, flag: 'UAEX', details: 'ext_authz_denied', headers });
  },
  /** CUSTOM: the external authorizer failed (unreachable, timeout, 5xx) and failOpen is off: `statusOnError`. */
  extAuthzError(status: number): LocalReply {
    return reply(status, '', 'UAEX', 'ext_authz_error');
  },
  /** Path normalization rejected the request path (e.g. an encoded NUL, `%00`). */
  pathNormalizationFailed: reply(400, '', undefined, 'path_normalization_failed'),
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
