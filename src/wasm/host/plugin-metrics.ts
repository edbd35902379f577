// Metrics defined by plugins (proxy_define_metric), kept per VM id so plugins never share or clash on names,
// and exported on /stats/prometheus as Envoy exports its `wasmcustom` namespace: the plugin's name without
// an `envoy_` prefix (dots and other invalid characters as `_`), plus a `wasm_plugin` label naming the
// WasmPlugin (`namespace/name`) that defined it.
import { type ExpositionWriter, escapeLabelValue, type MetricsSource } from '../../observability/exposition.js';
import { MetricType } from './abi.js';

/** Envoy's default histogram buckets (istio-facts 5.4). */
const BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

interface Metric {
  readonly type: MetricType;
  readonly name: string;
  readonly plugin: string;
  value: number;
  /** Histograms only: cumulative counts per bucket bound, then +Inf. */
  readonly counts: number[] | undefined;
  sum: number;
}

export type MetricResult = 'ok' | 'not-found' | 'bad-argument';

export class WasmMetricsRegistry implements MetricsSource {
  readonly #byId: Metric[] = [];
  readonly #scopes = new Map<string, PluginMetrics>();

  scope(vmId: string, plugin: string): PluginMetrics {
    let s = this.#scopes.get(vmId);
    if (s === undefined) {
      s = new PluginMetrics(this.#byId, plugin);
      this.#scopes.set(vmId, s);
    }
    return s;
  }

  collect(w: ExpositionWriter): void {
    const families = new Map<string, Metric[]>();
    for (const m of this.#byId) {
      const name = sanitize(m.name);
      const list = families.get(name);
      if (list === undefined) families.set(name, [m]);
      else if (list[0]?.type === m.type) list.push(m);
    }
    for (const [name, metrics] of families) {
      const type = (metrics[0] as Metric).type;
      w.family(name, type === MetricType.Counter ? 'counter' : type === MetricType.Gauge ? 'gauge' : 'histogram', 'Defined by a Wasm plugin.');
      for (const m of metrics) {
        const label = `wasm_plugin="${escapeLabelValue(m.plugin)}"`;
        if (m.counts === undefined) {
          w.sample(name, label, m.value);
          continue;
        }
        for (let i = 0; i < BUCKETS.length; i++) w.sample(`${name}_bucket`, `${label},le="${w.bound(BUCKETS[i] as number)}"`, m.counts[i] as number);
        w.sample(`${name}_bucket`, `${label},le="+Inf"`, m.value);
        w.sample(`${name}_sum`, label, m.sum);
        w.sample(`${name}_count`, label, m.value);
      }
    }
  }
}

export class PluginMetrics {
  readonly #all: Metric[];
  readonly #plugin: string;
  readonly #byName = new Map<string, number>();

  constructor(all: Metric[], plugin: string) {
    this.#all = all;
    this.#plugin = plugin;
  }

  /** The id of `name` in this scope (defined on first use); undefined for an unknown type or a type clash. */
  define(type: number, name: string): number | undefined {
    if (type !== MetricType.Counter && type !== MetricType.Gauge && type !== MetricType.Histogram) return undefined;
    const existing = this.#byName.get(name);
    if (existing !== undefined) return this.#all[existing]?.type === type ? existing : undefined;
    const id = this.#all.length;
    this.#all.push({ type, name, plugin: this.#plugin, value: 0, counts: type === MetricType.Histogram ? BUCKETS.map(() => 0) : undefined, sum: 0 });
    this.#byName.set(name, id);
    return id;
  }

  #own(id: number): Metric | undefined {
    const m = this.#all[id];
    // Ids of other plugins' metrics do not resolve here.
    return m !== undefined && this.#byName.get(m.name) === id ? m : undefined;
  }

  increment(id: number, delta: number): MetricResult {
    const m = this.#own(id);
    if (m === undefined) return 'not-found';
    if (m.type === MetricType.Histogram || (m.type === MetricType.Counter && delta < 0)) return 'bad-argument';
    m.value += delta;
    return 'ok';
  }

  record(id: number, value: number): MetricResult {
    const m = this.#own(id);
    if (m === undefined) return 'not-found';
    if (m.counts !== undefined) {
      for (let i = 0; i < BUCKETS.length; i++) if (value <= (BUCKETS[i] as number)) m.counts[i] = (m.counts[i] as number) + 1;
      m.value++;
      m.sum += value;
      return 'ok';
    }
    if (m.type === MetricType.Counter && value < m.value) return 'bad-argument';
    m.value = value;
    return 'ok';
  }

  get(id: number): number | undefined {
    const m = this.#own(id);
    if (m === undefined || m.counts !== undefined) return undefined;
    return m.value;
  }
}

function sanitize(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}
