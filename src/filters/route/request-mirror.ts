// HTTPRoute RequestMirror (Extended): marks the request to be copied to another backend. The copy is sent
// when the request is forwarded (proxy/mirror-request.ts), after every filter edited it, as Envoy does.
import type { ClusterConfig } from '../../config/snapshot.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { HttpFilter } from '../types.js';

export interface MirrorTarget {
  readonly cluster: ClusterConfig;
  /** Share of requests mirrored: numerator / denominator (`percent` p is p/100; neither field: 100%). */
  readonly numerator: number;
  readonly denominator: number;
}

export class RequestMirrorFilter implements HttpFilter {
  readonly name = 'route.request_mirror';
  readonly target: MirrorTarget;

  constructor(target: MirrorTarget) {
    this.target = target;
  }

  onRequestHeaders(ex: HttpExchange): undefined {
    (ex.mirrors ??= []).push(this.target);
    return undefined;
  }
}
