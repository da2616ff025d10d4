import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { ApiAnswer } from '../../local/signed-api-client';
import type { LocalStack } from '../../local/stack';
import { attestations, losingCarrier } from './fixtures';
import type { TestAccount } from './harness';

/** Helpers of the fault tests (test/e2e/faults.test.ts): the simulator's fault route and retries in the history. */

/** An operation `/_sim/faults` can fail (local/twilio-simulator/state.ts OPERATIONS). */
export type SimOperation =
  | 'fetchAccount'
  | 'createPortIn'
  | 'fetchPortIn'
  | 'cancelPortIn'
  | 'fetchPortability'
  | 'configureWebhook'
  | 'uploadDocument'
  | 'listIncomingPhoneNumbers'
  | 'updateIncomingPhoneNumber';

/**
 * A fault: the next `times` calls of `operation` (from any account) answer `status` (0: no answer at all), or, with
 * `delayMs`, answer that late (carried out at once, answered after the delay: a slow Twilio).
 */
export interface Fault {
  readonly operation: SimOperation;
  readonly status?: number;
  readonly delayMs?: number;
  readonly times: number;
  /** Twilio's error code in the answer (default: the simulator's for the status). */
  readonly code?: number;
  readonly message?: string;
}

/** Arms a fault in the Twilio simulator. Faults are global: the tests that use them run one at a time. */
export async function armFault(stack: LocalStack, fault: Fault): Promise<void> {
  const response = await fetch(`${stack.urls.twilio}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fault),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`POST /_sim/faults answered ${response.status}: ${text}`);
}

/** The answer of POST port-orders (202) and GET port-orders/{orderId}, as far as the tests read it. */
export type PortOrderAnswer = {
  orderId: string;
  portRequests: Array<{ portRequestId: string; status: string; route: string; phoneNumbers: string[] }>;
};

/** POST port-orders with this Idempotency-Key: one carrier, the given numbers; answers the raw answer. */
export function postOrder(
  account: TestAccount,
  documentSid: string,
  phoneNumbers: readonly string[],
  idempotencyKey: string,
): Promise<ApiAnswer<PortOrderAnswer>> {
  return account.api.post<PortOrderAnswer>(
    `${account.base}/port-orders`,
    {
      losingCarriers: [losingCarrier('CallRail', documentSid, [...phoneNumbers])],
      notificationEmails: [account.owner],
      attestations,
    },
    { 'Idempotency-Key': idempotencyKey },
  );
}

/** One call of a Task state's resource: how it ended (the error name, or `ok`). */
export interface Attempt {
  readonly state: string;
  readonly outcome: string;
}

const SCHEDULED = new Set(['LambdaFunctionScheduled', 'TaskScheduled']);
const SUCCEEDED = new Set(['LambdaFunctionSucceeded', 'TaskSucceeded', 'TaskSubmitted']);
const FAILED = new Set(['LambdaFunctionFailed', 'TaskFailed', 'LambdaFunctionTimedOut', 'TaskTimedOut']);

/** The error of a failure event, whatever its details field is called. */
function errorOf(event: HistoryEvent): string {
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventDetails') && value && typeof value === 'object' && 'error' in value) {
      return String((value as { error?: unknown }).error);
    }
  }
  return '?';
}

/**
 * Every attempt of every Task state, in order. An attempt starts with a *Scheduled event and is owned by the state
 * last entered; Step Functions' retries show as repeated *Scheduled … *Failed within one state entry.
 */
export function attemptsIn(history: readonly HistoryEvent[]): Attempt[] {
  const attempts: Array<{ state: string; outcome: string }> = [];
  let state = '?';
  for (const event of history) {
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) state = event.stateEnteredEventDetails?.name ?? '?';
    else if (SCHEDULED.has(type)) attempts.push({ state, outcome: 'pending' });
    else {
      const last = attempts.at(-1);
      if (last?.outcome !== 'pending') continue;
      if (SUCCEEDED.has(type)) last.outcome = 'ok';
      else if (FAILED.has(type)) last.outcome = errorOf(event);
    }
  }
  return attempts;
}

/** How each attempt of `state` ended, in order: e.g. `['TwilioTransientError', 'TwilioTransientError', 'ok']`. */
export function outcomesOf(history: readonly HistoryEvent[], state: string): string[] {
  return attemptsIn(history)
    .filter((a) => a.state === state)
    .map((a) => a.outcome);
}

/** How many times each state was entered (a retry does not enter the state again). */
export function entriesCount(history: readonly HistoryEvent[], state: string): number {
  return history.filter((e) => e.type?.endsWith('StateEntered') && e.stateEnteredEventDetails?.name === state).length;
}

/** How long each attempt of `state` took, from its *Scheduled event to the event that ended it, in ms. */
export function attemptDurationsMs(history: readonly HistoryEvent[], state: string): number[] {
  const durations: number[] = [];
  let current = '?';
  let scheduledAt: number | undefined;
  for (const event of history) {
    const type = event.type ?? '';
    const at = event.timestamp ? new Date(event.timestamp).getTime() : Number.NaN;
    if (type.endsWith('StateEntered')) current = event.stateEnteredEventDetails?.name ?? '?';
    else if (SCHEDULED.has(type)) scheduledAt = current === state ? at : undefined;
    else if (scheduledAt !== undefined && (SUCCEEDED.has(type) || FAILED.has(type))) {
      durations.push(at - scheduledAt);
      scheduledAt = undefined;
    }
  }
  return durations;
}
