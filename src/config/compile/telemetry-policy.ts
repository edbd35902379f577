// Which telemetry applies to each Service the waypoint serves: Telemetry resources by scope (a targetRef
// to the Service, then to the waypoint Gateway, then namespace-wide in the waypoint's namespace, then
// mesh-wide in the root namespace; "any fields specified ... completely override the field from the
// parent"), falling back to MeshConfig (accessLogFile/Encoding/Format, enableTracing, defaultProviders,
// defaultConfig.tracing.sampling). Providers come from MeshConfig extensionProviders.
import { ALL_METRICS, type MetricSelection } from '../../observability/istio-metrics.js';
import type { AccessLogConfig, CustomTag, TracingProviderConfig } from '../../observability/telemetry-config.js';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { GatewaySpec } from '../model/gateway.js';
import type { ExtensionProvider, MeshConfig } from '../model/mesh-config.js';
import { type IstioMetricName, type TelemetryMetrics, type TelemetrySpec, type TelemetryTracing, telemetryTargets } from '../model/telemetry.js';
import type { Valid, ValidResources } from '../validate/validate.js';
import type { ClusterIndex } from './services.js';
import { AccessLogProviders } from './telemetry-access-logs.js';

/** What tracing a Service gets, before the per-port operation name is added. */
export interface TracingSettings {
  readonly samplingPercent: number;
  readonly provider: TracingProviderConfig | undefined;
  readonly customTags: ReadonlyArray<CustomTag>;
  readonly istioTags: boolean;
}

export interface EffectiveTelemetry {
  readonly metrics: MetricSelection;
  readonly accessLogs: ReadonlyArray<AccessLogConfig>;
  readonly tracing: TracingSettings | undefined;
}

export interface TelemetryPolicyInput {
  readonly resources: ValidResources;
  readonly mesh: MeshConfig;
  readonly waypoint: Valid<GatewaySpec>;
  readonly clusters: ClusterIndex;
  readonly clusterDomain: string;
}

type Field = 'accessLogging' | 'tracing' | 'metrics';
const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** Istio's default `defaultConfig.tracing.sampling` (percent). */
const DEFAULT_SAMPLING = 1;
const METRIC_FLAGS: Readonly<Record<Exclude<IstioMetricName, 'ALL_METRICS'>, keyof MetricSelection>> = {
  REQUEST_COUNT: 'requestCount', REQUEST_DURATION: 'requestDuration', REQUEST_SIZE: 'requestSize', RESPONSE_SIZE: 'responseSize',
  TCP_OPENED_CONNECTIONS: 'tcpOpened', TCP_CLOSED_CONNECTIONS: 'tcpClosed', TCP_SENT_BYTES: 'tcpSent', TCP_RECEIVED_BYTES: 'tcpReceived',
  GRPC_REQUEST_MESSAGES: 'grpcRequestMessages', GRPC_RESPONSE_MESSAGES: 'grpcResponseMessages',
};

export class TelemetryPolicy {
  readonly #input: TelemetryPolicyInput;
  readonly #diagnostics: Diagnostic[];
  /** Resources by scope, oldest first: [gateway, namespace, root]; Service-targeted ones by Service key. */
  readonly #byService = new Map<string, Valid<TelemetrySpec>[]>();
  readonly #scopes: Valid<TelemetrySpec>[][] = [[], [], []];
  readonly #cache = new Map<string, EffectiveTelemetry>();
  readonly #providers = new Map<string, TracingProviderConfig | undefined>();
  readonly #logs: AccessLogProviders;

  constructor(input: TelemetryPolicyInput, diagnostics: Diagnostic[]) {
    this.#input = input;
    this.#diagnostics = diagnostics;
    this.#logs = new AccessLogProviders(input.mesh, diagnostics);
    this.#classify();
  }

