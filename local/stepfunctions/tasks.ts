import { randomUUID } from 'node:crypto';
import {
  ENGINE_DEFAULT_TASK_TIMEOUT_SECONDS,
  ENGINE_MAX_TIMEOUT_SECONDS,
  type TaskStatePlan,
  type WrappedTaskInput,
} from './definition';
import { appendHistoryEvent, type ExecutionRecord } from './executions';
import { isJsonObject, type JsonObject, type JsonValue, jsonText, toJsonValue } from './json';
import type { StateContextTracker } from './state-context';
import type { TaskTokenRegistry } from './tokens';

/** What task handlers of one execution share. */
export interface TaskRuntime {
  readonly record: ExecutionRecord;
  /** Aborted when the execution ends or is stopped: pending attempts then settle, so no engine timer is left. */
  readonly signal: AbortSignal;
  readonly tokens: TaskTokenRegistry;
  readonly invokeFunction: (functionArn: string, payload: unknown) => Promise<unknown>;
  readonly region: string;
  /** What `$$.Task.Token` resolves to in the engine; replaced by a real token in each callback attempt. */
  readonly tokenPlaceholder: string;
  /** Fills in `$$.State` for the attempt. */
  readonly stateContext: StateContextTracker;
  readonly log: (line: string) => void;
}

/** A local handler as aws-local-stepfunctions' `taskResourceLocalHandlers` takes it. */
export type TaskHandler = (input: JsonValue) => Promise<JsonValue>;

/**
 * An error the engine matches against Retry/Catch `ErrorEquals` by its `name` (exact string, plus States.ALL and
 * States.TaskFailed); the Catch output's Cause is its `message`.
 */
export function stateError(error: string, cause: string): Error {
  const failure = new Error(cause);
  failure.name = error;
  return failure;
}

/** An error no Retry or Catch applies to: the engine reads `isRetryable`/`isCatchable` (as on States.Runtime). */
function terminalError(error: string, cause: string): Error {
  return Object.assign(stateError(error, cause), { isRetryable: false, isCatchable: false });
}

/**
 * How a Lambda failure reads in Step Functions: the error is the thrown error's name (Lambda's errorType). Duck-typed:
 * under jest, errors made by Node itself come from another realm and fail `instanceof Error`.
 */
function lambdaFailure(thrown: unknown): { error: string; cause: string } {
  if (typeof thrown === 'object' && thrown !== null && 'message' in thrown) {
    const { name, message } = thrown as { name?: unknown; message: unknown };
    return { error: typeof name === 'string' && name ? name : 'Error', cause: String(message) };
  }
  return { error: 'Error', cause: String(thrown) };
}

/** What `arn:aws:states:::lambda:invoke` answers: Lambda's Invoke response around the function's result. */
export function lambdaInvokeResponse(payload: JsonValue): JsonObject {
  const requestId = randomUUID();
  const headers = {
    'Content-Type': 'application/json',
    'X-Amz-Executed-Version': '$LATEST',
    'x-amzn-RequestId': requestId,
  };
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
      HttpHeaders: headers,
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: 200,
  };
}

function replaceToken(value: JsonValue, placeholder: string, token: string): JsonValue {
  if (typeof value === 'string') return value.includes(placeholder) ? value.split(placeholder).join(token) : value;
  if (Array.isArray(value)) return value.map((item) => replaceToken(item, placeholder, token));
  if (isJsonObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replaceToken(item, placeholder, token)]),
    );
  }
  return value;
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

interface AttemptSettings {
  readonly parameters: JsonValue;
  /** The timeout the engine arms, seconds; `declared` says whether the definition set one. */
  readonly timeoutSeconds: number;
  readonly declared: boolean;
  readonly heartbeatSeconds?: number;
}

