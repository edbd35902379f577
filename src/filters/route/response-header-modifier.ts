// HTTPRoute ResponseHeaderModifier (Extended): edits the response headers sent downstream.
import type { HeaderModifier } from '../../config/model/http-route.js';
import type { HeaderList } from '../../http/header-list.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { HttpFilter } from '../types.js';
import { HeaderEdits } from './header-edits.js';

export class ResponseHeaderModifierFilter implements HttpFilter {
  readonly name = 'route.response_header_modifier';
  readonly #edits: HeaderEdits;

  constructor(config: HeaderModifier) {
    this.#edits = new HeaderEdits(config);
  }

  onResponseHeaders(_ex: HttpExchange, headers: HeaderList): void {
    this.#edits.apply(headers);
  }
}
