import { randomUUID } from 'node:crypto';
import {
  EXECUTION_STATUSES,
  type ExecutionRecord,
  type ExecutionStatus,
  type ExecutionStore,
  type HistoryEvent,
} from './executions';
import { withoutExecutionData } from './history';
import type { JsonValue } from './json';
import type { ExecutionRunner, LocalStateMachine } from './runner';
import { type Operation, ServiceError } from './server';
import type { TaskCallbacks, TaskTokenRegistry } from './tokens';

/** What the Step Functions operations work on. */
export interface StepFunctionsApiDeps {
  /** By state machine ARN. */
  readonly machines: ReadonlyMap<string, LocalStateMachine>;
  readonly store: ExecutionStore;
  readonly runner: ExecutionRunner;
  readonly tokens: TaskTokenRegistry;
  readonly region: string;
  readonly accountId: string;
}

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[^:]+:\d{12}:stateMachine:[^:]+$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/;
// AWS refuses white space, brackets, wildcards, these specials and control characters in execution names.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
const INVALID_NAME_CHARACTER = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

function validation(message: string): ServiceError {
  return new ServiceError('ValidationException', message);
}

function requiredString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value.length === 0) throw validation(`${field} is required`);
  return value;
}

function optionalString(input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validation(`${field} must be a string`);
  return value;
}

function parseJson(text: string, code: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new ServiceError(code, `Invalid ${what}: not JSON`);
  }
}

function pageSize(input: Record<string, unknown>): number {
  const value = input.maxResults;
  if (value === undefined || value === null || value === 0) return DEFAULT_PAGE_SIZE;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw validation(`maxResults must be an integer from 0 to ${MAX_PAGE_SIZE}`);
  }
  return value;
}

/** Page tokens carry the offset and what they page over, so one cannot be replayed against another listing. */
function pageOffset(input: Record<string, unknown>, scope: string): number {
  const token = optionalString(input, 'nextToken');
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; s?: unknown };
    if (parsed.s === scope && typeof parsed.o === 'number' && parsed.o >= 0) return parsed.o;
  } catch {
    // answered below
  }
  throw new ServiceError('InvalidToken', 'Invalid nextToken');
}

function page<T>(items: readonly T[], offset: number, size: number, scope: string): { items: T[]; nextToken?: string } {
  const slice = items.slice(offset, offset + size);
  const next = offset + size;
  return next < items.length
    ? { items: slice, nextToken: Buffer.from(JSON.stringify({ o: next, s: scope })).toString('base64url') }
    : { items: slice };
}

function executionSummary(record: ExecutionRecord) {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: record.startDate,
    ...(record.stopDate ? { stopDate: record.stopDate } : {}),
    redriveCount: 0,
  };
}

