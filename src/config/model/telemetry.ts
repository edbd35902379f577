// Telemetry (telemetry.istio.io/v1, v1alpha1): metrics, access logging and tracing settings for a waypoint,
// attached with `targetRefs` (the waypoint Gateway or a Service), or namespace- / mesh-wide without one.
// Fields this waypoint cannot honour are refused here, so a resource is never half applied.
import { z } from 'zod';
import { compileAccessLogFilter } from '../../observability/access-log-filter.js';

const providerRef = z.strictObject({ name: z.string().min(1) });
const mode = z.enum(['CLIENT_AND_SERVER', 'CLIENT', 'SERVER']);
const match = z.strictObject({ mode: mode.default('CLIENT_AND_SERVER') });

export const telemetryTargetRef = z.strictObject({
  group: z.string().max(253).default(''),
  kind: z.string().min(1).max(63),
  name: z.string().min(1).max(253),
  namespace: z.string().max(63).optional(),
});
export type TelemetryTargetRef = z.infer<typeof telemetryTargetRef>;

const customTag = z
  .strictObject({
    literal: z.strictObject({ value: z.string() }).optional(),
    environment: z.strictObject({ name: z.string().min(1), defaultValue: z.string().optional() }).optional(),
    header: z.strictObject({ name: z.string().min(1), defaultValue: z.string().optional() }).optional(),
  })
  .superRefine((tag, ctx) => {
    const set = [tag.literal, tag.environment, tag.header].filter((t) => t !== undefined).length;
    if (set !== 1) ctx.addIssue({ code: 'custom', message: 'a custom tag needs exactly one of literal, environment or header' });
    if (tag.environment !== undefined) ctx.addIssue({ code: 'custom', path: ['environment'], message: 'environment custom tags are not supported by this waypoint: use literal or header' });
  });

export const telemetryTracing = z.strictObject({
  match: match.optional(),
  providers: z.array(providerRef).optional(),
  randomSamplingPercentage: z.number().min(0).max(100).optional(),
  disableSpanReporting: z.boolean().optional(),
  customTags: z.record(z.string().min(1), customTag).optional(),
  enableIstioTags: z.boolean().optional(),
});
export type TelemetryTracing = z.infer<typeof telemetryTracing>;

export const ISTIO_METRICS = [
  'ALL_METRICS', 'REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE', 'TCP_OPENED_CONNECTIONS',
  'TCP_CLOSED_CONNECTIONS', 'TCP_SENT_BYTES', 'TCP_RECEIVED_BYTES', 'GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES',
] as const;
export type IstioMetricName = (typeof ISTIO_METRICS)[number];

const metricOverride = z
  .strictObject({
    match: z
      .strictObject({ metric: z.enum(ISTIO_METRICS).optional(), customMetric: z.string().optional(), mode: mode.default('CLIENT_AND_SERVER') })
      .optional(),
    disabled: z.boolean().optional(),
    tagOverrides: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((o, ctx) => {
    if (o.tagOverrides !== undefined && Object.keys(o.tagOverrides).length > 0) {
      ctx.addIssue({ code: 'custom', path: ['tagOverrides'], message: 'tagOverrides are not supported by this waypoint (the standard label set is fixed); remove them' });
    }
    if (o.match?.customMetric !== undefined) ctx.addIssue({ code: 'custom', path: ['match', 'customMetric'], message: 'custom metrics are not supported by this waypoint' });
  });

export const telemetryMetrics = z.strictObject({
  providers: z.array(providerRef).optional(),
  overrides: z.array(metricOverride).optional(),
  reportingInterval: z.string().optional(),
});
export type TelemetryMetrics = z.infer<typeof telemetryMetrics>;

export const telemetryAccessLogging = z.strictObject({
  match: match.optional(),
  providers: z.array(providerRef).optional(),
  disabled: z.boolean().optional(),
  filter: z
    .strictObject({ expression: z.string() })
    .superRefine((f, ctx) => {
      const compiled = compileAccessLogFilter(f.expression);
      if (!compiled.ok) ctx.addIssue({ code: 'custom', path: ['expression'], message: compiled.message });
    })
    .optional(),
});
export type TelemetryAccessLogging = z.infer<typeof telemetryAccessLogging>;

export const telemetrySpec = z
  .strictObject({
    selector: z.strictObject({ matchLabels: z.record(z.string(), z.string()).default({}) }).optional(),
    /** Deprecated single form. */
    targetRef: telemetryTargetRef.optional(),
    targetRefs: z.array(telemetryTargetRef).max(16).optional(),
    tracing: z.array(telemetryTracing).optional(),
    metrics: z.array(telemetryMetrics).optional(),
    accessLogging: z.array(telemetryAccessLogging).optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.selector !== undefined && (spec.targetRef !== undefined || spec.targetRefs !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['selector'], message: 'only one of selector or targetRefs can be set' });
    }
    if (spec.targetRef !== undefined && spec.targetRefs !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['targetRef'], message: 'only one of targetRef or targetRefs can be set (targetRef is deprecated: use targetRefs)' });
    }
  });
export type TelemetrySpec = z.infer<typeof telemetrySpec>;

/** The resource's targets, the deprecated single `targetRef` folded in. */
export function telemetryTargets(spec: TelemetrySpec): ReadonlyArray<TelemetryTargetRef> {
  return spec.targetRefs ?? (spec.targetRef === undefined ? [] : [spec.targetRef]);
}
