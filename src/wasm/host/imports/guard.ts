// Turns host-side errors into ABI status codes: a pointer outside guest memory is InvalidMemoryAccess
// and a failed guest allocation InternalFailure. Anything else (a trap in the guest allocator) propagates.
import { Status } from '../abi.js';
import { AllocationFailed, BadPointer } from '../guest-memory.js';

export function fault(err: unknown): number {
  if (err instanceof BadPointer) return Status.InvalidMemoryAccess;
  if (err instanceof AllocationFailed) return Status.InternalFailure;
  throw err;
}

export type HostFunction = (...args: never[]) => number | void;
export type HostFunctions = Record<string, HostFunction>;
