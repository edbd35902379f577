// Counters of the HBONE listener and client: handshake refusals by reason, CONNECT refusals by status,
// tunnels open. Exposed to tests and the admin metrics.

export class HboneStats {
  readonly handshakeRefused = new Map<string, number>();
  readonly connectRefusedByStatus = new Map<number, number>();
  sessionsOpened = 0;
  keepaliveTimeouts = 0;
  streamsTotal = 0;
  streamsActive = 0;
  /** The most streams that were open at once since start. */
  streamsPeak = 0;

  refuse(reason: string): void {
    this.handshakeRefused.set(reason, (this.handshakeRefused.get(reason) ?? 0) + 1);
  }

  connectRefused(status: number): void {
    this.connectRefusedByStatus.set(status, (this.connectRefusedByStatus.get(status) ?? 0) + 1);
  }

  streamOpened(): void {
    this.streamsTotal++;
    this.streamsActive++;
    if (this.streamsActive > this.streamsPeak) this.streamsPeak = this.streamsActive;
  }

  streamClosed(): void {
    this.streamsActive--;
  }

  get handshakesRefused(): number {
    let n = 0;
    for (const v of this.handshakeRefused.values()) n += v;
    return n;
  }
}
