import { type HistoryEvent, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack } from '../../local/stack';

export { executionHistory } from '../../local/stepfunctions/execution-history';

export function sfnClient(stack: LocalStack): SFNClient {
  return new SFNClient({ endpoint: stack.urls.stepFunctions, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** Every execution of the state machine with its status (executions are named after their port request). */
export async function listExecutions(
  sfn: SFNClient,
  stateMachineArn: string,
): Promise<Array<{ name: string; arn: string; status: string }>> {
  const all: Array<{ name: string; arn: string; status: string }> = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, nextToken, maxResults: 1000 }));
    for (const e of page.executions ?? []) {
      all.push({ name: e.name ?? '', arn: e.executionArn ?? '', status: e.status ?? '' });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

/** What an execution's history says about billing: transitions and the Lambda invocations of its Task states. */
export interface HistorySummary {
  readonly events: number;
  /** States entered, of every type (Choice, Succeed… included), as Step Functions Standard bills them. */
  readonly statesEntered: number;
  /** Task attempts after the first within one state entry: each retry is a billed transition too. */
  readonly retries: number;
  /** Lambda invocations by state name (TaskScheduled / LambdaFunctionScheduled events). */
  readonly invocationsByState: Record<string, number>;
  /** Entries of WaitForPortUpdate that ended by the poll timeout, and those ended by a wake. */
  readonly waitTimeouts: number;
  readonly waitWakes: number;
}

export function summarizeHistory(events: readonly HistoryEvent[]): HistorySummary {
  let statesEntered = 0;
  let retries = 0;
  let waitTimeouts = 0;
  let waitWakes = 0;
  const invocationsByState: Record<string, number> = {};
  let state = '';
  let attemptsInEntry = 0;
  for (const event of events) {
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) {
      statesEntered += 1;
      state = event.stateEnteredEventDetails?.name ?? '?';
      attemptsInEntry = 0;
    } else if (type === 'TaskScheduled' || type === 'LambdaFunctionScheduled') {
      attemptsInEntry += 1;
      if (attemptsInEntry > 1) retries += 1;
      invocationsByState[state] = (invocationsByState[state] ?? 0) + 1;
    } else if (type === 'TaskTimedOut' && state === 'WaitForPortUpdate') {
      waitTimeouts += 1;
    } else if (type === 'TaskSucceeded' && state === 'WaitForPortUpdate') {
      waitWakes += 1;
    }
  }
  return { events: events.length, statesEntered, retries, invocationsByState, waitTimeouts, waitWakes };
}

/** Handler durations measured around each in-process invocation, by handler module. */
export interface HandlerTimings {
  readonly byModule: Record<string, number[]>;
  /** Wall-clock start (ms since epoch) of every invocation, by module: for the cold start estimate. */
  readonly startsByModule: Record<string, number[]>;
}
