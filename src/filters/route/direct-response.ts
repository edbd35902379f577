// VirtualService `directResponse`: the waypoint answers with the configured status and body and never forwards
// (Envoy's direct_response route action; details `direct_response`, no response flag).
import { type LocalReply, LocalReplies } from '../../errors/local-reply.js';
import type { HttpFilter } from '../types.js';

export class DirectResponseFilter implements HttpFilter {
  readonly name = 'route.direct_response';
  readonly #reply: LocalReply;

  /** `bytes` is the decoded `body.bytes` (sent as is); `body` is the text (`body.string`, or the bytes as UTF-8 for logs). */
  constructor(status: number, body: string, bytes: Buffer | undefined) {
    this.#reply = LocalReplies.directResponse(status, body, bytes);
  }

  get reply(): LocalReply {
    return this.#reply;
  }

  /** How /config_dump shows it. */
  describe(): Record<string, unknown> {
    return { name: this.name, status: this.#reply.status, bodyBytes: this.#reply.bodyBytes?.length ?? Buffer.byteLength(this.#reply.body) };
  }

  onRequestHeaders(): LocalReply {
    return this.#reply;
  }
}
