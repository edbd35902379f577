// The root (plugin) context, id 1 in every VM: start-up (context_create(root, 0) → vm_start → configure),
// the tick timer (proxy_set_tick_period_milliseconds → proxy_on_tick) and shared-queue wake-ups.
import type { BodyBuffer } from '../../filters/body-buffer.js';
import type { HeaderMap, HostContext, PropertyValue } from './host-context.js';
import { type PluginVm, VmFailed } from './plugin-vm.js';

export class RootContext implements HostContext {
  readonly id: number;
  readonly setProperties = new Map<string, Uint8Array>();
  readonly #vm: PluginVm;
  #tick: NodeJS.Timeout | undefined = undefined;
  #stopped = false;

  constructor(vm: PluginVm, id: number) {
    this.#vm = vm;
    this.id = id;
  }

  /** Runs start-up; returns why the plugin cannot serve, or undefined. */
  start(): string | undefined {
    const vm = this.#vm;
    try {
      vm.start();
      vm.callFor(this, 'proxy_on_context_create', this.id, 0);
      if (vm.callFor(this, 'proxy_on_vm_start', this.id, vm.identity.vmConfiguration.length) === 0) return 'proxy_on_vm_start returned false';
      if (vm.callFor(this, 'proxy_on_configure', this.id, vm.identity.configuration.length) === 0) return 'proxy_on_configure returned false (the plugin rejected its configuration)';
    } catch (err) {
      if (err instanceof VmFailed) return err.message;
      throw err;
    }
    return undefined;
  }

  setTickPeriod(ms: number): void {
    if (this.#tick !== undefined) clearInterval(this.#tick);
    this.#tick = undefined;
    if (ms <= 0 || this.#stopped) return;
    this.#tick = setInterval(this.#onTick, ms);
    this.#tick.unref();
  }

  readonly #onTick = (): void => {
    if (this.#vm.failed) return this.stop();
    try {
      this.#vm.callFor(this, 'proxy_on_tick', this.id);
    } catch (err) {
      if (!(err instanceof VmFailed)) throw err;
    }
  };

  /** A shared queue this VM registered got an item. */
  queueReady(queueId: number): void {
    if (this.#vm.failed || this.#stopped) return;
    try {
      this.#vm.callFor(this, 'proxy_on_queue_ready', this.id, queueId);
    } catch (err) {
      if (!(err instanceof VmFailed)) throw err;
    }
  }

  /** No more ticks (the VM failed or its plugin was replaced). */
  stop(): void {
    this.#stopped = true;
    if (this.#tick !== undefined) clearInterval(this.#tick);
    this.#tick = undefined;
  }

  headerMap(): HeaderMap | undefined {
    return undefined;
  }

  body(): BodyBuffer | undefined {
    return undefined;
  }

  sendLocalResponse(): boolean {
    return false;
  }

  continueStream(): boolean {
    return false;
  }

  closeStream(): boolean {
    return false;
  }

  streamProperty(): PropertyValue | undefined {
    return undefined;
  }

  done(): boolean {
    return true;
  }
}