/** The Step Functions operations, by name, as {@link startJsonProtocolServer} serves them. */
export function stepFunctionsOperations(deps: StepFunctionsApiDeps): Record<string, Operation> {
  const { machines, store, runner, tokens, region, accountId } = deps;

  const machineOf = (stateMachineArn: string): LocalStateMachine => {
    if (!STATE_MACHINE_ARN.test(stateMachineArn))
      throw new ServiceError('InvalidArn', `Invalid Arn: '${stateMachineArn}'`);
    const machine = machines.get(stateMachineArn);
    if (!machine) {
      throw new ServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    }
    return machine;
  };
  const executionOf = (input: Record<string, unknown>): ExecutionRecord => {
    const executionArn = requiredString(input, 'executionArn');
    if (!EXECUTION_ARN.test(executionArn)) throw new ServiceError('InvalidArn', `Invalid Arn: '${executionArn}'`);
    const record = store.get(executionArn);
    if (!record) throw new ServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return record;
  };
  const answerToken = (
    input: Record<string, unknown>,
    act: (callbacks: TaskCallbacks) => void,
  ): Record<string, never> => {
    const token = requiredString(input, 'taskToken');
    switch (tokens.answer(token, act)) {
      case 'ok':
        return {};
      case 'invalid':
        throw new ServiceError('InvalidToken', 'Invalid Token');
      case 'timed-out':
        throw new ServiceError('TaskTimedOut', 'Task Timed Out');
      default:
        throw new ServiceError('TaskDoesNotExist', 'Task Does Not Exist');
    }
  };

  return {
    StartExecution: (input) => {
      const machine = machineOf(requiredString(input, 'stateMachineArn'));
      const name = optionalString(input, 'name') ?? randomUUID();
      if (name.length === 0 || name.length > 80 || INVALID_NAME_CHARACTER.test(name)) {
        throw new ServiceError('InvalidName', `Invalid Name: '${name}'`);
      }
      const inputText = optionalString(input, 'input') ?? '{}';
      const parsedInput = parseJson(inputText, 'InvalidExecutionInput', 'execution input');
      const executionArn = `arn:aws:states:${region}:${accountId}:execution:${machine.name}:${name}`;
      const existing = store.get(executionArn);
      if (existing) {
        // Standard workflows: a repeat of a RUNNING execution's name and input answers that execution.
        if (existing.status === 'RUNNING' && existing.input === inputText) {
          return { executionArn, startDate: existing.startDate };
        }
        throw new ServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
      }
      const record: ExecutionRecord = {
        executionArn,
        stateMachineArn: machine.arn,
        name,
        input: inputText,
        startDate: new Date(),
        status: 'RUNNING',
        history: [],
        historyClosed: false,
      };
      runner.start(machine, record, parsedInput);
      return { executionArn, startDate: record.startDate };
    },

    DescribeExecution: (input) => {
      const record = executionOf(input);
      return {
        ...executionSummary(record),
        input: record.input,
        inputDetails: { included: true },
        ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
        ...(record.error !== undefined ? { error: record.error } : {}),
        ...(record.cause !== undefined ? { cause: record.cause } : {}),
        redriveStatus: 'NOT_REDRIVABLE',
      };
    },

    StopExecution: (input) => {
      const record = executionOf(input);
      runner.stop(record, optionalString(input, 'error'), optionalString(input, 'cause'));
      return { stopDate: record.stopDate ?? new Date() };
    },

    ListExecutions: (input) => {
      if (input.mapRunArn !== undefined) throw validation('mapRunArn is not supported locally');
      const machine = machineOf(requiredString(input, 'stateMachineArn'));
      const statusFilter = optionalString(input, 'statusFilter');
      if (statusFilter !== undefined && !EXECUTION_STATUSES.includes(statusFilter as ExecutionStatus)) {
        throw validation(`statusFilter must be one of ${EXECUTION_STATUSES.join(', ')}`);
      }
      const scope = `${machine.arn}|${statusFilter ?? ''}`;
      const records = store.list({
        stateMachineArn: machine.arn,
        ...(statusFilter ? { status: statusFilter as ExecutionStatus } : {}),
      });
      const { items, nextToken } = page(records, pageOffset(input, scope), pageSize(input), scope);
      return { executions: items.map(executionSummary), ...(nextToken ? { nextToken } : {}) };
    },

    GetExecutionHistory: (input) => {
      const record = executionOf(input);
      const reverse = input.reverseOrder === true;
      const includeData = input.includeExecutionData !== false;
      const scope = `${record.executionArn}|${reverse}`;
      const events: HistoryEvent[] = reverse ? [...record.history].reverse() : record.history;
      const { items, nextToken } = page(events, pageOffset(input, scope), pageSize(input), scope);
      return {
        events: includeData ? items : items.map((event) => withoutExecutionData({ ...event })),
        ...(nextToken ? { nextToken } : {}),
      };
    },

    SendTaskSuccess: (input) => {
      const output = parseJson(requiredString(input, 'output'), 'InvalidOutput', 'output');
      return answerToken(input, (callbacks) => callbacks.succeed(output));
    },

    SendTaskFailure: (input) => {
      const error = optionalString(input, 'error') ?? '';
      const cause = optionalString(input, 'cause') ?? '';
      return answerToken(input, (callbacks) => callbacks.fail(error, cause));
    },

    SendTaskHeartbeat: (input) => answerToken(input, (callbacks) => callbacks.heartbeat()),
  };
}
