// One error model: every reply the waypoint makes itself carries Envoy's status, body,
// response flag and response-code details, so logs, metrics and tests speak one language.

/** Flags of upstream failures; Envoy pairs them with `URX` when the retries ran out (`UF,URX`). */
export type UpstreamFailureFlag = 'UF' | 'UC' | 'UR' | 'UT' | 'UO' | 'LR';

/** Envoy's short response flags (the subset the waypoint produces). */
export type ResponseFlag = 'NR' | 'NC' | 'UH' | UpstreamFailureFlag | 'URX' | `${UpstreamFailureFlag},URX` | 'DC' | 'DPE' | 'UAEX' | FaultFlag;

/** Fault injection (VirtualService `fault`): `DI` delayed, `FI` aborted, both when a delayed request is then aborted. */
export type FaultFlag = 'DI' | 'FI' | 'DI,FI';

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
  /** A direct response body given as bytes (VirtualService `body.bytes`): sent instead of `body`. */
  readonly bodyBytes?: Buffer;
}

function reply(status: number, body: string, flag: ResponseFlag | undefined, details: string): LocalReply {
  return Object.freeze({ status, body, flag, details });
}

/** Why an upstream attempt failed before response headers, in Envoy's reset-reason words. */
export type ResetReason =
  | 'remote connection failure'
  /** A failed upstream TLS handshake (DestinationRule tls origination); the transport failure says why. */
  | 'connection failure'
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
  'connection failure': 'UF',
  'local connection failure': 'UF',
  'connection timeout': 'UF',
  'connection termination': 'UC',
  overflow: 'UO',
  'local reset': 'LR',
  'remote reset': 'UR',
  'remote refused stream reset': 'UR',
  'protocol error': 'UR',
};

/** Envoy's details; a TLS failure also names the transport failure (`{connection_failure,TLS_error:_...}`). */
function resetDetails(reason: ResetReason, transportFailure: string | undefined): string {
  const tls = reason === 'connection failure' && transportFailure !== undefined ? `,${transportFailure.replace(/\s/g, '_')}` : '';
  return `upstream_reset_before_response_started{${reason.replaceAll(' ', '_')}${tls}}`;
}

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
      resetDetails(reason, transportFailure),
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
  /** A VirtualService destination that names no Service or port: Envoy's default cluster_not_found code, 503. */
  clusterNotFoundUnavailable: reply(503, '', 'NC', 'cluster_not_found'),
  /** VirtualService `fault.abort`: Envoy's fault filter reply; `grpcStatus` for `abort.grpcStatus` (gRPC clients get it). */
  faultAbort(status: number, grpcStatus: number | undefined, delayed: boolean): LocalReply {
    const flag: FaultFlag = delayed ? 'DI,FI' : 'FI';
    return Object.freeze({ status, body: 'fault filter abort', flag, details: 'fault_filter_abort', ...(grpcStatus === undefined ? {} : { grpcStatus }) });
  },
  /** VirtualService `directResponse`: the status and body as configured, no flag (Envoy's direct_response). */
  directResponse(status: number, body: string, bytes: Buffer | undefined): LocalReply {
    return Object.freeze({ status, body, flag: undefined, details: 'direct_response', ...(bytes === undefined ? {} : { bodyBytes: bytes }) });
  },
  /**
   * A Wasm plugin that cannot run (module not fetched yet, fetch failed, module rejected by the runtime) with
   * failStrategy FAIL_CLOSE: Envoy's wasm filter answers 503 with an empty body and details `wasm_fail_stream`
   * (gRPC: UNAVAILABLE, the 503 mapping), as in Envoy's YamlLoadFromRemoteSuccessBadcode test.
   */
  wasmFailStream: reply(503, '', undefined, 'wasm_fail_stream'),
  /** A request body held for a body-phase filter outgrew the buffer limit (Envoy's 413). */
  requestPayloadTooLarge: reply(413, 'Payload Too Large', undefined, 'request_payload_too_large'),
  /**
   * A response held before its head went out (a filter paused response headers) outgrew the buffer limit:
   * Envoy's responseDataTooLarge answers 500 `response_payload_too_large` while headers are unsent.
   */
  responsePayloadTooLarge: reply(500, 'Internal Server Error', undefined, 'response_payload_too_large'),
  /**
   * proxy_send_local_response: the plugin's `details` become the response-code details (whitespace as `_`),
   * `wasm_local_reply` without any; grpc_status -1 maps it from the HTTP status.
   */
  wasmLocalReply(status: number, details: string, body: string, headers: ReadonlyArray<string>, grpcStatus: number): LocalReply {
    return Object.freeze({
      status: status >= 100 && status <= 999 ? status : 500,
      body,
      flag: undefined,
      details: details === '' ? 'wasm_local_reply' : details.replace(/\s/g, '_'),
      ...(headers.length > 0 ? { headers: Object.freeze([...headers]) } : {}),
      ...(grpcStatus >= 0 && grpcStatus <= 16 ? { grpcStatus } : {}),
    });
  },
  /** Path normalization rejected the request path (e.g. an encoded NUL, `%00`). */
  pathNormalizationFailed: reply(400, '', undefined, 'path_normalization_failed'),
  upstreamReset(reason: ResetReason, transportFailure: string | undefined): LocalReply {
    const detail = transportFailure === undefined ? reason : `${reason}, transport failure reason: ${transportFailure}`;
    return reply(
      503,
      `upstream connect error or disconnect/reset before headers. reset reason: ${detail}`,
      RESET_FLAG[reason],
      resetDetails(reason, transportFailure),
    );
  },
} as const;
