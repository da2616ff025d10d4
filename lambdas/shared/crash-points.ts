/**
 * Named points in a function where the local stack can make it die, as a Lambda instance killed there (out of
 * memory, timed out, its host lost) would: nothing after the point runs, and the invocation fails. Tests use them
 * to show what survives such a death (test/e2e/order-start.test.ts). In Lambda no hook is installed and a crash
 * point costs one property read.
 */
export const CrashPoints = {
  /** ProductApiFunction, POST port-orders: the order and its port requests are written, no execution started. */
  OrderWritten: 'order-written',
} as const;

export type CrashPointName = (typeof CrashPoints)[keyof typeof CrashPoints];

/**
 * Called at each crash point; answers a promise that never resolves when the function is to die there (it rejects,
 * or the process exits first). Crash points sit where no caller catches what they throw.
 */
export type CrashPointHook = (name: CrashPointName) => Promise<never> | undefined;

const HOOK = Symbol.for('ringtonic.crashPointHook');

/** Installs the hook the local Lambda runner uses to carry out crash faults (one per process). */
export function installCrashPointHook(hook: CrashPointHook | undefined): void {
  (globalThis as { [HOOK]?: CrashPointHook })[HOOK] = hook;
}

/** A point where the function may be made to die (see {@link CrashPoints}). */
export async function crashPoint(name: CrashPointName): Promise<void> {
  const hook = (globalThis as { [HOOK]?: CrashPointHook })[HOOK];
  const death = hook?.(name);
  if (death) await death;
}
