/**
 * Named points in a function where the local stack can make it die, as a Lambda instance killed there (out of
 * memory, timed out, its host lost) would: nothing after the point runs, and the invocation fails. Tests use them
 * to show what survives such a death (test/e2e/order-start.test.ts). In Lambda no hook is installed and a crash
 * point costs one property read.
 */
export const CrashPoints = {
  /** ProductApiFunction, POST port-orders: the order and its port requests are written, no execution started. */
  OrderWritten: 'order-written',
  /** DeliverEmailsFunction: an email is claimed for sending, not yet handed to SES. */
  EmailClaimed: 'email-claimed',
  /** DeliverEmailsFunction: SES took an email (it answered its message id); the outbox does not say so yet. */
  EmailTaken: 'email-taken',
} as const;

export type CrashPointName = (typeof CrashPoints)[keyof typeof CrashPoints];

/**
 * Called at each crash point; undefined lets the function go on at once. A promise holds it there: one that
 * resolves lets it go on, one that never settles is a death (the local Lambda runtime's bootstrap, local/lambda,
 * waits so while its parent decides, and the parent SIGKILLs the process there).
 */
export type CrashPointHook = (name: CrashPointName) => Promise<void> | undefined;

const HOOK = Symbol.for('ringtonic.crashPointHook');

/**
 * Installs a hook (one per process). The local Lambda runtime's bootstrap (local/lambda/bootstrap.mjs) sets the
 * same global itself; tests that run a use case in-process install one here.
 */
export function installCrashPointHook(hook: CrashPointHook | undefined): void {
  (globalThis as { [HOOK]?: CrashPointHook })[HOOK] = hook;
}

/** A point where the function may be made to die (see {@link CrashPoints}). */
export async function crashPoint(name: CrashPointName): Promise<void> {
  const hook = (globalThis as { [HOOK]?: CrashPointHook })[HOOK];
  const death = hook?.(name);
  if (death) await death;
}
