// Raw resources as sources produce them: one Kubernetes-style object with where it came from.
// Sources (files, Kubernetes) only produce these; validation turns them into typed specs.

/** A path into an object: keys and array indexes, as in `spec.rules[0].matches[1]`. */
export type FieldPath = ReadonlyArray<string | number>;

/** Where a resource came from, so every diagnostic can point at a file and line. */
export interface ResourceOrigin {
  /** File path as given on the command line (or `kubernetes` for the API server). */
  readonly file: string;
  /** Index of the document inside a multi-document YAML file, from 0. */
  readonly doc: number;
  /** 1-based line of the document's first line. */
  readonly line: number;
  /** 1-based line of a field inside the document, or undefined when it cannot be located. */
  lineOf(path: FieldPath): number | undefined;
}

export interface RawMetadata {
  readonly name: string;
  /** Empty for cluster-scoped kinds; `default` is filled in for namespaced kinds without one. */
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly creationTimestamp: string | undefined;
  readonly generation: number | undefined;
  readonly resourceVersion: string | undefined;
}

export interface RawResource {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: RawMetadata;
  /** The whole object as parsed (apiVersion, kind, metadata, spec, ...). */
  readonly object: Readonly<Record<string, unknown>>;
  readonly origin: ResourceOrigin;
  /** Position of this resource in the order sources produced them; breaks creation-time ties. */
  readonly seq: number;
}

/** `Kind namespace/name` (or `Kind name` for cluster-scoped kinds): how diagnostics name a resource. */
export function resourceRefString(kind: string, namespace: string, name: string): string {
  return namespace === '' ? `${kind} ${name}` : `${kind} ${namespace}/${name}`;
}

/** Renders a field path the way kubectl does: `spec.rules[0].matches[1].path`. */
export function fieldPathString(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** Cluster-scoped kinds get no default namespace. */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Namespace',
  'GatewayClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
]);
