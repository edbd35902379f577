// The HTTP filter chain of one Service port, in the order Istio's waypoint builds it
// (pilot listener_waypoint.go): ext-authz (CUSTOM) → AUTHN plugins → JWT authn → AUTHZ plugins →
// RBAC (AUDIT, DENY, ALLOW) → STATS plugins → UNSPECIFIED plugins. Each stage is compiled by its own
// module from the policies that target the waypoint, its GatewayClass or this Service
// (JWT authn: RequestAuthentication, src/security/jwt/jwt-filter-stage.ts).
import { EMPTY_CHAIN, type FilterChain, type HttpFilter } from '../../filters/types.js';
import type { ServiceConfig } from '../snapshot.js';

/** What port-level filter stages may read while compiling one port's chain. */
export interface PortFilterInput {
  readonly service: Pick<ServiceConfig, 'key' | 'namespace' | 'name' | 'hostname'>;
  readonly port: number;
}

export type FilterStage = (input: PortFilterInput) => ReadonlyArray<HttpFilter>;

export function buildPortFilters(input: PortFilterInput, stages: ReadonlyArray<FilterStage>): FilterChain {
  const filters: HttpFilter[] = [];
  for (const stage of stages) filters.push(...stage(input));
  return filters.length === 0 ? EMPTY_CHAIN : Object.freeze(filters);
}
