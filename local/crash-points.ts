import { AsyncLocalStorage } from 'node:async_hooks';
import { type CrashPointName, installCrashPointHook } from '../lambdas/shared/crash-points';

/** The error an invoke fails with when its instance died, as Lambda reports it. */
export const LAMBDA_CRASH_ERROR = 'Runtime.ExitError';

/**
 * Carries out crash faults for a Lambda runner in this process: an invocation that reaches an armed crash point
 * (lambdas/shared/crash-points.ts) goes no further, as its process would not if killed there, and its invoke fails
 * at once with Runtime.ExitError. Which function is invoking is known from the async context the runner opens per
 * invocation. A runner that runs functions in their own processes exits the process there instead.
 */
export class CrashPointFaults {
  private readonly invocation = new AsyncLocalStorage<{
    readonly functionLogicalId: string;
    readonly die: (error: Error) => void;
  }>();
  private readonly armed = new Map<string, Map<CrashPointName, number>>();
  private readonly counts: Record<string, number> = {};

  constructor(private readonly log: (line: string) => void = () => undefined) {
    installCrashPointHook((name) => this.reached(name));
  }

  /** The next `times` invocations of the function that reach `point` die there. */
  arm(functionLogicalId: string, point: CrashPointName, times: number): void {
    const points = this.armed.get(functionLogicalId) ?? new Map<CrashPointName, number>();
    points.set(point, times);
    this.armed.set(functionLogicalId, points);
  }

  /** Invocations that died so far, by function logical id. */
  crashed(): Record<string, number> {
    return { ...this.counts };
  }

  /** Runs one invocation of a function: its answer, or Runtime.ExitError when it died at a crash point. */
  run<T>(functionLogicalId: string, call: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.invocation.run({ functionLogicalId, die: reject }, () => {
        call().then(resolve, reject);
      });
    });
  }

  /** Removes the hook (the stack stopped). */
  close(): void {
    installCrashPointHook(undefined);
  }

  private reached(point: CrashPointName): Promise<never> | undefined {
    const invocation = this.invocation.getStore();
    if (!invocation) return undefined;
    const points = this.armed.get(invocation.functionLogicalId);
    const left = points?.get(point) ?? 0;
    if (!points || left <= 0) return undefined;
    points.set(point, left - 1);
    this.counts[invocation.functionLogicalId] = (this.counts[invocation.functionLogicalId] ?? 0) + 1;
    this.log(`[lambda] ${invocation.functionLogicalId} dies at ${point} (fault, ${left - 1} left)`);
    const error = new Error(`RequestId: local Error: Runtime exited with error: signal: killed (at ${point})`);
    error.name = LAMBDA_CRASH_ERROR;
    invocation.die(error);
    // What comes after the point must not run: the function's await of it throws, up to the handler, whose answer
    // nobody reads (the invoke has failed already). A promise that never settled would stop it as well, but would
    // leave the handler's own timers (middy's timeout) running for the function's whole timeout.
    return Promise.reject(error);
  }
}