  /** Every tracing provider any Service uses (for the runtime's exporters). */
  get providers(): TracingProviderConfig[] {
    return [...this.#providers.values()].filter((p): p is TracingProviderConfig => p !== undefined);
  }

  forService(serviceKey: string): EffectiveTelemetry {
    let e = this.#cache.get(serviceKey);
    if (e === undefined) {
      const chain = [this.#byService.get(serviceKey) ?? [], ...this.#scopes];
      const pick = <F extends Field>(field: F): { res: Valid<TelemetrySpec>; value: NonNullable<TelemetrySpec[F]> } | undefined => {
        for (const level of chain) for (const res of level) {
          const value = res.spec[field];
          if (value !== undefined) return { res, value: value as NonNullable<TelemetrySpec[F]> };
        }
        return undefined;
      };
      const logs = pick('accessLogging');
      const metrics = pick('metrics');
      const tracing = chain.flatMap((level) => level.filter((r) => r.spec.tracing !== undefined).slice(0, 1)).reverse();
      e = Object.freeze({
        accessLogs: Object.freeze(logs === undefined ? this.#logs.meshDefault() : this.#logs.fromTelemetry(logs.res, logs.value)),
        tracing: tracing.length === 0 ? this.#meshTracing() : this.#tracing(tracing),
        metrics: metrics === undefined ? ALL_METRICS : metricSelection(metrics.value, this.#input.mesh),
      });
      this.#cache.set(serviceKey, e);
    }
    return e;
  }

  #classify(): void {
    const { resources, mesh, waypoint } = this.#input;
    const wpNs = waypoint.raw.metadata.namespace;
    const sorted = [...resources.telemetries].sort((a, b) => a.created - b.created || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const t of sorted) {
      const ns = t.raw.metadata.namespace;
      t.spec.metrics?.forEach((m, i) => {
        if (m.reportingInterval === undefined) return;
        this.#diagnostics.push(resourceDiagnostic(t.raw, 'info', 'always-current', ['spec', 'metrics', i, 'reportingInterval'],
          'metrics are pulled: open connections and streams report what they have so far at every scrape, so there is no interval to set'));
      });
      if (t.spec.selector !== undefined) {
        this.#diagnostics.push(resourceDiagnostic(t.raw, 'warning', 'not-applied-to-waypoint', ['spec', 'selector'],
          'a Telemetry with a selector configures sidecars; waypoints are configured with targetRefs (the waypoint Gateway or a Service)'));
        continue;
      }
      const targets = telemetryTargets(t.spec);
      if (targets.length === 0) {
        if (ns === wpNs) this.#scopes[1]?.push(t);
        else if (ns === mesh.rootNamespace) this.#scopes[2]?.push(t);
        continue;
      }
      targets.forEach((ref, i) => {
        const path = t.spec.targetRefs === undefined ? ['spec', 'targetRef'] : ['spec', 'targetRefs', i];
        if (ref.namespace !== undefined && ref.namespace !== ns) {
          this.#diagnostics.push(resourceDiagnostic(t.raw, 'error', 'invalid-target', [...path, 'namespace'], 'targetRefs must name an object in the Telemetry\'s own namespace'));
        } else if (ref.kind === 'Gateway' && ref.group === GATEWAY_GROUP) {
          if (ref.name === waypoint.raw.metadata.name && ns === wpNs) this.#scopes[0]?.push(t);
        } else if (ref.kind === 'Service' && (ref.group === '' || ref.group === 'core')) {
          const key = `${ns}/${ref.name}`;
          if (!resources.services.has(key)) {
            this.#diagnostics.push(resourceDiagnostic(t.raw, 'warning', 'target-not-found', path, `Service ${key} does not exist`));
            return;
          }
          const list = this.#byService.get(key) ?? [];
          list.push(t);
          this.#byService.set(key, list);
        } else {
          this.#diagnostics.push(resourceDiagnostic(t.raw, 'warning', 'unsupported-target', path,
            `${ref.group === '' ? '' : `${ref.group}/`}${ref.kind} is not a target a waypoint applies Telemetry for: use the waypoint Gateway (gateway.networking.k8s.io) or a Service`));
        }
      });
    }
    // "It is not valid to have two different Telemetry resources select the same workload": the oldest wins.
    const scopes: Array<[string, ReadonlyArray<Valid<TelemetrySpec>>]> = [
      ...[...this.#byService].map(([key, list]): [string, ReadonlyArray<Valid<TelemetrySpec>>] => [`Service ${key}`, list]),
      ['the waypoint Gateway', this.#scopes[0] ?? []],
      [`namespace ${wpNs}`, this.#scopes[1] ?? []],
      ['the mesh (root namespace)', this.#scopes[2] ?? []],
    ];
    for (const [scope, list] of scopes) {
      const [first, ...rest] = list;
      for (const t of rest) {
        this.#diagnostics.push(resourceDiagnostic(t.raw, 'warning', 'conflicting-telemetry', [],
          `Telemetry ${first?.key ?? ''} already applies to ${scope}; where both set a field, the older one's value is used`));
      }
    }
  }

  // ---- tracing ----

  #meshTracing(): TracingSettings | undefined {
    const mesh = this.#input.mesh;
    if (!mesh.enableTracing) return undefined;
    return this.#tracingWith(mesh.defaultProviders.tracing ?? [], undefined, false, [], undefined, true);
  }

  /**
   * Tracing fields inherit one by one, from the root namespace down to the Service: a child that only sets
   * `randomSamplingPercentage` or `disableSpanReporting` keeps its parent's providers (Istio's examples
   * rely on this); custom tags merge by name.
   */
  #tracing(chain: ReadonlyArray<Valid<TelemetrySpec>>): TracingSettings | undefined {
    let names: string[] | undefined;
    let at: { res: Valid<TelemetrySpec>; path: Array<string | number> } | undefined;
    let sampling: number | undefined;
    let disabled = false;
    let istioTags = true;
    const tags = new Map<string, CustomTag>();
    for (const res of chain) {
      const entries: ReadonlyArray<TelemetryTracing> = res.spec.tracing ?? [];
      const i = entries.findIndex((e) => e.match?.mode !== 'CLIENT'); // the waypoint reports as the server side
      const entry = entries[i];
      if (entry === undefined) continue;
      if (entry.providers !== undefined) {
        names = entry.providers.map((p) => p.name);
        at = { res, path: ['spec', 'tracing', i, 'providers'] };
      }
      sampling = entry.randomSamplingPercentage ?? sampling;
      disabled = entry.disableSpanReporting ?? disabled;
      istioTags = entry.enableIstioTags ?? istioTags;
      for (const [name, t] of Object.entries(entry.customTags ?? {})) {
        if (t.literal !== undefined) tags.set(name, { kind: 'literal', name, value: t.literal.value });
        else if (t.header !== undefined) tags.set(name, { kind: 'header', name, header: t.header.name.toLowerCase(), defaultValue: t.header.defaultValue });
      }
    }
    return this.#tracingWith(names ?? this.#input.mesh.defaultProviders.tracing ?? [], sampling, disabled, [...tags.values()], at, istioTags);
  }

  #tracingWith(names: ReadonlyArray<string>, sampling: number | undefined, disabled: boolean, customTags: CustomTag[], at: { res: Valid<TelemetrySpec>; path: Array<string | number> } | undefined, istioTags: boolean): TracingSettings | undefined {
    let provider: TracingProviderConfig | undefined;
    for (const [j, name] of names.entries()) {
      provider = this.#tracingProvider(name, at === undefined ? undefined : { res: at.res, path: [...at.path, j] });
      if (provider !== undefined) break;
    }
    // Without a tracer Envoy neither samples nor propagates; `disableSpanReporting` keeps propagation.
    if (provider === undefined) return undefined;
    return Object.freeze({
      samplingPercent: sampling ?? this.#input.mesh.defaultConfig.tracing?.sampling ?? DEFAULT_SAMPLING,
      provider: disabled ? undefined : provider,
      customTags: Object.freeze(customTags),
      istioTags,
    });
  }

  #tracingProvider(name: string, at: { res: Valid<TelemetrySpec>; path: Array<string | number> } | undefined): TracingProviderConfig | undefined {
    if (this.#providers.has(name)) return this.#providers.get(name);
    const ext = this.#input.mesh.extensionProviders.find((p) => p.name === name);
    const warn = (message: string): undefined => {
      if (at !== undefined) this.#diagnostics.push(resourceDiagnostic(at.res.raw, 'warning', 'unsupported-provider', at.path, message));
      else this.#diagnostics.push({ severity: 'warning', code: 'mesh-config', resource: undefined, file: undefined, doc: undefined, line: undefined, path: 'defaultProviders.tracing', message });
      return undefined;
    };
    let out: TracingProviderConfig | undefined;
    if (ext === undefined) out = warn(`no extension provider named "${name}" in MeshConfig: no spans are exported`);
    else if (ext.opentelemetry === undefined) out = warn(`tracing provider "${name}" is not an opentelemetry provider, the only tracer this waypoint exports to (OTLP/HTTP)`);
    else out = this.#otlp(name, ext.opentelemetry);
    this.#providers.set(name, out);
    return out;
  }

  #otlp(name: string, otel: NonNullable<ExtensionProvider['opentelemetry']>): TracingProviderConfig {
    const http = otel.http ?? {};
    if (otel.http === undefined) {
      this.#diagnostics.push({ severity: 'info', code: 'mesh-config', resource: undefined, file: undefined, doc: undefined, line: undefined, path: 'extensionProviders',
        message: `opentelemetry provider "${name}" has no http settings (OTLP/gRPC in Istio): this waypoint exports OTLP/HTTP (protobuf) to ${otel.service}:${otel.port}/v1/traces` });
    }
    const path = typeof http['path'] === 'string' && http['path'] !== '' ? (http['path'].startsWith('/') ? http['path'] : `/${http['path']}`) : '/v1/traces';
    const address = this.#serviceAddress(otel.service, otel.port);
    const maxTagLength = (otel as { maxTagLength?: unknown }).maxTagLength;
    return Object.freeze({
      name,
      url: `http://${address}${path}`,
      headers: Object.freeze(headerList(http['headers'])),
      timeoutMs: durationMs(http['timeout']) ?? 10_000,
      maxTagLength: typeof maxTagLength === 'number' && maxTagLength > 0 ? maxTagLength : 256,
    });
  }

  /**
   * `service` is a Service hostname (optionally `namespace/hostname`): spans go straight to one of its
   * endpoints, never through this waypoint's own listeners (exports would be traced). Anything else is
   * used as a host name or address.
   */
  #serviceAddress(service: string, port: number): string {
    const host = service.includes('/') ? service.slice(service.indexOf('/') + 1) : service;
    const { resources, clusters, clusterDomain } = this.#input;
    for (const svc of resources.services.values()) {
      const { name, namespace } = svc.raw.metadata;
      if (host !== `${name}.${namespace}.svc.${clusterDomain}` && host !== `${name}.${namespace}.svc` && host !== `${name}.${namespace}`) continue;
      const ep = clusters.get(svc.key)?.get(port)?.endpoints[0];
      if (ep !== undefined) return ep.address.includes(':') ? `[${ep.address}]:${ep.port}` : `${ep.address}:${ep.port}`;
    }
    return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  }
}

