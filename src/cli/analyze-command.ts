// `waypoint analyze`: istioctl-analyze-style report of the config (src/analyze); exit 1 when any Error is found.
import { analyze, formatMessage } from '../analyze/analyze.js';
import { compile } from '../config/compile/index.js';
import { sortDiagnostics } from '../config/diagnostics.js';
import { loadConfigFiles } from '../config/source/files.js';
import { loadMeshConfig } from '../config/source/mesh-config-file.js';
import { readTlsFiles } from '../upstream/tls/tls-files.js';

export interface AnalyzeOptions {
  readonly config: ReadonlyArray<string>;
  readonly waypoint: string | undefined;
  readonly clusterDomain: string;
  readonly meshConfigFile?: string | undefined;
  readonly output: 'text' | 'json';
}

/** Returns the process exit code: 0 without Error messages, 1 otherwise. */
export async function analyzeCommand(options: AnalyzeOptions, write: (s: string) => void): Promise<number> {
  const loaded = await loadConfigFiles(options.config);
  const mesh = await loadMeshConfig(options.meshConfigFile);
  // DestinationRule TLS files are checked as the running waypoint would read them.
  const tlsFiles = await readTlsFiles(loaded.resources);
  const result = compile(loaded.resources, { waypoint: options.waypoint, clusterDomain: options.clusterDomain, mesh: mesh.config, version: 1, tlsFiles });
  const gateways = new Set(loaded.resources.filter((r) => r.kind === 'Gateway').map((r) => `${r.metadata.namespace}/${r.metadata.name}`));
  const messages = analyze({
    diagnostics: sortDiagnostics([...loaded.diagnostics, ...mesh.diagnostics, ...result.diagnostics]),
    status: result.ok ? result.snapshot.status : result.status,
    gateways,
  });
  const errors = messages.filter((m) => m.level === 'Error').length;
  if (options.output === 'json') {
    write(`${JSON.stringify(messages, null, 2)}\n`);
  } else if (messages.length === 0) {
    write('\u2714 No validation issues found when analyzing the config.\n');
  } else {
    for (const m of messages) write(formatMessage(m));
  }
  return errors === 0 ? 0 : 1;
}
