// Merges the Prometheus text expositions of the worker processes into one, as a Prometheus `sum by` over
// the worker label would: samples with the same name and labels are added up (counters, gauges, histogram
// buckets, sums and counts alike), except gauges that describe the process rather than count something
// (build info, config version, start time), which keep the largest value. Families keep the order in which
// they first appear, with their HELP and TYPE lines once.

interface Family {
  readonly help: string | undefined;
  readonly type: string | undefined;
  /** `name{labels}` → value, in first-seen order. */
  readonly samples: Map<string, number>;
}

/** Gauges whose value is a property of a process, not a quantity: merged with max instead of sum. */
const MAX_GAUGE = /(^istio_build$|_info$|version|generation|start_time|_timestamp)/;

function familyOf(sampleName: string, families: ReadonlyMap<string, Family>): string {
  if (families.has(sampleName)) return sampleName;
  for (const suffix of ['_bucket', '_sum', '_count', '_total', '_created']) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length);
      if (families.has(base)) return base;
    }
  }
  return sampleName;
}

/** `name{labels} value [timestamp]` → [series key, value]; undefined for what is not a sample. */
function parseSample(line: string): readonly [string, string, number] | undefined {
  const brace = line.indexOf('{');
  const space = brace >= 0 ? line.indexOf(' ', line.lastIndexOf('}')) : line.indexOf(' ');
  if (space <= 0) return undefined;
  const key = line.slice(0, space);
  const name = brace >= 0 && brace < space ? line.slice(0, brace) : key;
  const value = Number(line.slice(space + 1).trim().split(' ')[0]);
  return Number.isNaN(value) ? undefined : [name, key, value];
}

export function mergePrometheusText(texts: ReadonlyArray<string>): string {
  const families = new Map<string, Family>();
  const meta = (name: string): Family => {
    let f = families.get(name);
    if (f === undefined) {
      f = { help: undefined, type: undefined, samples: new Map() };
      families.set(name, f);
    }
    return f;
  };
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line === '' || line === '# EOF') continue;
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m !== null) {
        const name = m[2] as string;
        const f = meta(name);
        if (m[1] === 'HELP' && f.help === undefined) families.set(name, { ...f, help: m[3] ?? '' });
        if (m[1] === 'TYPE' && f.type === undefined) families.set(name, { ...f, type: m[3] ?? 'untyped' });
        continue;
      }
      if (line.startsWith('#')) continue;
      const sample = parseSample(line);
      if (sample === undefined) continue;
      const [name, key, value] = sample;
      const f = meta(familyOf(name, families));
      const prev = f.samples.get(key);
      const useMax = f.type === 'gauge' && MAX_GAUGE.test(name);
      f.samples.set(key, prev === undefined ? value : useMax ? Math.max(prev, value) : prev + value);
    }
  }
  const out: string[] = [];
  for (const [name, f] of families) {
    if (f.samples.size === 0 && f.type === undefined) continue;
    if (f.help !== undefined) out.push(`# HELP ${name} ${f.help}`);
    if (f.type !== undefined) out.push(`# TYPE ${name} ${f.type}`);
    for (const [key, value] of f.samples) out.push(`${key} ${formatValue(value)}`);
  }
  return `${out.join('\n')}\n`;
}

function formatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}
