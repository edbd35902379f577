// Stream control: continue/close a paused stream, local responses, the effective context, proxy_done.
import { Status, StreamType } from '../abi.js';
import type { PluginVm } from '../plugin-vm.js';
import { LocalReplies } from '../../../errors/local-reply.js';
import { fault, type HostFunctions } from './guard.js';

export function streamImports(vm: PluginVm): HostFunctions {
  const mem = vm.memory;
  return {
    proxy_continue_stream(type: number): number {
      return vm.effective.continueStream(type) ? Status.Ok : Status.BadArgument;
    },
    proxy_continue_request(): number {
      return vm.effective.continueStream(StreamType.Request) ? Status.Ok : Status.BadArgument;
    },
    proxy_continue_response(): number {
      return vm.effective.continueStream(StreamType.Response) ? Status.Ok : Status.BadArgument;
    },
    proxy_close_stream(type: number): number {
      return vm.effective.closeStream(type) ? Status.Ok : Status.BadArgument;
    },
    proxy_send_local_response(status: number, dp: number, dl: number, bp: number, bl: number, hp: number, hl: number, grpcStatus: number): number {
      try {
        const details = mem.string(dp, dl);
        const body = mem.string(bp, bl);
        const headers = mem.pairs(hp, hl);
        const reply = LocalReplies.wasmLocalReply(status, details, body, headers, grpcStatus);
        return vm.effective.sendLocalResponse(reply) ? Status.Ok : Status.BadArgument;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_set_effective_context(id: number): number {
      const ctx = vm.context(id);
      if (ctx === undefined) return Status.BadArgument;
      vm.effective = ctx;
      return Status.Ok;
    },
    proxy_done(): number {
      return vm.effective.done() ? Status.Ok : Status.NotFound;
    },
    proxy_clear_route_cache(): number {
      // Routing happens after the plugin chain here, on the headers the plugins left: nothing is cached.
      return Status.Ok;
    },
    proxy_get_status(codePtr: number, msgPtrPtr: number, msgSizePtr: number): number {
      try {
        const status = vm.callResponse?.grpcStatus;
        if (status === undefined) return Status.NotFound;
        mem.setU32(codePtr, status);
        mem.returnString('', msgPtrPtr, msgSizePtr);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
  };
}

