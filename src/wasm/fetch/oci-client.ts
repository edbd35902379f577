// Pulls a Wasm plugin from an OCI registry with the distribution protocol (GET manifest, GET blob), as Istio's
// image fetcher does: the Wasm artifact layer (`application/vnd.module.wasm.content.layer.v1+wasm`) or a
// Docker/OCI image whose one tar(.gz) layer holds `plugin.wasm`; every digest verified; anonymous Bearer tokens.
import { createHash } from 'node:crypto';
import { describeError, type FetchLimits, httpGet, type HttpResponseBytes } from './http-fetch.js';
import type { ModuleLocation } from './module-location.js';
import { ModuleFetchError } from './module-request.js';
import { extractFromTar } from './tar-extract.js';

type OciLocation = Extract<ModuleLocation, { kind: 'oci' }>;

export const WASM_LAYER_MEDIA_TYPE = 'application/vnd.module.wasm.content.layer.v1+wasm';
export const WASM_CONFIG_MEDIA_TYPE = 'application/vnd.module.wasm.config.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const MANIFEST_ACCEPT = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST].join(', ');
const TAR_LAYER = /^application\/vnd\.(oci\.image\.layer\.v1\.tar|docker\.image\.rootfs\.diff\.tar)(\.gzip|\+gzip)?$/;
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface OciPull {
  /** `sha256:<hex>` of the image manifest: what WasmPlugin `sha256` is checked against for OCI urls (Istio). */
  readonly manifestDigest: string;
  readonly module: Uint8Array;
}

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly platform?: { readonly os?: string; readonly architecture?: string };
}

export async function pullOciModule(loc: OciLocation, limits: FetchLimits): Promise<OciPull> {
  const session = new RegistrySession(loc, limits);
  let manifest = await session.manifest(loc.reference);
  if (loc.referenceKind === 'digest' && manifest.digest !== loc.reference) {
    throw new ModuleFetchError(`${loc.url}: the registry returned manifest ${manifest.digest}, not the requested ${loc.reference}`);
  }
  const topDigest = manifest.digest;
  if (isIndex(manifest.mediaType, manifest.doc)) {
    const chosen = pickFromIndex(manifest.doc);
    if (chosen === undefined) throw new ModuleFetchError(`${loc.url}: the image index lists no manifest`);
    manifest = await session.manifest(chosen.digest);
    if (manifest.digest !== chosen.digest) throw new ModuleFetchError(`${loc.url}: manifest ${chosen.digest} has digest ${manifest.digest}`);
  }
  const layers = descriptors(manifest.doc['layers']);
  const wasmLayer = layers.find((l) => l.mediaType === WASM_LAYER_MEDIA_TYPE);
  if (wasmLayer !== undefined) return { manifestDigest: topDigest, module: await session.blob(wasmLayer.digest) };
  if (layers.length === 1 && layers[0] !== undefined && TAR_LAYER.test(layers[0].mediaType)) {
    const archive = await session.blob(layers[0].digest);
    const module = extractFromTar(archive, 'plugin.wasm', limits.maxBytes);
    if (module === undefined) throw new ModuleFetchError(`${loc.url}: the image layer has no plugin.wasm`);
    return { manifestDigest: topDigest, module };
  }
  throw new ModuleFetchError(`${loc.url}: the image holds no Wasm module: expected a ${WASM_LAYER_MEDIA_TYPE} layer or exactly one tar layer with plugin.wasm, found ${layers.length === 0 ? 'no layers' : layers.map((l) => l.mediaType).join(', ')}`);
}

class RegistrySession {
  readonly #loc: OciLocation;
  readonly #limits: FetchLimits;
  #authorization: string | undefined;

  constructor(loc: OciLocation, limits: FetchLimits) {
    this.#loc = loc;
    this.#limits = limits;
  }