/** Reads the effective input, mirroring how the engine computes the task timeout (TaskStateAction.getTimeoutMs). */
function attemptSettings(plan: TaskStatePlan, input: JsonValue): AttemptSettings | Error {
  if (!plan.wrapped) {
    return {
      parameters: input,
      timeoutSeconds: plan.timeoutSeconds ?? ENGINE_DEFAULT_TASK_TIMEOUT_SECONDS,
      declared: plan.timeoutSeconds !== undefined,
      ...(plan.heartbeatSeconds !== undefined ? { heartbeatSeconds: plan.heartbeatSeconds } : {}),
    };
  }
  const wrapped = (isJsonObject(input) ? input : {}) as unknown as WrappedTaskInput;
  let timeoutSeconds = plan.timeoutSeconds;
  if (timeoutSeconds === undefined && 'timeoutSeconds' in wrapped) {
    timeoutSeconds = positiveInteger(wrapped.timeoutSeconds);
    // The engine fails the state with States.Runtime right after calling the handler.
    if (timeoutSeconds === undefined)
      return terminalError('States.Runtime', 'TimeoutSecondsPath is not a positive integer');
  }
  let heartbeatSeconds = plan.heartbeatSeconds;
  if (heartbeatSeconds === undefined && 'heartbeatSeconds' in wrapped) {
    heartbeatSeconds = positiveInteger(wrapped.heartbeatSeconds);
    if (heartbeatSeconds === undefined) {
      return terminalError('States.Runtime', 'HeartbeatSecondsPath is not a positive integer');
    }
  }
  return {
    parameters: wrapped.parameters ?? null,
    timeoutSeconds: timeoutSeconds ?? ENGINE_DEFAULT_TASK_TIMEOUT_SECONDS,
    declared: timeoutSeconds !== undefined,
    ...(heartbeatSeconds !== undefined ? { heartbeatSeconds } : {}),
  };
}

/**
 * The local handler of one Task state for one execution. Each call is one attempt (retries call it again) and
 * records the integration's history events. The engine races the returned promise with its own TimeoutSeconds
 * timer; the handler arms a twin timer first, so that a callback token is dead (TaskTimedOut) by the time the
 * engine fails the state with States.Timeout.
 */
