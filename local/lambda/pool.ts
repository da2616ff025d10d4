import { randomUUID } from 'node:crypto';
import {
  type ArmedCrashPoints,
  type FunctionLogLine,
  type InjectedFault,
  type InstanceSpec,
  type InvokeResult,
  LambdaFunctionError,
  LambdaInstance,
} from './instance';

/** A function as the pool runs it. */
export interface FunctionSpec extends InstanceSpec {
  /** The enforced timeout (the template's Timeout unless a test overrides it). */
  readonly timeoutSeconds: number;
  /** How many instances may run at once (ReservedConcurrentExecutions, else the local default). */
  readonly maxConcurrency: number;
}

/** Counters of one function. */
export interface FunctionStats {
  readonly invocations: number;
  readonly coldStarts: number;
  /** Instances alive now (initializing, idle or busy). */
  readonly instances: number;
  readonly busy: number;
  /** Events waiting for an instance now. */
  readonly queued: number;
  /** The most instances busy at once. */
  readonly peakConcurrency: number;
  /** The longest the queue got. */
  readonly peakQueued: number;
  readonly errors: number;
  readonly timeouts: number;
  /** Instances that died while serving an event or while idle (not counting timeouts and retirement). */
  readonly crashes: number;
}

/** One invocation done, for whoever times them (the benchmarks). */
export interface InvokeRecord {
  readonly functionName: string;
  readonly requestId: string;
  /** The instance that served it. */
  readonly pid: number;
  readonly startedAt: number;
  /** Time in the handler, as the bootstrap measured it (Lambda's Duration); undefined when the instance died. */
  readonly durationMs: number | undefined;
  readonly coldStart: boolean;
  /** A cold start's init phase (Lambda's Init Duration), in ms. */
  readonly initDurationMs?: number;
  /** Time waiting for a free instance. */
  readonly queuedMs: number;
  readonly errorType?: string;
}

interface Pending {
  readonly event: string;
  readonly fault: InjectedFault | undefined;
  readonly crashPoints: ArmedCrashPoints | undefined;
  readonly enqueuedAt: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

export interface PoolEvents {
  readonly onLog: (line: FunctionLogLine) => void;
  readonly onInvoke: (record: InvokeRecord) => void;
  readonly log: (line: string) => void;
}

/**
 * The instances of one function: one event at a time per instance, the most recently used idle instance first
 * (so the others age out), a cold start when none is idle and the limit allows, a FIFO queue beyond the limit,
 * idle instances killed after the warm time.
 */
export class FunctionPool {
  private readonly all = new Set<LambdaInstance>();
  /** Idle instances, most recently used last. */
  private readonly idle: LambdaInstance[] = [];
  private readonly queue: Pending[] = [];
  private busyCount = 0;
  private stopped = false;
  private readonly counters = {
    invocations: 0,
    coldStarts: 0,
    peakConcurrency: 0,
    peakQueued: 0,
    errors: 0,
    timeouts: 0,
    crashes: 0,
  };
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private spec: FunctionSpec,
    private readonly warmMs: number,
    private readonly events: PoolEvents,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get environment(): Readonly<Record<string, string>> {
    return this.spec.env;
  }

