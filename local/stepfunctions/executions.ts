/** Execution statuses as DescribeExecution reports them. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** The statuses ListExecutions accepts as statusFilter. */
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
];

/** One history event in AWS's shape: `type`, `id`, `previousEventId`, `timestamp` and one `<type>EventDetails`. */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: Date;
  readonly type: string;
  readonly [details: string]: unknown;
}

/**
 * What is known about one execution, in plain data: the part a persistent store would keep. The engine run behind a
 * RUNNING record lives in the runner, not here.
 */
export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  /** The input as given to StartExecution (JSON text). */
  readonly input: string;
  readonly startDate: Date;
  status: ExecutionStatus;
  stopDate?: Date;
  /** JSON text. */
  output?: string;
  error?: string;
  cause?: string;
  readonly history: HistoryEvent[];
  /** Set once an Execution{Succeeded,Failed,Aborted,TimedOut} event is in the history. */
  historyClosed: boolean;
}

/** Filters of {@link ExecutionStore.list}. */
export interface ExecutionFilter {
  readonly stateMachineArn?: string;
  readonly status?: ExecutionStatus;
}

/** Where executions are kept. In memory for now; the interface is what a DynamoDB-backed store would implement. */
export interface ExecutionStore {
  add(record: ExecutionRecord): void;
  get(executionArn: string): ExecutionRecord | undefined;
  /** Newest first, as ListExecutions answers. */
  list(filter?: ExecutionFilter): ExecutionRecord[];
}

/** Executions in a Map; {@link InMemoryExecutionStore.listOpen} is what resuming after a restart would start from. */
export class InMemoryExecutionStore implements ExecutionStore {
  private readonly records = new Map<string, ExecutionRecord>();

  add(record: ExecutionRecord): void {
    this.records.set(record.executionArn, record);
  }

  get(executionArn: string): ExecutionRecord | undefined {
    return this.records.get(executionArn);
  }

  list(filter: ExecutionFilter = {}): ExecutionRecord[] {
    return [...this.records.values()]
      .filter((record) => !filter.stateMachineArn || record.stateMachineArn === filter.stateMachineArn)
      .filter((record) => !filter.status || record.status === filter.status)
      .reverse()
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
  }

  /** The RUNNING executions. */
  listOpen(): ExecutionRecord[] {
    return this.list({ status: 'RUNNING' });
  }
}

const TERMINAL_EVENTS = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

/** The field AWS puts an event's details in: one for all `*StateEntered`, one for all `*StateExited`. */
function detailsField(type: string): string {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
}

/** Appends an event to an execution's history, numbered; nothing is added after the closing Execution* event. */
export function appendHistoryEvent(
  record: ExecutionRecord,
  type: string,
  details?: Record<string, unknown>,
  timestamp: Date = new Date(),
): void {
  if (record.historyClosed) return;
  const id = record.history.length + 1;
  const event: HistoryEvent = {
    id,
    previousEventId: id - 1,
    timestamp,
    type,
    ...(details ? { [detailsField(type)]: details } : {}),
  };
  record.history.push(event);
  if (TERMINAL_EVENTS.has(type)) record.historyClosed = true;
}
