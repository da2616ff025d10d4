import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** The bootstrap each instance runs (plain JavaScript: no tsx, no jest in the child). */
const BOOTSTRAP = path.join(__dirname, 'bootstrap.mjs');

/** How long Lambda lets a function's init phase run. */
export const INIT_TIMEOUT_MS = 10_000;

/** What a function's instances are started with. */
export interface InstanceSpec {
  /** The function's name (locally its logical id). */
  readonly name: string;
  /** The bundle's directory (Lambda's /var/task): holds `index.mjs`. */
  readonly taskRoot: string;
  /** The Handler setting, `index.handler`. */
  readonly handler: string;
  /** The process's whole environment (see runtime.ts functionEnvironment). */
  readonly env: Record<string, string>;
  readonly memoryMb: number;
  readonly invokedFunctionArn: string;
}

/** A Lambda error as Lambda's Invoke reports it (`X-Amz-Function-Error: Unhandled`). */
export interface LambdaErrorResponse {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}

/**
 * A failed invoke. Its `name` is Lambda's errorType, which Step Functions matches Retry/Catch against and which
 * local/stepfunctions/tasks.ts reads (with `message`) from what invokeFunction rejects with.
 */
export class LambdaFunctionError extends Error {
  readonly errorType: string;
  readonly trace: readonly string[];
  /** How long the handler ran before it failed, when the instance said (not for a crash or a timeout). */
  readonly durationMs: number | undefined;
  constructor(response: LambdaErrorResponse, durationMs?: number) {
    super(response.errorMessage);
    this.name = response.errorType;
    this.errorType = response.errorType;
    this.trace = response.trace ?? [];
    this.durationMs = durationMs;
  }
}

/** What the runtime asks of an instance besides running the handler (LambdaFaults). */
export type InjectedFault = 'throw' | 'crash' | 'hang';

/**
 * The crash points (lambdas/shared/crash-points.ts) armed for one invoke (LambdaFaults.crashAt): the bootstrap
 * asks when the handler reaches one of them, and the instance is SIGKILLed there when `reached` says so.
 */
export interface ArmedCrashPoints {
  readonly names: readonly string[];
  /** Whether the instance dies at `point` (and counts it); false lets the handler go on. */
  readonly reached: (point: string) => boolean;
}

export type InstanceState = 'initializing' | 'idle' | 'busy' | 'dead';

