// The live workload identity: loaded at start, then re-read when any of its files changes. A rotation
// applies to new handshakes only (open tunnels keep the session they have); a change that does not load
// (half-written files, a key that does not match) keeps the current identity and is reported.
import { type FSWatcher, watch, watchFile, unwatchFile } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import type { LogFields } from '../../observability/logger.js';
import { type IdentityFiles, loadIdentity, type WorkloadIdentity } from './identity.js';

export interface IdentityLog {
  info(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** One identity with the TLS contexts built from it once (not per handshake). */
export interface ActiveIdentity {
  readonly identity: WorkloadIdentity;
  /** TLS 1.3 context presenting the identity and trusting the bundle (client side of HBONE). */
  readonly clientContext: tls.SecureContext;
}

const SETTLE_MS = 100;

export class IdentitySource {
  readonly files: IdentityFiles;
  readonly #log: IdentityLog;
  readonly #pollMs: number;
  #active: ActiveIdentity | undefined;
  #listeners: Array<(a: ActiveIdentity) => void> = [];
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  #watching = false;

  constructor(files: IdentityFiles, log: IdentityLog, pollMs = 1000) {
    this.files = files;
    this.#log = log;
    this.#pollMs = pollMs;
  }

  /** Loads the files; throws IdentityError when they are not a usable identity. */
  async load(): Promise<ActiveIdentity> {
    const active = activate(await loadIdentity(this.files));
    this.#active = active;
    return active;
  }

  get current(): ActiveIdentity {
    if (this.#active === undefined) throw new Error('identity not loaded');
    return this.#active;
  }

  onRotate(listener: (a: ActiveIdentity) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Watches the three files. Directory watches catch atomic renames (Kubernetes Secret volumes swap a
   * symlink); stat polling catches what inotify misses (network filesystems, replaced mounts).
   */
  watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    const files = [this.files.certFile, this.files.keyFile, this.files.trustBundleFile];
    for (const dir of new Set(files.map((f) => path.dirname(path.resolve(f))))) {
      try {
        const w = watch(dir, { persistent: false }, () => this.#schedule());
        w.on('error', () => undefined);
        this.#watchers.push(w);
      } catch {
        // polling below still notices changes
      }
    }
    for (const f of files) watchFile(f, { persistent: false, interval: this.#pollMs }, this.#onStat);
  }

  readonly #onStat = (): void => this.#schedule();

  #schedule(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.reload();
    }, SETTLE_MS);
    this.#timer.unref();
  }

  /** Re-reads the files; a new certificate becomes current, a broken set is reported and ignored. */
  async reload(): Promise<boolean> {
    let identity: WorkloadIdentity;
    try {
      identity = await loadIdentity(this.files);
    } catch (err) {
      this.#log.error(`identity files changed but do not load; keeping the current certificate: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
    const previous = this.#active;
    if (previous !== undefined && previous.identity.fingerprint === identity.fingerprint && previous.identity.trustBundlePem.equals(identity.trustBundlePem)) return false;
    const active = activate(identity);
    this.#active = active;
    this.#log.info('workload certificate rotated: new handshakes use it, open tunnels keep theirs', { identity: identity.id.uri, not_after: identity.notAfter.toISOString() });
    for (const l of this.#listeners) l(active);
    return true;
  }

  close(): void {
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
    for (const f of [this.files.certFile, this.files.keyFile, this.files.trustBundleFile]) unwatchFile(f, this.#onStat);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#watching = false;
  }
}

/** TLS options shared by both directions of HBONE: TLS 1.3 only, ALPN h2, the identity and its trust bundle. */
export function hboneTlsOptions(identity: WorkloadIdentity): tls.SecureContextOptions {
  return { cert: identity.certPem, key: identity.keyPem, ca: identity.trustBundlePem, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };
}

function activate(identity: WorkloadIdentity): ActiveIdentity {
  return { identity, clientContext: tls.createSecureContext(hboneTlsOptions(identity)) };
}
