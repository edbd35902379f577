// Prometheus exposition: the text format (0.0.4) and OpenMetrics 1.0, chosen by the scraper's `Accept`.
// Only the family header and a few number renderings differ between the two; callers write samples.

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPE: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** OpenMetrics when the scraper lists it (Prometheus does, first); the classic text format otherwise. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  return accept !== undefined && accept.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus';
}

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Anything that contributes families to a scrape. */
export interface MetricsSource {
  /** Appends complete families (HELP, TYPE, samples) to `out`. */
  collect(out: ExpositionWriter): void;
}

/** Accumulates one scrape; `family` opens a family and `sample` adds its lines. */
export class ExpositionWriter {
  readonly format: ExpositionFormat;
  #parts: string[] = [];

  constructor(format: ExpositionFormat) {
    this.format = format;
  }

  /**
   * Opens a family. `name` is the sample name for counters (ending in `_total`), as Prometheus' text format
   * expects; OpenMetrics names the family without the suffix ("counter ... MetricFamily name ... _total").
   */
  family(name: string, type: MetricType, help: string): void {
    const familyName = this.format === 'openmetrics' && type === 'counter' && name.endsWith('_total') ? name.slice(0, -6) : name;
    this.#parts.push(`# HELP ${familyName} ${escapeHelp(help)}\n# TYPE ${familyName} ${type}\n`);
  }

  /** One sample line; `labels` is the inside of the braces (already escaped) or '' for none. */
  sample(name: string, labels: string, value: number): void {
    this.#parts.push(labels === '' ? `${name} ${formatValue(value)}\n` : `${name}{${labels}} ${formatValue(value)}\n`);
  }

  /** `le` label value for a bucket bound: OpenMetrics wants canonical floats (`1.0`), text keeps `1`. */
  bound(value: number): string {
    if (value === Number.POSITIVE_INFINITY) return '+Inf';
    return this.format === 'openmetrics' && Number.isInteger(value) ? `${value}.0` : String(value);
  }

  finish(): string {
    if (this.format === 'openmetrics') this.#parts.push('# EOF\n');
    const text = this.#parts.join('');
    this.#parts = [];
    return text;
  }
}

export function render(format: ExpositionFormat, sources: ReadonlyArray<MetricsSource>): string {
  const w = new ExpositionWriter(format);
  for (const s of sources) s.collect(w);
  return w.finish();
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function escapeHelp(help: string): string {
  return help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

/** Escapes a label value for the exposition formats (backslash, double quote, line feed). */
export function escapeLabelValue(value: string): string {
  if (!/[\\"\n]/.test(value)) return value;
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
