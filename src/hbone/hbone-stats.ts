// Counters of one direction of HBONE (the inbound listener, or the outbound tunnel client): tunnel
// connections opened and closed, CONNECT streams, CONNECT responses by status, handshake refusals by
// reason, keepalive timeouts, and TLS bytes of closed connections (open ones are added at scrape time).
// Plain fields and small maps bumped per connection or stream, never per request; read by hbone-metrics.ts.

export class HboneStats {
  readonly handshakeRefused = new Map<string, number>();
  /** CONNECT responses by status: the ones this side answered (inbound) or received (outbound). */
  readonly connectResponses = new Map<number, number>();
  /** Outbound CONNECTs that got no response: the tunnel connection failed, the identity was wrong, or timeout. */
  connectFailures = 0;
  sessionsOpened = 0;
  sessionsClosed = 0;
  keepaliveTimeouts = 0;
  streamsTotal = 0;
  streamsActive = 0;
  /** The most streams that were open at once since start. */
  streamsPeak = 0;
  /** TLS bytes (wire) of tunnel connections already closed. */
  closedBytesReceived = 0;
  closedBytesSent = 0;

  refuse(reason: string): void {
    this.handshakeRefused.set(reason, (this.handshakeRefused.get(reason) ?? 0) + 1);
  }

  connectResponse(status: number): void {
    this.connectResponses.set(status, (this.connectResponses.get(status) ?? 0) + 1);
  }

  /** Non-200 responses, for tests and logs. */
  get connectRefusedByStatus(): ReadonlyMap<number, number> {
    return new Map([...this.connectResponses].filter(([s]) => s !== 200));
  }

  streamOpened(): void {
    this.streamsTotal++;
    this.streamsActive++;
    if (this.streamsActive > this.streamsPeak) this.streamsPeak = this.streamsActive;
  }

  streamClosed(): void {
    this.streamsActive--;
  }

  /** A tunnel connection ended: its socket's final byte counts move to the closed totals. */
  sessionClosed(socket: { readonly bytesRead: number; readonly bytesWritten: number } | undefined): void {
    this.sessionsClosed++;
    if (socket === undefined) return;
    this.closedBytesReceived += socket.bytesRead;
    this.closedBytesSent += socket.bytesWritten;
  }

  get handshakesRefused(): number {
    let n = 0;
    for (const v of this.handshakeRefused.values()) n += v;
    return n;
  }
}
