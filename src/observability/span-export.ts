// Exports the waypoint's spans over OTLP: spans are built when a request finishes, with the ids the tracing
// filter already propagated. The OpenTelemetry SDK behind it (otlp-span-processors.ts) is loaded on first use,
// when a snapshot first configures a tracing provider: a waypoint without tracing never loads it.
import type { HttpExchange } from '../proxy/http-exchange.js';
import type { OtlpSpanProcessors } from './otlp-span-processors.js';
import type { TracingProviderConfig } from './telemetry-config.js';
import type { ActiveTrace } from './trace-filter.js';

export interface SpanCounts {
  exported: number;
  failed: number;
}

/** Facts about a finished request that the span's tags are made of. */
export interface SpanFacts {
  readonly status: number;
  readonly startTime: number;
  readonly durationMs: number;
  readonly requestBodyBytes: number;
  readonly responseBodyBytes: number;
  readonly serviceName: string;
  readonly namespace: string;
  readonly meshId: string;
}

/** Spans of requests that finish while the SDK loads wait for it, up to the batch queue's size. */
const MAX_WAITING = 2048;

type ExportArgs = [ex: HttpExchange, trace: ActiveTrace, provider: TracingProviderConfig, facts: SpanFacts];

export class SpanExporters {
  readonly counts: SpanCounts = { exported: 0, failed: 0 };
  readonly #flushMs: number;
  #processors: OtlpSpanProcessors | undefined;
  #loading: Promise<void> | undefined;
  /** The providers of the latest reconcile while the SDK loads. */
  #wanted: ReadonlyArray<TracingProviderConfig> = [];
  readonly #waiting: ExportArgs[] = [];

  constructor(flushMs: number) {
    this.#flushMs = flushMs;
  }

  /** Opens exporters for new providers; flushes and closes the ones no longer configured. */
  reconcile(providers: ReadonlyArray<TracingProviderConfig>): Promise<void> {
    if (this.#processors !== undefined) return this.#processors.reconcile(providers);
    this.#wanted = providers;
    if (providers.length === 0) return this.#loading ?? Promise.resolve();
    this.#loading ??= import('./otlp-span-processors.js').then(
      (m) => {
        const processors = new m.OtlpSpanProcessors(this.#flushMs, this.counts);
        this.#processors = processors;
        const reconciled = processors.reconcile(this.#wanted);
        for (const args of this.#waiting) processors.export(...args);
        this.#waiting.length = 0;
        return reconciled;
      },
      () => {
        // The SDK cannot load (a broken install): the spans are counted as failed, never thrown at requests.
        this.counts.failed += this.#waiting.length;
        this.#waiting.length = 0;
      },
    );
    return this.#loading;
  }

  /** Queues the span of a finished, sampled request for export. */
  export(ex: HttpExchange, trace: ActiveTrace, provider: TracingProviderConfig, facts: SpanFacts): void {
    if (this.#processors !== undefined) this.#processors.export(ex, trace, provider, facts);
    else if (this.#loading !== undefined && this.#waiting.length < MAX_WAITING) this.#waiting.push([ex, trace, provider, facts]);
  }

  async close(): Promise<void> {
    await this.#loading;
    await this.#processors?.close();
  }
}
