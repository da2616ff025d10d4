import type { CrashPointName } from '../../lambdas/shared/crash-points';
import {
  type ArmedCrashPoints,
  type FunctionLogLine,
  INIT_TIMEOUT_MS,
  type InjectedFault,
  type InstanceState,
} from './instance';
import { FunctionPool, type FunctionSpec, type FunctionStats, type InvokeRecord } from './pool';

export { type BundledAssembly, bundleCacheKey, bundledAssembly, DEFAULT_BUNDLE_CACHE_DIR } from './bundles';
export { type FunctionLogLine, INIT_TIMEOUT_MS, type LambdaErrorResponse, LambdaFunctionError } from './instance';
export type { FunctionStats, InvokeRecord } from './pool';

/**
 * How many instances of a function may run at once when its template sets no ReservedConcurrentExecutions. Four on
 * this project's 2-core machines: each cold start costs about half a second of CPU (the SDK and the bundle loaded,
 * source maps on), so more instances than that only add init work and memory while the cores are already busy;
 * four still overlap the functions' waits on DynamoDB, Twilio and SES.
 */
export const DEFAULT_LAMBDA_CONCURRENCY = 4;
/**
 * How long an idle instance stays warm before it is killed: five minutes, about the shortest idle lifetime seen
 * of Lambda's environments (AWS does not publish one; they are observed to last 5 to 15 minutes, and longer).
 */
export const DEFAULT_LAMBDA_WARM_SECONDS = 300;
/** How long stop() waits for running and queued events before it kills the instances. */
const DRAIN_MS = 10_000;

/** A function the runtime runs: its bundle, its settings and its resolved environment. */
export interface LocalFunction {
  /** The function's name; locally its logical id (what the template's Refs and ARNs resolve to). */
  readonly name: string;
  /** The bundle's directory, holding `index.mjs` (Lambda's /var/task). */
  readonly taskRoot: string;
  /** The Handler setting, e.g. `index.handler`. */
  readonly handler: string;
  /** The template's Environment.Variables, resolved, plus the local settings (endpoints, credentials…). */
  readonly environment: Record<string, string>;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** ReservedConcurrentExecutions, when the template sets it. */
  readonly reservedConcurrency?: number;
}

export interface LambdaRuntimeOptions {
  readonly functions: readonly LocalFunction[];
  readonly region: string;
  readonly accountId: string;
  /** Instances per function when the template reserves no concurrency. @default DEFAULT_LAMBDA_CONCURRENCY */
  readonly defaultConcurrency?: number;
  /** How long an idle instance stays warm. @default DEFAULT_LAMBDA_WARM_SECONDS */
  readonly warmSeconds?: number;
  /** Where the functions' output goes (one line each, prefixed with the function); runtime notices too. */
  readonly log?: (line: string) => void;
}

/** Makes the local Lambda runtime fail functions, as a bug, a crash or a hang would. */
export interface LambdaFaults {
  /**
   * The next `times` invocations of the function whose logical id contains `functionName` (e.g.
   * `SubmitPortInFunction`) throw an unexpected Error (named `Error`) before the handler runs.
   */
  throwNext(functionName: string, times: number): void;
  /** The next `times` invocations exit the instance mid-invoke (process.exit(1)): Runtime.ExitError. */
  crashNext(functionName: string, times: number): void;
  /** The next `times` invocations hang until the function's timeout kills the instance: Sandbox.Timedout. */
  timeOutNext(functionName: string, times: number): void;
  /** Errors thrown so far, by function logical id. */
  thrown(): Record<string, number>;
  /**
   * The next `times` invocations of the function that reach the crash point `point` (lambdas/shared/crash-points.ts)
   * die there: the instance is SIGKILLed while the handler waits at the point, so nothing after it runs, and the
   * invoke fails with Runtime.ExitError (API Gateway answers 502); the next event gets a cold start.
   */
  crashAt(functionName: string, point: CrashPointName, times: number): void;
  /** Instances crashed by crashNext or at a crash point (crashAt) so far, by function logical id. */
  crashed(): Record<string, number>;
  /** Invocations hung by timeOutNext so far, by function logical id. */
  timedOut(): Record<string, number>;
  /** SIGKILLs one instance, chosen at random among all functions' (busy or idle); undefined when none is alive. */
  killRandomInstance(): InstanceInfo | undefined;
  /** SIGKILLs every instance (of the function whose logical id contains `functionName`); answers how many. */
  killInstances(functionName?: string): number;
}

/** One live instance. */
export interface InstanceInfo {
  readonly functionName: string;
  readonly pid: number;
  readonly state: InstanceState;
  readonly startedAt: number;
  readonly lastUsedAt: number;
}

