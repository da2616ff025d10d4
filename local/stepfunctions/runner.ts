import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import { type PreparedDefinition, scaledRetryDefinition } from './definition';
import type { ExecutionRecord, ExecutionStore } from './executions';
import { recordEngineEvent } from './history';
import type { JsonValue } from './json';
import { jsonText } from './json';
import { StateContextTracker } from './state-context';
import { createTaskHandler, type TaskHandler } from './tasks';
import type { TaskTokenRegistry } from './tokens';

/** A state machine the endpoint serves. */
export interface LocalStateMachine {
  readonly name: string;
  readonly arn: string;
  readonly roleArn: string;
  readonly prepared: PreparedDefinition;
  /** Built once: the constructor validates the definition (asl-validator). */
  readonly engine: StateMachine;
}

/**
 * Builds the engine's state machine; throws when asl-validator refuses the definition. With a `retryIntervalScale`
 * other than 1 the engine runs the definition with scaled retries (see {@link scaledRetryDefinition}).
 */
export function buildLocalStateMachine(
  name: string,
  arn: string,
  roleArn: string,
  prepared: PreparedDefinition,
  retryIntervalScale = 1,
): LocalStateMachine {
  // ARNs are not checked: resolved templates name local functions. Paths are, as AWS does at CreateStateMachine.
  let engine = new StateMachine(prepared.engineDefinition, {
    validationOptions: { checkArn: false, checkPaths: true },
  });
  if (retryIntervalScale !== 1) {
    engine = new StateMachine(scaledRetryDefinition(prepared, retryIntervalScale), {
      validationOptions: { noValidate: true },
    });
  }
  return { name, arn, roleArn, prepared, engine };
}

/** Settings of an {@link ExecutionRunner}. */
export interface ExecutionRunnerOptions {
  readonly store: ExecutionStore;
  readonly tokens: TaskTokenRegistry;
  readonly invokeFunction: (functionArn: string, payload: unknown) => Promise<unknown>;
  readonly region: string;
  readonly log: (line: string) => void;
}

interface RunningExecution {
  /** Ends the engine run (the engine then reports ExecutionAborted). */
  readonly abortEngine: () => void;
  /** Settles the task handlers still pending (engine branches it abandoned, stopped or ended executions). */
  readonly tasks: AbortController;
  /** Resolves once the record is final. */
  readonly finished: Promise<void>;
}

/** Runs executions on aws-local-stepfunctions and keeps their records up to date. */
export class ExecutionRunner {
  private readonly running = new Map<string, RunningExecution>();
  /** Unique per endpoint, so it cannot be met in real data. */
  private readonly tokenPlaceholder = `$$.Task.Token:${randomUUID()}`;

  constructor(private readonly options: ExecutionRunnerOptions) {}

  /** Starts an execution whose record is new and RUNNING. */
  start(machine: LocalStateMachine, record: ExecutionRecord, input: JsonValue): void {
    const { store, tokens, invokeFunction, region, log } = this.options;
    store.add(record);
    const tasks = new AbortController();
    const stateContext = new StateContextTracker();
    const runtime = {
      stateContext,
      record,
      signal: tasks.signal,
      tokens,
      invokeFunction,
      region,
      tokenPlaceholder: this.tokenPlaceholder,
      log,
    };
    const handlers: Record<string, TaskHandler> = {};
    for (const plan of machine.prepared.tasks.values()) handlers[plan.name] = createTaskHandler(plan, runtime);

    // The engine may call task handlers synchronously inside run(): everything they use exists by now.
    const run = machine.engine.run(input, {
      overrides: { taskResourceLocalHandlers: handlers },
      context: {
        Execution: { Id: record.executionArn, Name: record.name, RoleArn: machine.roleArn },
        StateMachine: { Id: machine.arn, Name: machine.name },
        State: stateContext.engineContext,
        Task: { Token: this.tokenPlaceholder },
      },
    });
    log(`execution ${record.name} started on ${machine.name}`);

    const history = (async () => {
      for await (const event of run.eventLogs) {
        stateContext.observe(event);
        recordEngineEvent(record, event, machine.roleArn);
      }
    })();

    const finished = (async () => {
      let outcome: Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause'>;
      try {
        outcome = { status: 'SUCCEEDED', output: jsonText(await run.result) };
      } catch (thrown) {
        outcome = failureOutcome(thrown);
      }
      // Every ending closes the engine's event log, so this ends too; the record is final only with its history.
      await history.catch((error: unknown) => log(`execution ${record.name}: history failed: ${String(error)}`));
      tasks.abort();
      tokens.closeExecution(record.executionArn);
      this.running.delete(record.executionArn);
      if (record.status === 'RUNNING') {
        Object.assign(record, outcome, { stopDate: new Date() });
      }
      const elapsedMs = (record.stopDate ?? new Date()).getTime() - record.startDate.getTime();
      const reason = [record.error, record.cause].filter(Boolean).join(': ');
      log(`execution ${record.name} ${record.status} after ${elapsedMs} ms${reason ? `: ${reason}` : ''}`);
    })();

    this.running.set(record.executionArn, { abortEngine: run.abort, tasks, finished });
  }

  /** Stops a RUNNING execution (StopExecution): ABORTED at once, the engine run and its pending tasks ended. */
  stop(record: ExecutionRecord, error?: string, cause?: string): void {
    const running = this.running.get(record.executionArn);
    if (record.status !== 'RUNNING' || !running) return;
    record.status = 'ABORTED';
    record.stopDate = new Date();
    if (error !== undefined) record.error = error;
    if (cause !== undefined) record.cause = cause;
    running.abortEngine();
    running.tasks.abort();
  }

  /** Stops every running execution and waits until their records are final. */
  async stopAll(cause: string): Promise<void> {
    const pending = [...this.running.entries()];
    for (const [executionArn] of pending) {
      const record = this.options.store.get(executionArn);
      if (record) this.stop(record, undefined, cause);
    }
    await Promise.all(pending.map(([, running]) => running.finished));
  }
}

function failureOutcome(thrown: unknown): Pick<ExecutionRecord, 'status' | 'error' | 'cause'> {
  if (thrown instanceof ExecutionTimeoutError) {
    return {
      status: 'TIMED_OUT',
      error: 'States.Timeout',
      cause: 'The execution ran longer than the state machine TimeoutSeconds',
    };
  }
  if (thrown instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  const failure = thrown instanceof ExecutionError && thrown.cause instanceof Error ? thrown.cause : thrown;
  if (failure instanceof Error) return { status: 'FAILED', error: failure.name, cause: failure.message };
  return { status: 'FAILED', error: 'States.Runtime', cause: String(failure) };
}
