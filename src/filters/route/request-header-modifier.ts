// HTTPRoute RequestHeaderModifier (Core): edits the request headers sent upstream.
import type { HeaderModifier } from '../../config/model/http-route.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { HttpFilter } from '../types.js';
import { HeaderEdits } from './header-edits.js';

export class RequestHeaderModifierFilter implements HttpFilter {
  readonly name = 'route.request_header_modifier';
  readonly #edits: HeaderEdits;

  constructor(config: HeaderModifier) {
    this.#edits = new HeaderEdits(config);
  }

  onRequestHeaders(ex: HttpExchange): undefined {
    this.#edits.apply(ex.requestHeaders);
    return undefined;
  }
}
