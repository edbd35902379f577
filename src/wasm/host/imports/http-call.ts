// proxy_http_call: dispatches through the HttpCaller and calls proxy_on_http_call_response on the context
// that made the call, with the response readable as HTTP_CALL_RESPONSE_* maps and buffer.
import { Status } from '../abi.js';
import type { PluginVm } from '../plugin-vm.js';
import { fault, type HostFunctions } from './guard.js';

export function httpCallImports(vm: PluginVm): HostFunctions {
  const mem = vm.memory;
  return {
    proxy_http_call(up: number, ul: number, hp: number, hl: number, bp: number, bl: number, tp: number, tl: number, timeoutMs: number, idPtr: number): number {
      try {
        mem.setU32(idPtr, 0);
        const upstream = mem.string(up, ul);
        const fields = mem.pairs(hp, hl);
        mem.pairs(tp, tl);
        const body = mem.copy(bp, bl);
        let method: string | undefined;
        let path: string | undefined;
        let authority: string | undefined;
        const headers: string[] = [];
        for (let i = 0; i < fields.length; i += 2) {
          const name = (fields[i] as string).toLowerCase();
          const value = fields[i + 1] as string;
          if (name === ':method') method = value;
          else if (name === ':path') path = value;
          else if (name === ':authority') authority = value;
          else if (name.charCodeAt(0) !== 0x3a && name !== 'host' && name !== 'content-length') headers.push(name, value);
        }
        // The spec: the call needs :method, :path and :authority.
        if (method === undefined || path === undefined || authority === undefined) return Status.BadArgument;
        const ctx = vm.effective;
        const callId = vm.newCallId();
        const ok = vm.services.http.call({ upstream, method, path, authority, headers, body, timeoutMs: timeoutMs >>> 0 }, (res) => vm.deliverHttpCall(ctx.id, callId, res));
        if (!ok) return Status.BadArgument;
        vm.pendingCalls.add(callId);
        mem.setU32(idPtr, callId);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
  };
}
