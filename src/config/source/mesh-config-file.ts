// Loads MeshConfig from `--mesh-config FILE`: either the MeshConfig YAML itself, or the `istio` ConfigMap
// whose `data.mesh` holds it (as `kubectl get cm istio -o yaml` prints it).
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig, meshConfig } from '../model/mesh-config.js';

export interface MeshConfigLoad {
  readonly config: MeshConfig;
  readonly diagnostics: Diagnostic[];
}

export async function loadMeshConfig(file: string | undefined): Promise<MeshConfigLoad> {
  if (file === undefined) return { config: DEFAULT_MESH_CONFIG, diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const fail = (message: string): MeshConfigLoad => {
    diagnostics.push({ severity: 'error', code: 'mesh-config', resource: undefined, file, doc: undefined, line: undefined, path: undefined, message });
    return { config: DEFAULT_MESH_CONFIG, diagnostics };
  };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return fail(`cannot read mesh config: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseMeshConfigText(text, file);
}

export function parseMeshConfigText(text: string, file: string): MeshConfigLoad {
  const diagnostics: Diagnostic[] = [];
  const fail = (message: string, path?: string): MeshConfigLoad => {
    diagnostics.push({ severity: 'error', code: 'mesh-config', resource: undefined, file, doc: undefined, line: undefined, path, message });
    return { config: DEFAULT_MESH_CONFIG, diagnostics };
  };
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return fail(`mesh config is not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (isRecord(doc) && doc['kind'] === 'ConfigMap') {
    const data = doc['data'];
    const mesh = isRecord(data) ? data['mesh'] : undefined;
    if (typeof mesh !== 'string') return fail('ConfigMap has no data.mesh string', 'data.mesh');
    try {
      doc = parse(mesh);
    } catch (err) {
      return fail(`data.mesh is not valid YAML: ${err instanceof Error ? err.message : String(err)}`, 'data.mesh');
    }
  }
  const parsed = meshConfig.safeParse(doc ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) fail(issue.message, issue.path.map(String).join('.'));
    return { config: DEFAULT_MESH_CONFIG, diagnostics };
  }
  return { config: parsed.data, diagnostics };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
