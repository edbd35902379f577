// One WasmPlugin (module digest + configuration) kept across snapshots: it owns the live VM and replaces
// it after a failure. A VM that failed to start is retried after a back-off, so a plugin that always
// rejects its configuration does not re-instantiate on every request.
import { describe, type PluginIdentity, PluginVm, type PreparedModule, type VmServices, VmFailed } from './plugin-vm.js';
import type { VmSource } from './wasm-http-filter.js';

/** Wait after a failed start before trying again. */
const START_RETRY_MS = 1000;

export class PluginHandle implements VmSource {
  readonly #prepared: PreparedModule;
  readonly #identity: PluginIdentity;
  readonly #services: VmServices;
  #vm: PluginVm | undefined = undefined;
  #startFailure: string | undefined = undefined;
  #retryAt = 0;
  #retired = false;
  /** VMs created so far (1 + replacements), for tests and the log. */
  generation = 0;

  constructor(prepared: PreparedModule, identity: PluginIdentity, services: VmServices) {
    this.#prepared = prepared;
    this.#identity = identity;
    this.#services = services;
  }

  /** Starts the first VM now so start-up failures can be reported with the configuration. */
  warm(): string | undefined {
    const vm = this.vm();
    return typeof vm === 'string' ? vm : undefined;
  }

  vm(): PluginVm | string {
    const current = this.#vm;
    if (current !== undefined && !current.failed) return current;
    if (this.#startFailure !== undefined && performance.now() < this.#retryAt) return this.#startFailure;
    return this.#create();
  }

  #create(): PluginVm | string {
    this.generation++;
    const created = this.#instantiate();
    if (typeof created === 'string') {
      this.#vm = undefined;
      this.#startFailure = created;
      this.#retryAt = performance.now() + START_RETRY_MS;
      return created;
    }
    this.#startFailure = undefined;
    this.#vm = created;
    if (this.#retired) created.root.stop();
    return created;
  }

  /** A started VM, or why it could not start (instantiation, proxy_on_vm_start or proxy_on_configure). */
  #instantiate(): PluginVm | string {
    let vm: PluginVm;
    try {
      vm = new PluginVm(this.#prepared, this.#identity, this.#services);
    } catch (err) {
      return err instanceof VmFailed ? err.message : describe(err);
    }
    const failure = vm.root.start();
    if (failure === undefined) return vm;
    vm.fail(failure);
    return failure;
  }

  /** The plugin left the configuration (or changed): no more ticks; in-flight streams finish on the VM. */
  retire(): void {
    this.#retired = true;
    this.#vm?.root.stop();
  }
}
