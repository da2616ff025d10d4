import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { isJsonObject, type JsonObject, type JsonValue } from './json';

/** aws-local-stepfunctions' timeout for a Task state without TimeoutSeconds/TimeoutSecondsPath (AWS has none). */
export const ENGINE_DEFAULT_TASK_TIMEOUT_SECONDS = 60;

/**
 * Longest timeout the engine can arm: it passes seconds × 1000 to setTimeout, which fires after 1 ms when the delay
 * does not fit a signed 32-bit integer (2,147,483,647 ms).
 */
export const ENGINE_MAX_TIMEOUT_SECONDS = 2_147_483;

/** The context object path aws-local-stepfunctions lacks; the endpoint fills it in per task attempt. */
export const STATE_CONTEXT_PATH = '$$.State';

/** The AWS Lambda integrations this endpoint emulates. */
export type TaskKind =
  /** `arn:aws:states:::lambda:invoke`: Parameters hold FunctionName and Payload, the result is Lambda's response. */
  | 'lambda-invoke'
  /** `arn:aws:states:::lambda:invoke.waitForTaskToken`: the result is what SendTaskSuccess gives. */
  | 'lambda-callback'
  /** A Lambda function ARN as Resource: the effective input is the payload, the result is the function's. */
  | 'lambda-function';

/** What the endpoint needs to know about one Task state of a definition. */
export interface TaskStatePlan {
  readonly name: string;
  readonly kind: TaskKind;
  readonly resource: string;
  /**
   * Whether the state's Parameters read `$$.State` (Name, EnteredTime, RetryCount), which aws-local-stepfunctions'
   * context object lacks: each attempt fills it in (see state-context.ts).
   */
  readonly readsStateContext: boolean;
  /** TimeoutSeconds when static; undefined when dynamic (TimeoutSecondsPath) or absent. */
  readonly timeoutSeconds?: number;
  /** HeartbeatSeconds when static. */
  readonly heartbeatSeconds?: number;
  /**
   * The engine's copy of this state has its Parameters wrapped as {@link WrappedTaskInput}, so that
   * TimeoutSecondsPath/HeartbeatSecondsPath are read from the state input rather than from the effective input.
   */
  readonly wrapped: boolean;
}

/**
 * The effective input of a wrapped Task state. aws-local-stepfunctions resolves TimeoutSecondsPath against the
 * effective input (after Parameters), AWS against the state input: with `Payload: { token.$, ... }` around the data,
 * `$.cadence.pollIntervalSeconds` would not resolve. Moving the paths into Parameters has the engine resolve them
 * against the state input (after InputPath, as Parameters are), and the engine's TimeoutSecondsPath then points here.
 */
export interface WrappedTaskInput {
  readonly parameters: JsonValue;
  readonly timeoutSeconds?: JsonValue;
  readonly heartbeatSeconds?: JsonValue;
}