/** The local Lambda service: functions as child processes, as Lambda runs them. */
export interface LambdaRuntime {
  /** Invokes a function (RequestResponse): its result, or a rejection whose `name` is Lambda's errorType. */
  invoke(functionName: string, event: unknown): Promise<unknown>;
  readonly faults: LambdaFaults;
  /** Counters by function logical id. */
  stats(): Record<string, FunctionStats>;
  /** The live instances (for memory measurements and crash benchmarks). */
  instances(functionName?: string): InstanceInfo[];
  /** The environment a function's instances get (Lambda's own per-instance variables aside). */
  environment(functionName: string): Readonly<Record<string, string>>;
  /**
   * Changes variables of every function (or of one), as UpdateFunctionConfiguration would: idle instances are
   * retired at once, busy ones after their event; later events get cold starts with the new environment.
   */
  updateEnvironment(variables: Record<string, string>, functionName?: string): void;
  /** Every line a function prints (its JSON logs, EMF metric lines); answers the unsubscribe. */
  onLog(listener: (line: FunctionLogLine) => void): () => void;
  /** Every invocation done; answers the unsubscribe. */
  onInvoke(listener: (record: InvokeRecord) => void): () => void;
  /** Waits until no event runs or waits (at most `timeoutMs`). */
  drain(timeoutMs?: number): Promise<void>;
  /** Waits for running and queued events (10 s at most), then kills every instance. */
  stop(): Promise<void>;
}

/** The name shown in log prefixes: the logical id without CDK's hash suffix. */
function label(name: string): string {
  return name.replace(/[0-9A-F]{8}$/, '');
}

/**
 * What Lambda sets in every execution environment of a function, as far as it makes sense locally. Left out on
 * purpose: AWS_EXECUTION_ENV (lambdas/adapters/observability/tracer.ts turns X-Ray tracing on when it is set, and
 * there is no X-Ray daemon here; loading the X-Ray SDK would only cost time), _X_AMZN_TRACE_ID and the other
 * AWS_XRAY_* variables (same reason), AWS_LAMBDA_RUNTIME_API (no Runtime API: events come over IPC),
 * AWS_SESSION_TOKEN (the local credentials are long-term ones) and NODE_PATH (an ESM bundle does not read it).
 * AWS_LAMBDA_LOG_STREAM_NAME is set per instance (instance.ts). Added, as Lambda's Node.js 22 would not warn:
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED (the SDK's Node 20 notice, once per cold start, otherwise).
 */
