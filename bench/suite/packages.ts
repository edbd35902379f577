// The Debian packages the bench drives (nginx, HAProxy, wrk, h2load): installed with apt-get when a command
// is missing, as .ci/run does for the test peers; and their versions plus machine details for RESULTS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** command → Debian package that provides it. */
const NEEDED: ReadonlyArray<readonly [string, string]> = [
  ['nginx', 'nginx'],
  ['haproxy', 'haproxy'],
  ['wrk', 'wrk'],
  ['h2load', 'nghttp2-client'],
];

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

export function ensurePackages(log: (line: string) => void): void {
  const missing = NEEDED.filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  const still = NEEDED.filter(([cmd]) => !has(cmd)).map(([cmd]) => cmd);
  if (still.length > 0) throw new Error(`still missing after apt-get install: ${still.join(', ')}`);
}

function firstLine(cmd: string, args: ReadonlyArray<string>): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown';
}

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly kernel: string;
  readonly node: string;
  readonly nginx: string;
  readonly haproxy: string;
  readonly wrk: string;
  readonly h2load: string;
  readonly loadAverage: string;
}

export function machineInfo(): MachineInfo {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  return {
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: firstLine('nginx', ['-v']).replace(/^nginx version:\s*/, ''),
    haproxy: firstLine('haproxy', ['-v']).replace(/ - https?:.*$/, ''),
    wrk: firstLine('wrk', ['-v']).replace(/ \[.*$/, ''),
    h2load: firstLine('h2load', ['--version']),
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}