/** A definition checked for what the endpoint emulates, and the engine's copy of it. */
export interface PreparedDefinition {
  /** The definition given to aws-local-stepfunctions (Task states rewritten, see {@link WrappedTaskInput}). */
  readonly engineDefinition: StateMachineDefinition;
  /** Every Task state, at any depth (Map and Parallel too); ASL state names are unique in a whole definition. */
  readonly tasks: ReadonlyMap<string, TaskStatePlan>;
  /** Differences from AWS this definition will meet at run time, one line each. */
  readonly warnings: readonly string[];
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const LAMBDA_FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[^:]+:[^:]+:function:[^:]+(:[^:]+)?$/;

function taskKind(resource: string): TaskKind | undefined {
  if (resource === LAMBDA_INVOKE) return 'lambda-invoke';
  if (resource === LAMBDA_CALLBACK) return 'lambda-callback';
  if (LAMBDA_FUNCTION_ARN.test(resource)) return 'lambda-function';
  return undefined;
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * Checks a plain (resolved) ASL definition for what this endpoint emulates and rewrites the engine's copy.
 * Throws on what would silently run differently from AWS: unsupported resources or query language, duplicate
 * state names, and timeouts the engine would fire at once.
 */
export function prepareDefinition(machineName: string, definition: object): PreparedDefinition {
  // A JSON round trip, not structuredClone: the engine recurses into Parameters only for objects whose prototype is
  // its realm's Object.prototype, and structuredClone builds them in Node's main realm (jest runs tests in another).
  const root = JSON.parse(JSON.stringify(definition)) as JsonObject;
  const tasks = new Map<string, TaskStatePlan>();
  const warnings: string[] = [];
  const seen = new Set<string>();
  const fail = (message: string): never => {
    throw new Error(`State machine ${machineName}: ${message}`);
  };

  if (root.QueryLanguage === 'JSONata') fail('JSONata is not supported by aws-local-stepfunctions');
  const executionTimeout = root.TimeoutSeconds;
  if (typeof executionTimeout === 'number' && executionTimeout > ENGINE_MAX_TIMEOUT_SECONDS) {
    fail(
      `TimeoutSeconds ${executionTimeout} is above ${ENGINE_MAX_TIMEOUT_SECONDS} s (24.8 days): aws-local-stepfunctions ` +
        'arms it with setTimeout, which then fires at once and times every execution out. Give the local stack a ' +
        'shorter execution timeout.',
    );
  }

  const visit = (scope: JsonObject, nested: boolean): void => {
    const states = scope.States;
    if (!isJsonObject(states)) fail('a States field is missing or not an object');
    for (const [name, state] of Object.entries(states as JsonObject)) {
      if (!isJsonObject(state)) fail(`state ${name} is not an object`);
      const s = state as JsonObject;
      // Local handlers and retry overrides are keyed by state name only.
      if (seen.has(name)) fail(`state name ${name} is used twice (ASL wants names unique in the whole machine)`);
      seen.add(name);
      if (s.QueryLanguage === 'JSONata') fail(`state ${name} uses JSONata, which aws-local-stepfunctions lacks`);
      if ('Assign' in s) fail(`state ${name} assigns variables, which aws-local-stepfunctions lacks`);
      const readsStateContext = JSON.stringify(s).includes(STATE_CONTEXT_PATH);
      if (readsStateContext && (s.Type !== 'Task' || nested)) {
        fail(
          `state ${name} reads ${STATE_CONTEXT_PATH}, which the local endpoint fills in for top-level Task states only ` +
            '(aws-local-stepfunctions has no $$.State; each task attempt is given it)',
        );
      }
      if (s.Type === 'Map') {
        const processor = s.ItemProcessor ?? s.Iterator;
        if (isJsonObject(processor)) visit(processor, true);
      } else if (s.Type === 'Parallel') {
        for (const branch of Array.isArray(s.Branches) ? s.Branches : []) if (isJsonObject(branch)) visit(branch, true);
      } else if (s.Type === 'Task') {
        tasks.set(name, prepareTask(name, s, readsStateContext, warnings, fail));
      }
    }
  };
  visit(root, false);

  return {
    engineDefinition: root as unknown as StateMachineDefinition,
    tasks,
    warnings,
  };
}

/** Plans one Task state and rewrites it in place for the engine. */
function prepareTask(
  name: string,
  state: JsonObject,
  readsStateContext: boolean,
  warnings: string[],
  fail: (message: string) => never,
): TaskStatePlan {
  const resource = typeof state.Resource === 'string' ? state.Resource : '';
  const kind = taskKind(resource);
  if (!kind) {
    fail(
      `Task ${name}: resource ${resource || '(none)'} is not emulated locally (only ${LAMBDA_INVOKE}, ` +
        `${LAMBDA_CALLBACK} and Lambda function ARNs are)`,
    );
  }
  const timeoutSeconds = positiveInteger(state.TimeoutSeconds);
  const heartbeatSeconds = positiveInteger(state.HeartbeatSeconds);
  const timeoutPath = typeof state.TimeoutSecondsPath === 'string' ? state.TimeoutSecondsPath : undefined;
  const heartbeatPath = typeof state.HeartbeatSecondsPath === 'string' ? state.HeartbeatSecondsPath : undefined;

  if (timeoutSeconds !== undefined && timeoutSeconds > ENGINE_MAX_TIMEOUT_SECONDS) {
    fail(
      `Task ${name}: TimeoutSeconds ${timeoutSeconds} is above ${ENGINE_MAX_TIMEOUT_SECONDS} s; ` +
        'aws-local-stepfunctions would time the task out at once',
    );
  }
  if (timeoutSeconds === undefined && timeoutPath === undefined) {
    warnings.push(
      `Task ${name} has no TimeoutSeconds: aws-local-stepfunctions fails it with States.Timeout after ` +
        `${ENGINE_DEFAULT_TASK_TIMEOUT_SECONDS} s (AWS lets it run up to the execution timeout)`,
    );
  }
  if ((heartbeatSeconds !== undefined || heartbeatPath !== undefined) && kind !== 'lambda-callback') {
    warnings.push(`Task ${name}: heartbeats are emulated for ${LAMBDA_CALLBACK} tasks only; HeartbeatSeconds ignored`);
  }

  const wrapped = timeoutPath !== undefined || (heartbeatPath !== undefined && kind === 'lambda-callback');
  if (wrapped) {
    const wrapper: JsonObject = {};
    if ('Parameters' in state) wrapper.parameters = state.Parameters ?? null;
    else wrapper['parameters.$'] = '$';
    if (timeoutPath !== undefined) {
      wrapper['timeoutSeconds.$'] = timeoutPath;
      state.TimeoutSecondsPath = '$.timeoutSeconds';
    }
    if (heartbeatPath !== undefined && kind === 'lambda-callback') wrapper['heartbeatSeconds.$'] = heartbeatPath;
    state.Parameters = wrapper;
  }
  // The engine ignores heartbeats; the endpoint runs them (and the path is resolved through the wrapper).
  delete state.HeartbeatSeconds;
  delete state.HeartbeatSecondsPath;

  return {
    name,
    kind: kind as TaskKind,
    resource,
    readsStateContext,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(heartbeatSeconds !== undefined && kind === 'lambda-callback' ? { heartbeatSeconds } : {}),
    wrapped,
  };
}

/**
 * The engine's definition with every retrier's IntervalSeconds and MaxDelaySeconds multiplied by `scale` (tests use
 * e.g. 0.01), so scaled retries keep their BackoffRate and JitterStrategy; the engine takes fractional seconds. The
 * result is not valid ASL (intervals must be whole seconds): build it with validation off, after the original passed.
 */
export function scaledRetryDefinition(prepared: PreparedDefinition, scale: number): StateMachineDefinition {
  const copy = JSON.parse(JSON.stringify(prepared.engineDefinition)) as JsonObject;
  const visit = (scope: JsonObject): void => {
    for (const state of Object.values(isJsonObject(scope.States) ? scope.States : {})) {
      if (!isJsonObject(state)) continue;
      for (const retrier of Array.isArray(state.Retry) ? state.Retry : []) {
        if (!isJsonObject(retrier)) continue;
        retrier.IntervalSeconds = (typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1) * scale;
        if (typeof retrier.MaxDelaySeconds === 'number') retrier.MaxDelaySeconds *= scale;
      }
      const processor = state.ItemProcessor ?? state.Iterator;
      if (isJsonObject(processor)) visit(processor);
      for (const branch of Array.isArray(state.Branches) ? state.Branches : []) if (isJsonObject(branch)) visit(branch);
    }
  };
  visit(copy);
  return copy as unknown as StateMachineDefinition;
}
