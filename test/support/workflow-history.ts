import { type HistoryEvent, ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';

export { executionHistory } from '../../local/stepfunctions/execution-history';

/** The ARN of the execution named `name` (executions are named after their port request). */
export async function executionArnNamed(sfn: SFNClient, stateMachineArn: string, name: string): Promise<string> {
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, nextToken }));
    const found = page.executions?.find((execution) => execution.name === name);
    if (found?.executionArn) return found.executionArn;
    nextToken = page.nextToken;
  } while (nextToken);
  throw new Error(`No execution named ${name} in ${stateMachineArn}`);
}

/** Where a state was entered: the index in `events` of each `<Type>StateEntered` event naming `stateName`. */
export function entriesOf(events: readonly HistoryEvent[], stateName: string): number[] {
  const indexes: number[] = [];
  events.forEach((event, index) => {
    if (event.type?.endsWith('StateEntered') && event.stateEnteredEventDetails?.name === stateName) {
      indexes.push(index);
    }
  });
  return indexes;
}

/** One full turn of the workflow's loop: the events from one entry of the loop state up to the next. */
export interface LoopCycle {
  /** Index in the history of the entry that starts the cycle. */
  readonly start: number;
  /** The event types of the cycle, in order (the next cycle's entry excluded). */
  readonly types: readonly string[];
}

/**
 * The complete cycles of the loop that `stateName` starts (WaitForPortUpdate for the port workflow): the events
 * between two consecutive entries of that state. The open cycle after the last entry is left out.
 */
export function loopCycles(events: readonly HistoryEvent[], stateName: string): LoopCycle[] {
  const entries = entriesOf(events, stateName);
  return entries.slice(1).map((next, i) => {
    const start = entries[i] as number;
    return { start, types: events.slice(start, next).map((event) => event.type ?? '?') };
  });
}
