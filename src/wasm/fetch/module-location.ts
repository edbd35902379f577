// Where a WasmPlugin `url` points: a local file, an HTTP(S) URL, or an OCI image reference, parsed the way
// Istio does (no scheme ⇒ oci; an OCI reference without a tag means `latest`; Docker Hub when no registry is named).

export type ModuleLocation =
  | { readonly kind: 'file'; readonly url: string; readonly path: string }
  | { readonly kind: 'http'; readonly url: string }
  | {
      readonly kind: 'oci';
      readonly url: string;
      /** `host[:port]` of the registry. */
      readonly registry: string;
      /** `http:` or `https:`: loopback, localhost and RFC 1918 registries are plain HTTP, as go-containerregistry does. */
      readonly scheme: 'http:' | 'https:';
      readonly repository: string;
      /** A tag or a `sha256:<hex>` digest. */
      readonly reference: string;
      readonly referenceKind: 'tag' | 'digest';
    };

/** Parses a url that already passed validation (model/wasm-plugin.ts); throws on anything else. */
export function parseModuleLocation(url: string): ModuleLocation {
  const hasScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url);
  // Istio: "If no scheme is given, defaults to oci://".
  const full = hasScheme ? url : `oci://${url}`;
  const scheme = full.slice(0, full.indexOf(':')).toLowerCase();
  if (scheme === 'file') return { kind: 'file', url: full, path: decodeURIComponent(new URL(full).pathname) };
  if (scheme === 'http' || scheme === 'https') return { kind: 'http', url: full };
  if (scheme === 'oci') return parseOciReference(full, full.slice('oci://'.length));
  throw new Error(`unsupported Wasm module URL scheme "${scheme}"`);
}

const DOCKER_HUB = 'registry-1.docker.io';

function parseOciReference(url: string, ref: string): ModuleLocation {
  let rest = ref;
  let reference = 'latest';
  let referenceKind: 'tag' | 'digest' = 'tag';
  const at = rest.indexOf('@');
  if (at >= 0) {
    reference = rest.slice(at + 1);
    referenceKind = 'digest';
    rest = rest.slice(0, at);
  } else {
    const slash = rest.lastIndexOf('/');
    const colon = rest.lastIndexOf(':');
    if (colon > slash) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  const first = rest.split('/')[0] ?? '';
  const namesRegistry = rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = namesRegistry ? first : DOCKER_HUB;
  let repository = namesRegistry ? rest.slice(first.length + 1) : rest;
  if (!namesRegistry && !repository.includes('/')) repository = `library/${repository}`;
  if (repository === '' || !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) {
    throw new Error(`"${ref}" is not a valid OCI image reference: the repository "${repository}" must be lowercase path components`);
  }
  if (referenceKind === 'digest' && !/^sha256:[a-f0-9]{64}$/.test(reference)) throw new Error(`"${ref}": only sha256 digests are supported (@sha256:<64 hex>)`);
  if (referenceKind === 'tag' && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(reference)) throw new Error(`"${ref}": "${reference}" is not a valid tag`);
  return { kind: 'oci', url, registry, scheme: isPlainHttpRegistry(registry) ? 'http:' : 'https:', repository, reference, referenceKind };
}

/** go-containerregistry's rule: localhost, loopback and RFC 1918 registries are spoken to over plain HTTP. */
function isPlainHttpRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : (registry.split(':')[0] ?? '');
  if (host === 'localhost' || host === '::1') return true;
  const m = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(host);
  if (m === null) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/**
 * Whether a cached module may be reused instead of pulling again. Istio (pkg/wasm/cache.go `pullIfNotPresent`):
 * only OCI images honour the policy, UNSPECIFIED meaning IfNotPresent unless the reference ends in `:latest`;
 * http(s) modules have Always semantics (re-fetched on every change of the resource) unless a sha256 pins them.
 * A file:// module is read again whenever the resource changes, as Envoy reloads a local data source.
 */
export function reusesCachedModule(location: ModuleLocation, policy: 'UNSPECIFIED_POLICY' | 'IfNotPresent' | 'Always', sha256: string | undefined): boolean {
  if (location.kind === 'oci') {
    if (policy === 'Always') return false;
    if (policy === 'IfNotPresent') return true;
    return !location.url.endsWith(':latest');
  }
  if (location.kind === 'http') return sha256 !== undefined && policy !== 'Always';
  return false;
}