export function lambdaSetEnvironment(fn: LocalFunction, region: string): Record<string, string> {
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    LAMBDA_TASK_ROOT: fn.taskRoot,
    _HANDLER: fn.handler,
    TZ: 'UTC',
    LANG: 'en_US.UTF-8',
    PATH: '/usr/local/bin:/usr/bin:/bin',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** Finds the one function whose name is, or contains, `functionName`. */
function pick(pools: ReadonlyMap<string, FunctionPool>, functionName: string): FunctionPool {
  const exact = pools.get(functionName);
  if (exact) return exact;
  const matching = [...pools.values()].filter((pool) => pool.name.includes(functionName));
  if (matching.length !== 1) throw new Error(`${matching.length} functions match ${functionName}: name exactly one`);
  return matching[0] as FunctionPool;
}

/** Starts the local Lambda service. Nothing runs until the first invoke: instances start on demand. */
export function startLambdaRuntime(options: LambdaRuntimeOptions): LambdaRuntime {
  const log = options.log ?? (() => undefined);
  const defaultConcurrency = options.defaultConcurrency ?? DEFAULT_LAMBDA_CONCURRENCY;
  if (!Number.isInteger(defaultConcurrency) || defaultConcurrency < 1) {
    throw new Error(`The Lambda concurrency must be a positive integer, got ${defaultConcurrency}`);
  }
  const warmMs = (options.warmSeconds ?? DEFAULT_LAMBDA_WARM_SECONDS) * 1000;
  const logListeners = new Set<(line: FunctionLogLine) => void>();
  const invokeListeners = new Set<(record: InvokeRecord) => void>();
  const events = {
    onLog: (line: FunctionLogLine) => {
      log(`[lambda ${label(line.functionName)}] ${line.line}`);
      for (const listener of logListeners) listener(line);
    },
    onInvoke: (record: InvokeRecord) => {
      for (const listener of invokeListeners) listener(record);
    },
    log,
  };

  const pools = new Map<string, FunctionPool>();
  for (const fn of options.functions) {
    const spec: FunctionSpec = {
      name: fn.name,
      taskRoot: fn.taskRoot,
      handler: fn.handler,
      env: { ...fn.environment, ...lambdaSetEnvironment(fn, options.region) },
      memoryMb: fn.memoryMb,
      invokedFunctionArn: `arn:aws:lambda:${options.region}:${options.accountId}:function:${fn.name}`,
      timeoutSeconds: fn.timeoutSeconds,
      maxConcurrency: fn.reservedConcurrency ?? defaultConcurrency,
    };
    pools.set(fn.name, new FunctionPool(spec, warmMs, events));
  }

  const reaper = setInterval(
    () => {
      for (const pool of pools.values()) pool.reap();
    },
    Math.max(50, Math.min(warmMs / 2, 10_000)),
  );
  reaper.unref();

  const armed = new Map<string, InjectedFault[]>();
  const injected: Record<InjectedFault, Record<string, number>> = { throw: {}, crash: {}, hang: {} };
  const arm = (kind: InjectedFault) => (functionName: string, times: number) => {
    const { name } = pick(pools, functionName);
    const list = (armed.get(name) ?? []).filter((fault) => fault !== kind);
    for (let i = 0; i < times; i += 1) list.push(kind);
    armed.set(name, list);
  };
  // crashAt: by function, the crash points armed and how many more invocations die at each.
  const armedPoints = new Map<string, Map<string, number>>();
  const crashPointsFor = (functionName: string): ArmedCrashPoints | undefined => {
    const points = armedPoints.get(functionName);
    const names = [...(points ?? [])].filter(([, left]) => left > 0).map(([point]) => point);
    if (!points || names.length === 0) return undefined;
    return {
      names,
      reached(point) {
        const left = points.get(point) ?? 0;
        if (left <= 0) return false; // another invocation took the last one meanwhile
        points.set(point, left - 1);
        injected.crash[functionName] = (injected.crash[functionName] ?? 0) + 1;
        log(`[lambda] ${label(functionName)}: dies at crash point ${point} (${left - 1} more armed)`);
        return true;
      },
    };
  };
  const instancesOf = (functionName?: string) =>
    (functionName === undefined ? [...pools.values()] : [pick(pools, functionName)]).flatMap((pool) =>
      pool.instances().filter((instance) => instance.alive),
    );

  const faults: LambdaFaults = {
    throwNext: arm('throw'),
    crashNext: arm('crash'),
    timeOutNext: arm('hang'),
    crashAt(functionName, point, times) {
      const { name } = pick(pools, functionName);
      const points = armedPoints.get(name) ?? new Map<string, number>();
      points.set(point, times);
      armedPoints.set(name, points);
    },
    thrown: () => ({ ...injected.throw }),
    crashed: () => ({ ...injected.crash }),
    timedOut: () => ({ ...injected.hang }),
    killRandomInstance() {
      const alive = instancesOf();
      const victim = alive[Math.floor(Math.random() * alive.length)];
      if (!victim) return undefined;
      const info = {
        functionName: victim.spec.name,
        pid: victim.pid,
        state: victim.state,
        startedAt: victim.startedAt,
        lastUsedAt: victim.lastUsedAt,
      };
      log(`[lambda] killing instance ${victim.pid} of ${victim.spec.name} (${victim.state})`);
      victim.kill();
      return info;
    },
    killInstances(functionName) {
      const victims = instancesOf(functionName);
      for (const victim of victims) victim.kill();
      return victims.length;
    },
  };

  let stopped = false;
  const drain = async (timeoutMs = DRAIN_MS) => {
    await Promise.all([...pools.values()].map((pool) => pool.drain(timeoutMs)));
  };

  return {
    invoke(functionName, event) {
      const pool = pools.get(functionName);
      if (!pool) {
        const error = new Error(`Function not found: ${functionName}`);
        error.name = 'ResourceNotFoundException';
        return Promise.reject(error);
      }
      const list = armed.get(functionName);
      const fault = list?.shift();
      if (fault) {
        injected[fault][functionName] = (injected[fault][functionName] ?? 0) + 1;
        log(`[lambda] ${label(functionName)}: injected ${fault} (${list?.length ?? 0} more armed)`);
      }
      return pool.invoke(event, fault, crashPointsFor(functionName));
    },
    faults,
    stats: () => Object.fromEntries([...pools].map(([name, pool]) => [name, pool.stats()])),
    instances: (functionName) =>
      instancesOf(functionName).map((instance) => ({
        functionName: instance.spec.name,
        pid: instance.pid,
        state: instance.state,
        startedAt: instance.startedAt,
        lastUsedAt: instance.lastUsedAt,
      })),
    environment: (functionName) => ({ ...pick(pools, functionName).environment }),
    updateEnvironment(variables, functionName) {
      const targets = functionName === undefined ? [...pools.values()] : [pick(pools, functionName)];
      for (const pool of targets) pool.update({ env: { ...pool.environment, ...variables } });
    },
    onLog(listener) {
      logListeners.add(listener);
      return () => logListeners.delete(listener);
    },
    onInvoke(listener) {
      invokeListeners.add(listener);
      return () => invokeListeners.delete(listener);
    },
    drain,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(reaper);
      await drain(DRAIN_MS);
      for (const pool of pools.values()) pool.stop();
      await Promise.all([...pools.values()].map((pool) => pool.exited(INIT_TIMEOUT_MS)));
    },
  };
}