export function createTaskHandler(plan: TaskStatePlan, runtime: TaskRuntime): TaskHandler {
  const { record, signal, tokens, log } = runtime;
  const resourceType = 'lambda';
  const resource = plan.kind === 'lambda-callback' ? 'invoke.waitForTaskToken' : 'invoke';
  const timedOutType = plan.kind === 'lambda-function' ? 'LambdaFunctionTimedOut' : 'TaskTimedOut';
  const failedType = plan.kind === 'lambda-function' ? 'LambdaFunctionFailed' : 'TaskFailed';
  // Task events follow the execution's life: none once it is stopped or ended.
  const append = (type: string, details?: Record<string, unknown>): void => {
    if (record.status === 'RUNNING') appendHistoryEvent(record, type, details);
  };
  const integration = (details: Record<string, unknown> = {}) =>
    plan.kind === 'lambda-function' ? details : { resourceType, resource, ...details };

  return (input) => {
    const settings = attemptSettings(plan, input);
    let promise: Promise<JsonValue>;
    if (settings instanceof Error) {
      promise = Promise.reject(settings);
    } else {
      if (settings.timeoutSeconds > ENGINE_MAX_TIMEOUT_SECONDS) {
        log(
          `task ${plan.name} in ${record.name}: timeout ${settings.timeoutSeconds} s is above ${ENGINE_MAX_TIMEOUT_SECONDS} s; ` +
            'aws-local-stepfunctions fires it at once',
        );
      }
      promise = runAttempt(settings);
    }
    // The engine does not await the promise when it fails the state first (a TimeoutSecondsPath it rejects).
    promise.catch(() => undefined);
    return promise;
  };

  function runAttempt(initial: AttemptSettings): Promise<JsonValue> {
    let settings = initial;
    return new Promise<JsonValue>((resolve, reject) => {
      let open = true;
      let token: string | undefined;
      let heartbeatTimer: NodeJS.Timeout | undefined;

      const close = (): void => {
        open = false;
        clearTimeout(timeoutTimer);
        clearTimeout(heartbeatTimer);
        signal.removeEventListener('abort', onAbort);
      };
      const succeed = (output: JsonValue, type: string, details: Record<string, unknown>): void => {
        if (!open) return;
        close();
        if (token) tokens.settle(token, 'succeeded');
        append(type, details);
        resolve(output);
      };
      const fail = (error: string, cause: string): void => {
        if (!open) return;
        close();
        if (token) tokens.settle(token, 'failed');
        append(failedType, integration({ error, cause }));
        log(`task ${plan.name} failed in ${record.name}: ${error}: ${cause}`);
        reject(stateError(error, cause));
      };
      const timeOut = (error: 'States.Timeout' | 'States.HeartbeatTimeout', cause: string): void => {
        close();
        if (token) tokens.settle(token, 'timed-out');
        append(timedOutType, integration({ error, cause }));
        log(`task ${plan.name} timed out in ${record.name}: ${error}`);
      };
      const onAbort = (): void => {
        if (!open) return;
        close();
        if (token) tokens.settle(token, 'closed');
        reject(terminalError('States.Aborted', `Execution ${record.name} ended`));
      };

      // Armed before the engine arms its own timer with the same delay (right after this handler returns): Node runs
      // equal timers in the order they were set, so the token is dead before the engine fails the state.
      const timeoutTimer = setTimeout(() => {
        if (!open) return;
        timeOut('States.Timeout', `Task ${plan.name} ran longer than ${settings.timeoutSeconds} s`);
        // The engine's timer, armed a moment after this one with the same delay, rejects with its own
        // StatesTimeoutError (which States.TaskFailed does not match; the engine tells by class, not by name). It can
        // fall into the next turn of the event loop (timers have millisecond grain), so this fallback waits a second
        // rather than a turn: settling first with a plain Error named States.Timeout would be retried as a task
        // failure, re-running the wait, which Step Functions never does.
        setTimeout(() => reject(stateError('States.Timeout', 'States.Timeout')), 1000).unref();
      }, settings.timeoutSeconds * 1000);

      const armHeartbeat = (): void => {
        if (settings.heartbeatSeconds === undefined || !open) return;
        clearTimeout(heartbeatTimer);
        heartbeatTimer = setTimeout(() => {
          if (!open) return;
          const cause = `No heartbeat for ${settings.heartbeatSeconds} s`;
          timeOut('States.HeartbeatTimeout', cause);
          reject(stateError('States.HeartbeatTimeout', cause));
        }, settings.heartbeatSeconds * 1000);
      };

      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });

      const invoke = async (functionArn: string, payload: JsonValue): Promise<JsonValue> =>
        toJsonValue(await runtime.invokeFunction(functionArn, payload));

      const start = async (): Promise<void> => {
        // The engine calls the handler synchronously after queueing StateEntered, and its event log is read
        // asynchronously: yield once so the history has TaskStateEntered before TaskScheduled.
        await new Promise<void>((resume) => setImmediate(resume));
        if (!open) return;
        if (plan.readsStateContext) {
          try {
            settings = { ...settings, parameters: runtime.stateContext.fill(settings.parameters, plan.name) };
          } catch (thrown) {
            close();
            reject(terminalError('States.Runtime', (thrown as Error).message));
            return;
          }
        }
        const timeoutInSeconds = settings.declared ? { timeoutInSeconds: settings.timeoutSeconds } : {};

        if (plan.kind === 'lambda-function') {
          append('LambdaFunctionScheduled', {
            resource: plan.resource,
            input: jsonText(settings.parameters),
            inputDetails: { truncated: false },
            ...timeoutInSeconds,
          });
          append('LambdaFunctionStarted');
          const result = await invoke(plan.resource, settings.parameters);
          succeed(result, 'LambdaFunctionSucceeded', { output: jsonText(result), outputDetails: { truncated: false } });
          return;
        }

        const parameters = isJsonObject(settings.parameters) ? settings.parameters : {};
        const functionName = parameters.FunctionName;
        if (typeof functionName !== 'string') {
          close();
          reject(terminalError('States.Runtime', `Task ${plan.name}: Parameters.FunctionName must be a string`));
          return;
        }
        const scheduled = {
          region: runtime.region,
          ...timeoutInSeconds,
          ...(settings.heartbeatSeconds !== undefined ? { heartbeatInSeconds: settings.heartbeatSeconds } : {}),
        };

        if (plan.kind === 'lambda-invoke') {
          append('TaskScheduled', integration({ ...scheduled, parameters: jsonText(parameters) }));
          append('TaskStarted', integration());
          const response = lambdaInvokeResponse(await invoke(functionName, parameters.Payload ?? {}));
          succeed(
            response,
            'TaskSucceeded',
            integration({ output: jsonText(response), outputDetails: { truncated: false } }),
          );
          return;
        }

        // Registered before the Lambda runs: the function may answer its own token before it returns.
        token = tokens.issue(record.executionArn, plan.name, {
          succeed: (output) =>
            succeed(
              output,
              'TaskSucceeded',
              integration({ output: jsonText(output), outputDetails: { truncated: false } }),
            ),
          fail,
          heartbeat: armHeartbeat,
        });
        const withToken = replaceToken(parameters, runtime.tokenPlaceholder, token) as JsonObject;
        append('TaskScheduled', integration({ ...scheduled, parameters: jsonText(withToken) }));
        append('TaskStarted', integration());
        armHeartbeat();
        const response = lambdaInvokeResponse(await invoke(functionName, withToken.Payload ?? {}));
        if (open)
          append('TaskSubmitted', integration({ output: jsonText(response), outputDetails: { truncated: false } }));
      };

      start().catch((thrown: unknown) => {
        const { error, cause } = lambdaFailure(thrown);
        fail(error, cause);
      });
    });
  }
}
