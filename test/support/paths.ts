import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack } from '../../local/stack';
import { eventually } from './eventually';
import type { Email, PortRequestView, TestAccount, TimelineEvent } from './harness';
import { executionArnNamed, executionHistory } from './workflow-history';

/** Helpers shared by the path-by-path end-to-end tests (test/e2e/paths-*.test.ts). */

const DAY_MS = 24 * 60 * 60 * 1000;

/** The UTC date `days` from today, as YYYY-MM-DD. */
export function utcDateInDays(days: number, now = new Date()): string {
  return new Date(now.getTime() + days * DAY_MS).toISOString().slice(0, 10);
}

/** A US number as emails write it: "+14155550100" → "(415) 555-0100". */
export function national(e164: string): string {
  const match = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  if (!match) throw new Error(`${e164} is not a US number`);
  return `(${match[1]}) ${match[2]}-${match[3]}`;
}

/** A timeline event as one string: `TYPE:status`, else `TYPE:detail`, else `TYPE`. */
export function storyOf(events: readonly TimelineEvent[]): string[] {
  return events.map((e) => (e.status ? `${e.type}:${e.status}` : e.detail ? `${e.type}:${e.detail}` : e.type));
}

/** How many times each value occurs. */
export function countsOf(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** The templates of the EMAIL_SENT events of a timeline, in order. */
export function sentTemplates(events: readonly TimelineEvent[]): string[] {
  return events.filter((e) => e.type === 'EMAIL_SENT').map((e) => e.detail ?? '?');
}

/** Waits until this account has received an email matching `match`; answers all its emails then. */
export function emailsOnce(account: TestAccount, match: (email: Email) => boolean, what: string): Promise<Email[]> {
  return eventually(
    async () => {
      const all = await account.emails();
      return all.some(match) ? all : undefined;
    },
    { what },
  );
}

/** The emails whose subject starts with `prefix`. */
export function withSubject(emails: readonly Email[], prefix: string): Email[] {
  return emails.filter((e) => e.subject.startsWith(prefix));
}

/**
 * The rules every email of a port keeps: each one sent before the "safe to cancel" email says "do not cancel" in
 * its subject, and no email shows a PIN or the losing-carrier account number.
 */
export function expectEmailRules(emails: readonly Email[], secrets: readonly string[]): void {
  const completion = emails.findIndex((e) => e.subject.toLowerCase().includes('safe to cancel'));
  const beforeCompletion = completion === -1 ? emails : emails.slice(0, completion);
  for (const email of beforeCompletion) expect(email.subject.toLowerCase()).toContain('do not cancel');
  for (const email of emails) {
    const content = `${email.subject}\n${email.body.text}\n${email.body.html}`;
    for (const secret of secrets) expect(content).not.toContain(secret);
  }
}

/** The Twilio simulator's record of one webhook delivery (`GET /_sim/webhooks`). */
export type SimDelivery = {
  id: number;
  accountSid: string;
  eventType: string;
  mode: string;
  copy: number;
  url: string;
  headers: Record<string, string>;
  body: string;
  outcome: 'pending' | 'delivered' | 'failed' | 'dropped';
  responseStatus: number | null;
};

/** The webhook deliveries the simulator made (or dropped) for this account, oldest first. */
export async function webhooksOf(account: TestAccount): Promise<SimDelivery[]> {
  const all = await account.sim<SimDelivery[]>('/_sim/webhooks');
  return all.filter((d) => d.accountSid === account.accountSid);
}

/** Waits until no delivery of this account is pending; answers them all. */
export function webhooksSettled(account: TestAccount): Promise<SimDelivery[]> {
  return eventually(
    async () => {
      const deliveries = await webhooksOf(account);
      return deliveries.every((d) => d.outcome !== 'pending') ? deliveries : undefined;
    },
    { what: 'the webhook deliveries to settle' },
  );
}

/** Posts a recorded delivery again, byte for byte (same URL, headers and body: still validly signed). */
export async function replay(delivery: SimDelivery): Promise<number> {
  const response = await fetch(delivery.url, { method: 'POST', headers: delivery.headers, body: delivery.body });
  await response.arrayBuffer();
  return response.status;
}

/** The port request's numbers as `[phoneNumber, status, focDate, rejectionReason]`. */
export function numbersOf(pr: PortRequestView): Array<[string, string, string | undefined, string | undefined]> {
  return pr.phoneNumbers.map((n) => [n.phoneNumber, n.status, n.focDate, n.rejectionReason]);
}

/** The port request without `updatedAt`, for comparing what a port request says. */
export function withoutUpdatedAt(pr: PortRequestView): Omit<PortRequestView, 'updatedAt'> {
  const { updatedAt: _updatedAt, ...rest } = pr as PortRequestView & { updatedAt?: string };
  return rest;
}

/** The numbers in the account's Twilio account with their voice URL, read as a Twilio client would. */
export async function incomingNumbers(account: TestAccount): Promise<Array<[string, string | null]>> {
  const response = await fetch(
    `${account.stack.urls.twilio}/2010-04-01/Accounts/${account.accountSid}/IncomingPhoneNumbers.json`,
    {
      headers: {
        authorization: `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString('base64')}`,
      },
    },
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as {
    incoming_phone_numbers: Array<{ phone_number: string; voice_url: string | null }>;
  };
  return body.incoming_phone_numbers.map((n): [string, string | null] => [n.phone_number, n.voice_url]).sort();
}

/** Expects `expected` to occur in `actual` in this order (other entries may come between). */
export function expectInOrder(actual: readonly string[], expected: readonly string[]): void {
  let from = 0;
  for (const item of expected) {
    const at = actual.indexOf(item, from);
    if (at === -1) {
      throw new Error(`Expected ${JSON.stringify(item)} after position ${from} in:\n${actual.join('\n')}`);
    }
    from = at + 1;
  }
}

/** Waits until the account's webhooks are delivered and the port request's workflow has acted on them. */
export async function settle(account: TestAccount, workflows: Workflows, portRequestId: string): Promise<void> {
  await webhooksSettled(account);
  await workflows.settled(portRequestId);
}

/** Reads the local Step Functions endpoint about port request executions (execution name = portRequestId). */
export class Workflows {
  readonly sfn: SFNClient;

  constructor(private readonly stack: LocalStack) {
    this.sfn = new SFNClient({
      endpoint: stack.urls.stepFunctions,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
  }

  arnOf(portRequestId: string): Promise<string> {
    return eventually(() => executionArnNamed(this.sfn, this.stack.stateMachineArn, portRequestId), {
      what: `the execution ${portRequestId}`,
    });
  }

  async describe(portRequestId: string): Promise<DescribeExecutionCommandOutput> {
    return this.sfn.send(new DescribeExecutionCommand({ executionArn: await this.arnOf(portRequestId) }));
  }

  /** Waits for the execution to reach `status` (SUCCEEDED, FAILED…). */
  ended(portRequestId: string, status = 'SUCCEEDED'): Promise<DescribeExecutionCommandOutput> {
    return eventually(
      async () => {
        const described = await this.describe(portRequestId);
        return described.status === status ? described : undefined;
      },
      { what: `the execution ${portRequestId} to be ${status}` },
    );
  }

  async history(portRequestId: string): Promise<HistoryEvent[]> {
    return executionHistory(this.sfn, await this.arnOf(portRequestId));
  }

  /** Every execution of the state machine named after this port request (one per port request). */
  async executionsOf(portRequestId: string): Promise<ExecutionListItem[]> {
    const executions: ExecutionListItem[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(
        new ListExecutionsCommand({ stateMachineArn: this.stack.stateMachineArn, nextToken }),
      );
      executions.push(...(page.executions ?? []).filter((e) => e.name === portRequestId));
      nextToken = page.nextToken;
    } while (nextToken);
    return executions;
  }

  /**
   * Waits until the workflow is quiet: waiting for a webhook with no wake pending (the last history event is the
   * WaitForPortUpdate task's TaskSubmitted, which a task that wakes itself at once never records), or ended. Call it
   * once the webhooks are delivered: every wake they caused has then been synced, and its emails sent.
   */
  async settled(portRequestId: string): Promise<void> {
    await eventually(
      async () => {
        const last = (await this.history(portRequestId)).at(-1)?.type ?? '';
        return ['TaskSubmitted', 'ExecutionSucceeded', 'ExecutionFailed'].includes(last) ? true : undefined;
      },
      { what: `the workflow of ${portRequestId} to settle` },
    );
  }

  destroy(): void {
    this.sfn.destroy();
  }
}
