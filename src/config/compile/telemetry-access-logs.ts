// Access log providers for the waypoint: MeshConfig's built-in `envoy` provider (accessLogFile,
// accessLogEncoding, accessLogFormat) and `envoyFileAccessLog` extension providers, compiled once per
// snapshot into sinks and formats; and the `accessLogging` field of a Telemetry resource over them.
import { type AccessLogFormat, compileJsonFormat, compileTextFormat, ISTIO_JSON_LABELS, ISTIO_TEXT_FORMAT } from '../../observability/access-log-format.js';
import { compileAccessLogFilter } from '../../observability/access-log-filter.js';
import type { AccessLogConfig } from '../../observability/telemetry-config.js';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { ExtensionProvider, MeshConfig } from '../model/mesh-config.js';
import type { TelemetryAccessLogging, TelemetrySpec } from '../model/telemetry.js';
import type { Valid } from '../validate/validate.js';

export class AccessLogProviders {
  readonly #mesh: MeshConfig;
  readonly #diagnostics: Diagnostic[];
  readonly #sinks = new Map<string, AccessLogConfig[] | undefined>();
  readonly #meshFormat: AccessLogFormat;

  constructor(mesh: MeshConfig, diagnostics: Diagnostic[]) {
    this.#mesh = mesh;
    this.#diagnostics = diagnostics;
    this.#meshFormat = this.#compileMeshFormat();
  }


  #compileMeshFormat(): AccessLogFormat {
    const mesh = this.#mesh;
    const fallback = (message: string): AccessLogFormat => {
      this.#diagnostics.push({ severity: 'warning', code: 'mesh-config', resource: undefined, file: undefined, doc: undefined, line: undefined, path: 'accessLogFormat', message: `${message}; using Istio's default format` });
      return defaultFormat(mesh.accessLogEncoding);
    };
    if (mesh.accessLogFormat === '') return defaultFormat(mesh.accessLogEncoding);
    if (mesh.accessLogEncoding === 'TEXT') {
      const r = compileTextFormat(mesh.accessLogFormat);
      return r.ok ? r.format : fallback(r.message);
    }
    const labels = jsonLabels(mesh.accessLogFormat);
    if (labels === undefined) return fallback('with accessLogEncoding JSON, accessLogFormat must be a JSON object of string values');
    const r = compileJsonFormat(labels);
    return r.ok ? r.format : fallback(r.message);
  }

  /** MeshConfig alone: `accessLogFile` turns on the built-in `envoy` provider; else the default providers. */
  meshDefault(): AccessLogConfig[] {
    const mesh = this.#mesh;
    if (mesh.accessLogFile !== '') return this.#provider('envoy', undefined, undefined) ?? [];
    return (mesh.defaultProviders.accessLogging ?? []).flatMap((name) => this.#provider(name, undefined, undefined) ?? []);
  }

  fromTelemetry(res: Valid<TelemetrySpec>, entries: ReadonlyArray<TelemetryAccessLogging>): AccessLogConfig[] {
    const defaults = this.#mesh.defaultProviders.accessLogging ?? ['envoy'];
    const enabled = new Map<string, AccessLogConfig[]>();
    entries.forEach((entry, i) => {
      if (entry.match?.mode === 'CLIENT') return; // the waypoint reports as the server side of the hop
      const names = entry.providers?.map((p) => p.name) ?? defaults;
      const filter = entry.filter === undefined ? undefined : compileAccessLogFilter(entry.filter.expression);
      for (const [j, name] of names.entries()) {
        if (entry.disabled === true) {
          enabled.delete(name);
          continue;
        }
        const configs = this.#provider(name, res, ['spec', 'accessLogging', i, 'providers', j]);
        if (configs === undefined) continue;
        enabled.set(name, configs.map((c) => (filter?.ok === true ? { ...c, filter: filter.predicate } : c)));
      }
    });
    return [...enabled.values()].flat();
  }

  /** An access log provider by name: the built-in `envoy` one, or an `envoyFileAccessLog` extension provider. */
  #provider(name: string, res: Valid<TelemetrySpec> | undefined, path: ReadonlyArray<string | number> | undefined): AccessLogConfig[] | undefined {
    if (this.#sinks.has(name)) return this.#sinks.get(name);
    let out: AccessLogConfig[] | undefined;
    const mesh = this.#mesh;
    const ext = mesh.extensionProviders.find((p) => p.name === name);
    if (name === 'envoy' && ext === undefined) {
      out = [{ sink: { path: mesh.accessLogFile === '' ? '/dev/stdout' : mesh.accessLogFile }, format: this.#meshFormat, filter: undefined }];
    } else if (ext?.envoyFileAccessLog !== undefined) {
      const format = this.#providerFormat(ext, res, path);
      if (format !== undefined) out = [{ sink: { path: ext.envoyFileAccessLog.path }, format, filter: undefined }];
    } else if (res !== undefined && path !== undefined) {
      this.#diagnostics.push(resourceDiagnostic(res.raw, 'warning', 'unsupported-provider', path, ext === undefined
        ? `no extension provider named "${name}" in MeshConfig: this access log is not written`
        : `provider "${name}" is not an envoyFileAccessLog provider, the only access log kind this waypoint writes`));
    }
    this.#sinks.set(name, out);
    return out;
  }

  #providerFormat(ext: ExtensionProvider, res: Valid<TelemetrySpec> | undefined, path: ReadonlyArray<string | number> | undefined): AccessLogFormat | undefined {
    const logFormat = ext.envoyFileAccessLog?.logFormat;
    const text = logFormat?.['text'];
    const labels = logFormat?.['labels'];
    const r = typeof text === 'string' ? compileTextFormat(text)
      : labels !== undefined ? (isStringRecord(labels) ? compileJsonFormat(Object.entries(labels)) : { ok: false as const, message: 'logFormat.labels must map names to strings' })
      : { ok: true as const, format: defaultFormat('TEXT') };
    if (r.ok) return r.format;
    const where = res === undefined ? 'MeshConfig' : `${res.raw.kind} ${res.key}`;
    this.#diagnostics.push({ severity: 'error', code: 'mesh-config', resource: undefined, file: undefined, doc: undefined, line: undefined, path: path === undefined ? 'extensionProviders' : undefined,
      message: `extension provider "${ext.name}" (used by ${where}) has an invalid log format: ${r.message}; its access log is not written` });
    return undefined;
  }
}

function defaultFormat(encoding: 'TEXT' | 'JSON'): AccessLogFormat {
  const r = encoding === 'JSON' ? compileJsonFormat(ISTIO_JSON_LABELS) : compileTextFormat(ISTIO_TEXT_FORMAT);
  if (!r.ok) throw new Error(`Istio's default access log format does not compile: ${r.message}`);
  return r.format;
}

function jsonLabels(text: string): Array<[string, string]> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isStringRecord(v) ? Object.entries(v) : undefined;
  } catch {
    return undefined;
  }
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}