function metricSelection(entries: ReadonlyArray<TelemetryMetrics>, mesh: MeshConfig): MetricSelection {
  const defaults = mesh.defaultProviders.metrics ?? ['prometheus'];
  const on: Record<keyof MetricSelection, boolean> = { ...ALL_METRICS };
  let prometheus = false;
  for (const entry of entries) {
    if (!(entry.providers?.map((p) => p.name) ?? defaults).includes('prometheus')) continue;
    prometheus = true;
    for (const o of entry.overrides ?? []) {
      if (o.match?.mode === 'CLIENT') continue;
      const metric = o.match?.metric ?? 'ALL_METRICS';
      const value = o.disabled !== true;
      if (metric === 'ALL_METRICS') for (const k of Object.keys(on) as Array<keyof MetricSelection>) on[k] = value;
      else on[METRIC_FLAGS[metric]] = value;
    }
  }
  if (!prometheus) for (const k of Object.keys(on) as Array<keyof MetricSelection>) on[k] = false;
  return Object.freeze(on);
}



function headerList(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    for (const h of v as unknown[]) {
      if (typeof h === 'object' && h !== null && typeof (h as Record<string, unknown>)['name'] === 'string' && typeof (h as Record<string, unknown>)['value'] === 'string') {
        out[(h as Record<string, string>)['name'] as string] = (h as Record<string, string>)['value'] as string;
      }
    }
  }
  return out;
}

function durationMs(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(v.trim());
  if (m === null) return undefined;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}