/** One line a function printed. */
export interface FunctionLogLine {
  readonly functionName: string;
  readonly pid: number;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

/** What an instance tells its pool. */
export interface InstanceEvents {
  readonly onLog: (line: FunctionLogLine) => void;
  /** The process is gone (crash, timeout kill, retirement); called once. */
  readonly onExit: (instance: LambdaInstance, description: string) => void;
}

type ChildMessage =
  | { type: 'ready'; initMs: number }
  | { type: 'init-error'; error: LambdaErrorResponse }
  | { type: 'result'; id: number; result: string; durationMs: number }
  | { type: 'crash-point'; id: number; point: string }
  | { type: 'error'; id: number; error: LambdaErrorResponse; durationMs?: number; fatal?: boolean };

interface Running {
  readonly id: number;
  readonly requestId: string;
  readonly timeoutSeconds: number;
  readonly crashPoints: ArmedCrashPoints | undefined;
  readonly resolve: (value: InvokeResult) => void;
  readonly reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

/** A successful invoke: the handler's result (parsed JSON) and how long the handler ran. */
export interface InvokeResult {
  readonly payload: unknown;
  readonly durationMs: number;
}

/** How Lambda words an exit: Go's ProcessState text, `exit status 1` or `signal: killed`. */
function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGKILL') return 'signal: killed';
  if (signal === 'SIGTERM') return 'signal: terminated';
  if (signal === 'SIGABRT') return 'signal: aborted';
  if (signal) return `signal: ${signal.toLowerCase().replace(/^sig/, '')}`;
  return `exit status ${code ?? 0}`;
}

/** Lambda's log stream name: `YYYY/MM/DD/[$LATEST]<32 hex>`. */
function logStreamName(): string {
  return `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

/** Splits a stream into lines for `emit` (the last, unterminated one on end). */
function lines(stream: NodeJS.ReadableStream | null, emit: (line: string) => void): void {
  if (!stream) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      emit(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buffered) emit(buffered);
    buffered = '';
  });
}

/**
 * One execution environment of a function: a child process running bootstrap.mjs over the function's bundle, with
 * the function's environment only. It serves one event at a time; a timeout SIGKILLs it.
 */
export class LambdaInstance {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAt = Date.now();
  /** When it last finished an invoke (or was started). */
  lastUsedAt = Date.now();
  state: InstanceState = 'initializing';
  /** Set by the pool: not to be reused once its current invoke ends (its configuration changed). */
  retired = false;
  /** How long the init phase took, from the process's start to the handler loaded (Lambda's Init Duration). */
  initMs: number | undefined;
  /** What ended the process, once it has ended. */
  exit: string | undefined;
  private running: Running | undefined;
  private nextId = 1;
  private readonly readyPromise: Promise<void>;
  /** Whether the timeout killed it (not a crash). */
  killedForTimeout = false;

  constructor(
    readonly spec: InstanceSpec,
    private readonly events: InstanceEvents,
  ) {
    const memory = Math.max(64, spec.memoryMb);
    this.child = fork(BOOTSTRAP, [], {
      cwd: spec.taskRoot,
      // Nothing of the parent's command line (tsx's loaders under `npm start`, say): a plain node, whose heap is
      // bounded by the function's memory as Lambda's Node.js bootstrap bounds it.
      execArgv: [`--max-old-space-size=${Math.floor(memory * 0.9)}`],
      env: { ...spec.env, AWS_LAMBDA_LOG_STREAM_NAME: logStreamName() },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    if (this.child.pid === undefined) throw new Error(`Could not start an instance of ${spec.name}`);
    this.pid = this.child.pid;
    const log = (stream: 'stdout' | 'stderr') => (line: string) =>
      events.onLog({ functionName: spec.name, pid: this.pid, stream, line });
    lines(this.child.stdout, log('stdout'));
    lines(this.child.stderr, log('stderr'));

    this.readyPromise = new Promise<void>((resolve, reject) => {
      const initTimer = setTimeout(() => {
        reject(
          new LambdaFunctionError({
            errorType: 'Sandbox.Timedout',
            errorMessage: `Init timed out after ${(INIT_TIMEOUT_MS / 1000).toFixed(2)} seconds`,
          }),
        );
        this.kill();
      }, INIT_TIMEOUT_MS);
      this.child.on('message', (message: ChildMessage) => {
        if (message.type === 'ready') {
          clearTimeout(initTimer);
          // From the process's start, as Lambda's Init Duration counts the runtime's start too.
          this.initMs = Date.now() - this.startedAt;
          this.state = 'idle';
          resolve();
        } else if (message.type === 'init-error') {
          clearTimeout(initTimer);
          reject(new LambdaFunctionError(message.error));
        } else {
          this.onReply(message);
        }
      });
      this.child.once('exit', (code, signal) => {
        clearTimeout(initTimer);
        const description = exitText(code, signal);
        this.exit = description;
        const wasInitializing = this.state === 'initializing';
        this.state = 'dead';
        if (wasInitializing) {
          reject(
            new LambdaFunctionError({
              errorType: 'Runtime.ExitError',
              errorMessage: `Error: Runtime exited with error: ${description}`,
            }),
          );
        }
        const running = this.running;
        this.running = undefined;
        if (running) {
          clearTimeout(running.timer);
          running.reject(
            this.killedForTimeout
              ? timedOut(running)
              : new LambdaFunctionError({
                  errorType: 'Runtime.ExitError',
                  errorMessage: `RequestId: ${running.requestId} Error: Runtime exited with error: ${description}`,
                }),
          );
        }
        events.onExit(this, description);
      });
    });
    // Awaited by invoke(); an instance that fails its init and is never invoked must not leave an unhandled rejection.
    this.readyPromise.catch(() => undefined);
  }

  /** Resolves once the handler module is loaded (the init phase); rejects with the init error. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  get alive(): boolean {
    return this.state !== 'dead';
  }

  /**
   * Runs one event: resolves with the handler's result, rejects with a {@link LambdaFunctionError} (the handler's
   * error, Runtime.ExitError when the process dies, Sandbox.Timedout when the timeout kills it).
   * @param event already JSON text, as Lambda's Invoke receives it
   */
  async invoke(
    event: string,
    requestId: string,
    timeoutSeconds: number,
    fault?: InjectedFault,
    crashPoints?: ArmedCrashPoints,
  ): Promise<InvokeResult> {
    await this.readyPromise;
    if (this.state !== 'idle') throw new Error(`Instance ${this.pid} of ${this.spec.name} is ${this.state}`);
    this.state = 'busy';
    const id = this.nextId++;
    const deadlineMs = Date.now() + timeoutSeconds * 1000;
    return new Promise<InvokeResult>((resolve, reject) => {
      const running: Running = { id, requestId, timeoutSeconds, crashPoints, resolve, reject };
      this.running = running;
      running.timer = setTimeout(() => {
        if (this.running?.id !== id) return;
        // Lambda stops the environment: nothing of the invoke goes on.
        this.killedForTimeout = true;
        this.events.onLog({
          functionName: this.spec.name,
          pid: this.pid,
          stream: 'stdout',
          line: `${new Date().toISOString()} ${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
        });
        this.kill();
      }, deadlineMs - Date.now());
      const message = {
        type: 'invoke',
        id,
        requestId,
        event,
        deadlineMs,
        invokedFunctionArn: this.spec.invokedFunctionArn,
        ...(fault ? { fault } : {}),
        ...(crashPoints?.names.length ? { crashPoints: crashPoints.names } : {}),
      };
      // A channel closed meanwhile means the process is going: its exit fails the invoke (Runtime.ExitError).
      this.child.send(message, (error) => {
        if (error) this.kill();
      });
    });
  }

  private onReply(message: Extract<ChildMessage, { id: number }>): void {
    const running = this.running;
    if (!running || running.id !== message.id) return;
    if (message.type === 'crash-point') {
      // The handler waits at the point for the answer: killed there, nothing after it runs (Runtime.ExitError).
      if (running.crashPoints?.reached(message.point)) {
        this.events.onLog({
          functionName: this.spec.name,
          pid: this.pid,
          stream: 'stdout',
          line: `${new Date().toISOString()} ${running.requestId} killed at crash point ${message.point} (fault)`,
        });
        this.kill();
      } else {
        this.child.send({ type: 'crash-point-passed', id: message.id }, (error) => {
          if (error) this.kill();
        });
      }
      return;
    }
    clearTimeout(running.timer);
    this.running = undefined;
    this.lastUsedAt = Date.now();
    if (message.type === 'result') {
      this.state = 'idle';
      running.resolve({ payload: JSON.parse(message.result) as unknown, durationMs: message.durationMs });
      return;
    }
    // A fatal error (uncaught exception, unhandled rejection) is followed by the process's exit.
    if (!message.fatal) this.state = 'idle';
    running.reject(new LambdaFunctionError(message.error, message.durationMs));
  }

  /** Ends the process at once (SIGKILL). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** What Invoke answers for a timed-out event (the function's log gets `<time> <requestId> Task timed out…`). */
function timedOut(running: Running): LambdaFunctionError {
  return new LambdaFunctionError({
    errorType: 'Sandbox.Timedout',
    errorMessage: `RequestId: ${running.requestId} Error: Task timed out after ${running.timeoutSeconds.toFixed(2)} seconds`,
  });
}
