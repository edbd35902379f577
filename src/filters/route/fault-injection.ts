// VirtualService `fault` (Envoy's fault filter, per route): delays a share of requests by a fixed time, then
// aborts a share with an HTTP or gRPC status. Delay comes first; a delayed request may still be aborted.
import { type LocalReply, LocalReplies } from '../../errors/local-reply.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { FilterOutcome, HttpFilter } from '../types.js';

/** Share of requests as Envoy's FractionalPercent with denominator MILLION (Istio: percentage × 10000). */
export type PerMillion = number;

export interface FaultDelay {
  readonly delayMs: number;
  readonly perMillion: PerMillion;
}

export interface FaultAbort {
  /** HTTP status of the reply; for a gRPC abort, the HTTP status its gRPC code maps to (non-gRPC clients get it). */
  readonly status: number;
  /** `abort.grpcStatus` as a code; gRPC clients get HTTP 200 with this `grpc-status`. */
  readonly grpcStatus: number | undefined;
  readonly perMillion: PerMillion;
}

export interface FaultConfig {
  readonly delay: FaultDelay | undefined;
  readonly abort: FaultAbort | undefined;
  /** [0, 1); injected so tests can decide. */
  readonly random: () => number;
}

export class FaultInjectionFilter implements HttpFilter {
  readonly name = 'route.fault';
  readonly #config: FaultConfig;

  constructor(config: FaultConfig) {
    this.#config = config;
  }

  /** How /config_dump shows it: delay and abort with their share as a percentage. */
  describe(): Record<string, unknown> {
    const { delay, abort } = this.#config;
    return {
      name: this.name,
      ...(delay === undefined ? {} : { delay: { fixedDelay: `${delay.delayMs}ms`, percent: delay.perMillion / 10_000 } }),
      ...(abort === undefined ? {} : { abort: { status: abort.status, ...(abort.grpcStatus === undefined ? {} : { grpcStatus: abort.grpcStatus }), percent: abort.perMillion / 10_000 } }),
    };
  }

  onRequestHeaders(ex: HttpExchange): FilterOutcome | Promise<FilterOutcome> {
    const { delay, random } = this.#config;
    if (delay !== undefined && selected(delay.perMillion, random)) {
      // Envoy marks the request DI whether or not it is aborted afterwards; the delay holds only this request.
      return new Promise((resolve) => {
        setTimeout(() => {
          if (!ex.done) ex.flag = 'DI';
          resolve(this.#abort(true));
        }, delay.delayMs);
      });
    }
    return this.#abort(false);
  }

  #abort(delayed: boolean): LocalReply | undefined {
    const { abort, random } = this.#config;
    if (abort === undefined || !selected(abort.perMillion, random)) return undefined;
    return LocalReplies.faultAbort(abort.status, abort.grpcStatus, delayed);
  }
}

function selected(perMillion: PerMillion, random: () => number): boolean {
  if (perMillion <= 0) return false;
  return perMillion >= 1_000_000 || random() * 1_000_000 < perMillion;
}
