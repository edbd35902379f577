// Renders the bench suite's findings: the side-by-side table printed to the terminal and bench/RESULTS.md
// (rewritten each run) with machine details and every target of issue #13, measured value and pass/fail.
import type { MachineInfo } from './packages.js';

export interface TargetRow {
  readonly label: string;
  readonly closedRps: number;
  readonly closedErrors: number;
  /** Proxy CPU ms per 1000 requests during the closed-loop runs (informational). */
  readonly closedCpuMsPer1000: number | undefined;
  readonly fixedP50Ms: number;
  readonly fixedP99Ms: number;
  readonly fixedCpuMsPer1000: number | undefined;
  readonly peakRssMiB: number | undefined;
}

export interface Target {
  readonly name: string;
  readonly goal: string;
  readonly measured: string;
  /** undefined: not measured in this run. */
  readonly pass: boolean | undefined;
  readonly note?: string;
}

export const fmt = (n: number | undefined, digits: number): string => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

export function sideBySide(rows: ReadonlyArray<TargetRow>, nginxRps: number, directP: { p50: number; p99: number }, rate: number): string {
  const lines = [
    `| target | max req/s (wrk) | vs nginx proxy | CPU ms / 1000 req @ ${rate} req/s | p50 ms @ ${rate} | p99 ms @ ${rate} | added p50 / p99 ms | peak RSS MiB |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const added = r.label.startsWith('direct') ? '—' : `${fmt(r.fixedP50Ms - directP.p50, 2)} / ${fmt(r.fixedP99Ms - directP.p99, 2)}`;
    lines.push(`| ${r.label} | ${fmt(r.closedRps, 0)}${r.closedErrors > 0 ? ` (${r.closedErrors} errors)` : ''} | ${fmt(r.closedRps / nginxRps, 2)} | ${fmt(r.fixedCpuMsPer1000, 1)} | ${fmt(r.fixedP50Ms, 2)} | ${fmt(r.fixedP99Ms, 2)} | ${added} | ${fmt(r.peakRssMiB, 1)} |`);
  }
  return lines.join('\n');
}

export function targetsTable(targets: ReadonlyArray<Target>): string {
  const lines = ['| target (issue #13) | goal | measured | result |', '|---|---|---|---|'];
  for (const t of targets) {
    const verdict = t.pass === undefined ? 'not measured' : t.pass ? '**pass**' : '**FAIL**';
    lines.push(`| ${t.name} | ${t.goal} | ${t.measured}${t.note === undefined ? '' : ` (${t.note})`} | ${verdict} |`);
  }
  return lines.join('\n');
}

export function machineTable(m: MachineInfo, extra: ReadonlyArray<readonly [string, string]>): string {
  const rows: Array<readonly [string, string]> = [
    ['CPU', m.cpuModel], ['cores (available)', String(m.cores)], ['kernel', m.kernel], ['Node.js', m.node],
    ['nginx', m.nginx], ['HAProxy', m.haproxy], ['wrk', m.wrk], ['h2load', m.h2load], ['load average at start', m.loadAverage], ...extra,
  ];
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}