  async manifest(reference: string): Promise<{ digest: string; mediaType: string; doc: Record<string, unknown> }> {
    const res = await this.#get(`manifests/${reference}`, { accept: MANIFEST_ACCEPT }, MAX_MANIFEST_BYTES);
    if (res.status === 404) throw new ModuleFetchError(`${this.#loc.url}: manifest ${reference} not found in ${this.#loc.registry}/${this.#loc.repository} (HTTP 404)`);
    if (res.status !== 200) throw new ModuleFetchError(`${this.#loc.url}: the registry answered HTTP ${res.status} for manifest ${reference}`);
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(res.body).toString('utf8'));
    } catch {
      throw new ModuleFetchError(`${this.#loc.url}: manifest ${reference} is not JSON`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ModuleFetchError(`${this.#loc.url}: manifest ${reference} is not a JSON object`);
    const record = doc as Record<string, unknown>;
    const header = res.headers['content-type'];
    const mediaType = typeof record['mediaType'] === 'string' ? record['mediaType'] : typeof header === 'string' ? header.split(';')[0]?.trim() ?? '' : '';
    return { digest: sha256Digest(res.body), mediaType, doc: record };
  }

  async blob(digest: string): Promise<Uint8Array> {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new ModuleFetchError(`${this.#loc.url}: unsupported blob digest "${digest}" (only sha256)`);
    const res = await this.#get(`blobs/${digest}`, {}, this.#limits.maxBytes);
    if (res.status !== 200) throw new ModuleFetchError(`${this.#loc.url}: the registry answered HTTP ${res.status} for blob ${digest}`);
    const actual = sha256Digest(res.body);
    if (actual !== digest) throw new ModuleFetchError(`${this.#loc.url}: blob ${digest} has digest ${actual}: the download is corrupt`);
    return res.body;
  }

  async #get(path: string, headers: Record<string, string>, maxBytes: number): Promise<HttpResponseBytes> {
    const url = `${this.#loc.scheme}//${this.#loc.registry}/v2/${this.#loc.repository}/${path}`;
    const limits = { ...this.#limits, maxBytes };
    const send = (): Promise<HttpResponseBytes> => httpGet(url, this.#authorization === undefined ? headers : { ...headers, authorization: this.#authorization }, limits);
    let res = await send();
    if (res.status === 401 && this.#authorization === undefined) {
      this.#authorization = await this.#token(res.headers['www-authenticate']);
      res = await send();
    }
    if (res.status === 401) throw new ModuleFetchError(`${this.#loc.url}: the registry refused the pull (HTTP 401); private registries need credentials (imagePullSecret), which this waypoint does not support yet`);
    return res;
  }

  /** Docker's token flow: `WWW-Authenticate: Bearer realm=...,service=...,scope=...` → GET realm → `{token}`. */
  async #token(challenge: string | string[] | undefined): Promise<string> {
    const value = Array.isArray(challenge) ? challenge.find((c) => /^bearer /i.test(c)) : challenge;
    if (value === undefined || !/^bearer /i.test(value)) {
      throw new ModuleFetchError(`${this.#loc.url}: the registry requires ${value === undefined ? 'authentication' : `"${value.split(' ')[0] ?? ''}" authentication`}; only anonymous Bearer tokens are supported (imagePullSecret is not supported yet)`);
    }
    const params = new Map<string, string>();
    for (const m of value.slice(7).matchAll(/([A-Za-z]+)="([^"]*)"/g)) params.set((m[1] ?? '').toLowerCase(), m[2] ?? '');
    const realm = params.get('realm');
    if (realm === undefined) throw new ModuleFetchError(`${this.#loc.url}: the registry's Bearer challenge has no realm`);
    const tokenUrl = new URL(realm);
    const service = params.get('service');
    if (service !== undefined) tokenUrl.searchParams.set('service', service);
    tokenUrl.searchParams.set('scope', params.get('scope') ?? `repository:${this.#loc.repository}:pull`);
    let res: HttpResponseBytes;
    try {
      res = await httpGet(tokenUrl.toString(), {}, { ...this.#limits, maxBytes: 1024 * 1024 });
    } catch (err) {
      throw new ModuleFetchError(`${this.#loc.url}: the token service is unreachable: ${describeError(err)}`);
    }
    if (res.status !== 200) throw new ModuleFetchError(`${this.#loc.url}: the token service ${tokenUrl.origin} answered HTTP ${res.status}`);
    let token: unknown;
    try {
      const doc = JSON.parse(Buffer.from(res.body).toString('utf8')) as Record<string, unknown>;
      token = doc['token'] ?? doc['access_token'];
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '') throw new ModuleFetchError(`${this.#loc.url}: the token service gave no token`);
    return `Bearer ${token}`;
  }
}

function isIndex(mediaType: string, doc: Record<string, unknown>): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_LIST || (Array.isArray(doc['manifests']) && !Array.isArray(doc['layers']));
}

/** A Wasm platform entry if the index has one, else linux/amd64 (go-containerregistry's default), else the first. */
function pickFromIndex(doc: Record<string, unknown>): Descriptor | undefined {
  const list = descriptors(doc['manifests']);
  return list.find((d) => d.platform?.architecture === 'wasm' || d.platform?.os === 'wasip1' || d.platform?.os === 'wasi')
    ?? list.find((d) => d.platform?.os === 'linux' && d.platform.architecture === 'amd64')
    ?? list[0];
}

function descriptors(value: unknown): Descriptor[] {
  if (!Array.isArray(value)) return [];
  const out: Descriptor[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) continue;
    const r = item as Record<string, unknown>;
    if (typeof r['digest'] !== 'string') continue;
    const platform = typeof r['platform'] === 'object' && r['platform'] !== null ? r['platform'] as { os?: string; architecture?: string } : undefined;
    out.push({ mediaType: typeof r['mediaType'] === 'string' ? r['mediaType'] : '', digest: r['digest'], ...(platform === undefined ? {} : { platform }) });
  }
  return out;
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