  invoke(event: unknown, fault?: InjectedFault, crashPoints?: ArmedCrashPoints): Promise<unknown> {
    if (this.stopped) return Promise.reject(new Error(`${this.spec.name}: the local Lambda runtime is stopped`));
    // Lambda passes JSON, not object references.
    const text = JSON.stringify(event ?? null);
    return new Promise((resolve, reject) => {
      this.queue.push({ event: text, fault, crashPoints, enqueuedAt: Date.now(), resolve, reject });
      this.pump();
      this.counters.peakQueued = Math.max(this.counters.peakQueued, this.queue.length);
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let instance = this.idle.pop();
      while (instance && !instance.alive) instance = this.idle.pop();
      let cold = false;
      if (!instance) {
        if (this.all.size >= this.spec.maxConcurrency) return; // throttled: the event waits its turn
        instance = this.start();
        cold = true;
      }
      const pending = this.queue.shift() as Pending;
      void this.dispatch(instance, pending, cold);
    }
  }

  private start(): LambdaInstance {
    this.counters.coldStarts += 1;
    const instance = new LambdaInstance(this.spec, {
      onLog: this.events.onLog,
      onExit: (dead, description) => {
        this.all.delete(dead);
        const at = this.idle.indexOf(dead);
        if (at >= 0) this.idle.splice(at, 1);
        if (!dead.retired && !this.stopped) {
          if (!dead.killedForTimeout) this.counters.crashes += 1;
          this.events.log(`[lambda] ${this.spec.name} instance ${dead.pid} exited (${description})`);
        }
        // A free slot: a queued event may start a new instance now.
        this.pump();
      },
    });
    this.all.add(instance);
    return instance;
  }

  private async dispatch(instance: LambdaInstance, pending: Pending, cold: boolean): Promise<void> {
    this.busyCount += 1;
    this.counters.invocations += 1;
    this.counters.peakConcurrency = Math.max(this.counters.peakConcurrency, this.busyCount);
    const requestId = randomUUID();
    const startedAt = Date.now();
    let result: InvokeResult | undefined;
    let failure: Error | undefined;
    try {
      result = await instance.invoke(
        pending.event,
        requestId,
        this.spec.timeoutSeconds,
        pending.fault,
        pending.crashPoints,
      );
    } catch (error) {
      failure = error as Error;
    }
    this.busyCount -= 1;
    if (failure) {
      this.counters.errors += 1;
      if (failure.name === 'Sandbox.Timedout') this.counters.timeouts += 1;
    }
    if (instance.alive && instance.state === 'idle') {
      if (instance.retired || this.stopped) instance.kill();
      else this.idle.push(instance);
    } else if (instance.alive && failure) {
      // A fatal error: the process is on its way out; make sure.
      instance.kill();
    }
    this.events.onInvoke({
      functionName: this.spec.name,
      requestId,
      pid: instance.pid,
      startedAt,
      durationMs: result?.durationMs ?? (failure instanceof LambdaFunctionError ? failure.durationMs : undefined),
      coldStart: cold,
      ...(cold && instance.initMs !== undefined ? { initDurationMs: instance.initMs } : {}),
      queuedMs: startedAt - pending.enqueuedAt,
      ...(failure ? { errorType: failure.name } : {}),
    });
    if (failure) pending.reject(failure);
    else pending.resolve(result?.payload ?? null);
    this.pump();
    if (this.busyCount === 0 && this.queue.length === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Kills idle instances unused for longer than the warm time. */
  reap(now = Date.now()): void {
    for (const instance of [...this.idle]) {
      if (now - instance.lastUsedAt > this.warmMs) {
        this.idle.splice(this.idle.indexOf(instance), 1);
        instance.retired = true;
        instance.kill();
      }
    }
  }

  /**
   * A new configuration (as UpdateFunctionConfiguration): idle instances are retired now, busy ones once their
   * event is done; the next events get cold starts with it.
   */
  update(spec: Partial<Pick<FunctionSpec, 'env' | 'timeoutSeconds'>>): void {
    this.spec = { ...this.spec, ...spec };
    for (const instance of this.all) {
      instance.retired = true;
      if (instance.state === 'idle') instance.kill();
    }
    this.idle.length = 0;
  }

  stats(): FunctionStats {
    return {
      ...this.counters,
      instances: this.all.size,
      busy: this.busyCount,
      queued: this.queue.length,
    };
  }

  instances(): LambdaInstance[] {
    return [...this.all];
  }

  /** Resolves when no event is running or waiting (or after `timeoutMs`). */
  async drain(timeoutMs: number): Promise<void> {
    if (this.busyCount === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Refuses new events, fails those still queued, and kills every instance. */
  stop(): void {
    this.stopped = true;
    for (const pending of this.queue.splice(0)) {
      pending.reject(
        new LambdaFunctionError({ errorType: 'Lambda.ServiceException', errorMessage: 'The local stack stopped' }),
      );
    }
    for (const instance of this.all) {
      instance.retired = true;
      instance.kill();
    }
    this.idle.length = 0;
  }

  /** Resolves once every instance process has exited. */
  async exited(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.all.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
