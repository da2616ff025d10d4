import { appendHistoryEvent, type ExecutionRecord } from './executions';
import { type EngineEvent, jsonText } from './json';

const NOT_TRUNCATED = { truncated: false } as const;

function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return cause === undefined ? '' : JSON.stringify(cause);
}

/**
 * Records one engine event as AWS history events. The engine's Task events carry no integration detail, so
 * Task{Scheduled,Started,Submitted,Succeeded,Failed,TimedOut} and LambdaFunction* come from the task handlers;
 * StateRetried/StateCaught and Parallel branch events have no AWS counterpart and are left out.
 */
export function recordEngineEvent(record: ExecutionRecord, event: EngineEvent, roleArn: string): void {
  const at = new Date(event.timestamp);
  switch (event.type) {
    case 'ExecutionStarted':
      appendHistoryEvent(
        record,
        'ExecutionStarted',
        { input: jsonText(event.input), inputDetails: NOT_TRUNCATED, roleArn },
        at,
      );
      return;
    case 'StateEntered':
      appendHistoryEvent(
        record,
        `${event.state.type}StateEntered`,
        { name: event.state.name, input: jsonText(event.state.input), inputDetails: NOT_TRUNCATED },
        at,
      );
      return;
    case 'StateExited':
      if (event.state.type === 'Map' || event.state.type === 'Parallel') {
        appendHistoryEvent(record, `${event.state.type}StateSucceeded`, undefined, at);
      }
      appendHistoryEvent(
        record,
        `${event.state.type}StateExited`,
        { name: event.state.name, output: jsonText(event.state.output), outputDetails: NOT_TRUNCATED },
        at,
      );
      return;
    case 'StateFailed':
      // A failed Task is recorded by its handler (TaskFailed/TaskTimedOut); other states fail into the execution.
      if (event.state.type === 'Map' || event.state.type === 'Parallel') {
        appendHistoryEvent(record, `${event.state.type}StateFailed`, undefined, at);
      }
      return;
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed':
      appendHistoryEvent(record, event.type, { name: event.parentState.name, index: event.index }, at);
      return;
    case 'ExecutionSucceeded':
      appendHistoryEvent(
        record,
        'ExecutionSucceeded',
        { output: jsonText(event.output), outputDetails: NOT_TRUNCATED },
        at,
      );
      return;
    case 'ExecutionFailed':
      appendHistoryEvent(record, 'ExecutionFailed', { error: event.Error, cause: causeText(event.Cause) }, at);
      return;
    case 'ExecutionAborted':
      appendHistoryEvent(
        record,
        'ExecutionAborted',
        {
          ...(record.error !== undefined ? { error: record.error } : {}),
          ...(record.cause !== undefined ? { cause: record.cause } : {}),
        },
        at,
      );
      return;
    case 'ExecutionTimeout':
      appendHistoryEvent(
        record,
        'ExecutionTimedOut',
        { error: 'States.Timeout', cause: 'The execution ran longer than the state machine TimeoutSeconds' },
        at,
      );
      return;
    default:
      return;
  }
}

/** Drops the input/output data of events, as GetExecutionHistory does with includeExecutionData false. */
export function withoutExecutionData(event: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventDetails') && typeof value === 'object' && value !== null) {
      const { input: _input, output: _output, parameters: _parameters, ...rest } = value as Record<string, unknown>;
      copy[key] = rest;
    } else {
      copy[key] = value;
    }
  }
  return copy;
}
