import '../../local/polyfills';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack, startLocalStack } from '../../local/stack';
import { scenarioMain } from '../lib/child';
import { BenchAccount, localNumbers, sesEmails, webhookDeliveries } from '../lib/driver';
import { type BenchFunction, type CounterSnapshot, difference, snapshot, startInstruments } from '../lib/instrument';
import { median, sleep, waitUntil } from '../lib/stats';
import { executionHistory, type HistorySummary, listExecutions, sfnClient, summarizeHistory } from '../lib/workflow';

/**
 * Item 3: one port at the default cadence (poll 6 h, reminders every 3 days), counted from a real run with time
 * compressed: 1 s of wall time stands for one poll interval (6 h), so 21 days take 84 s. Twilio moves the port
 * as a carrier would (review, signature, in progress, FOC, completed), each change with its webhooks. Everything
 * billable is counted where it happens: state transitions from the execution history, Lambda invocations and
 * their durations around the handlers, DynamoDB requests and capacity units by a proxy, Secrets Manager calls,
 * emails in the SES stand-in, API Gateway requests (ours and the simulator's webhook posts).
 */

export interface PortCostConfig {
  /** The template's functions, to time each invocation by its entry. */
  readonly functions: readonly BenchFunction[];
  /** The local poll interval (wall seconds)… */
  readonly pollIntervalSeconds: number;
  /** …and the real one it stands for (6 h): time runs this many times faster. */
  readonly scaledPollSeconds: number;
  /** The real reminder interval (3 days), compressed alike. */
  readonly scaledReminderSeconds: number;
  readonly days: number;
  /** Day of each Twilio change. */
  readonly timeline: { readonly signature: number; readonly inProgress: number; readonly foc: number };
  readonly phoneNumbers: number;
  /** The simulator's Twilio latency (the Lambdas wait for Twilio, and are billed for it). */
  readonly twilioLatencyMs: number;
  readonly twilioLatencyJitterMs: number;
}

export interface PortCostResult {
  readonly config: PortCostConfig;
  readonly wallSeconds: number;
  readonly history: HistorySummary;
  readonly totals: CounterSnapshot;
  /** Counters over the quiet stretch between FOC and completion (only polls happen), and its poll count. */
  readonly quietWindow: { readonly polls: number; readonly counters: CounterSnapshot; readonly transitions: number };
  /** Cold starts by handler module, as at the real cadence (an invocation more than 10 scaled minutes after the last). */
  readonly coldStarts: Record<string, number>;
  readonly handlerMsByModule: Record<string, number>;
  readonly apiRequests: { readonly product: number; readonly webhookPosts: number; readonly webhooks: number };
  readonly emails: number;
  readonly emailSubjects: string[];
  /** The proxy's count of successful port request writes, and the item's final version (the same if it saw all). */
  readonly proxyCheck: { readonly portRequestWritesSeen: number; readonly itemVersion: number };
  readonly safeToCancel: boolean;
  /** Median SyncPortStatus invocation (ms): the naive poller's per-invocation work. */
  readonly syncPortStatusMedianMs: number;
  /** Size of the port request item at the end, as JSON (a little above DynamoDB's own count of names and values). */
  readonly portRequestItemBytes: number;
  /** The verification test calls Twilio placed for the port: each leg's billed minutes (per started minute). */
  readonly testCalls: TestCallLegs;
}

/** Billed minutes of the test calls' legs, by kind (what Twilio charges the customer's account for them). */
export interface TestCallLegs {
  readonly outbound: { readonly calls: number; readonly minutes: number };
  readonly inboundLocal: { readonly calls: number; readonly minutes: number };
  readonly inboundTollFree: { readonly calls: number; readonly minutes: number };
}

/** Counts the account's calls on the simulator: a connected leg is billed per started minute, at least one. */
async function testCallLegs(stack: LocalStack, accountSid: string): Promise<TestCallLegs> {
  const calls = (await (await fetch(`${stack.urls.twilio}/_sim/calls`)).json()) as Array<{
    resource: { account_sid: string; direction: string; to: string; status: string; duration: string | null };
  }>;
  const legs = {
    outbound: { calls: 0, minutes: 0 },
    inboundLocal: { calls: 0, minutes: 0 },
    inboundTollFree: { calls: 0, minutes: 0 },
  };
  for (const { resource } of calls) {
    if (resource.account_sid !== accountSid) continue;
    // A connected leg is billed per started minute, the first one whole (the test call's TwiML hangs up at once).
    const seconds = Number(resource.duration ?? 0);
    const minutes = resource.status === 'completed' || seconds > 0 ? Math.max(1, Math.ceil(seconds / 60)) : 0;
    const kind = resource.direction.startsWith('outbound')
      ? legs.outbound
      : /^\+18(00|33|44|55|66|77|88)/.test(resource.to)
        ? legs.inboundTollFree
        : legs.inboundLocal;
    kind.calls += 1;
    kind.minutes += minutes;
  }
  return legs;
}

async function main(config: PortCostConfig): Promise<PortCostResult> {
  const speedUp = config.scaledPollSeconds / config.pollIntervalSeconds;
  const secondsPerDay = 86_400 / speedUp;
  const reminderIntervalSeconds = Math.round(config.scaledReminderSeconds / speedUp);
  const instruments = await startInstruments(config.functions);
  const stack = await startLocalStack({
    lambdaEnvironment: instruments.lambdaEnvironment,
    apiPort: 0,
    twilioPort: 0,
    sesPort: 0,
    pollIntervalSeconds: config.pollIntervalSeconds,
    // VerifyNumbers' waits (the 2-minute answer window) at 1/100: the same calls and transitions, in less time.
    verificationTimeScale: 0.01,
    reminderIntervalSeconds,
    simulatorLatencyMs: config.twilioLatencyMs,
    simulatorLatencyJitterMs: config.twilioLatencyJitterMs,
  });
  const counters = instruments.attach(stack);
  const sfn = sfnClient(stack);
  try {
    const account = new BenchAccount(stack);
    await account.connect();
    // The customer's Twilio account already has a number of its own, as most do: the test call comes from it.
    const own = await fetch(`${stack.urls.twilio}/_sim/accounts/${account.accountSid}/incoming-phone-numbers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phoneNumber: '+19175550199' }),
    });
    if (own.status >= 300) throw new Error(`the account's own number: ${own.status} ${await own.text()}`);
    const numbers = localNumbers(config.phoneNumbers, 3);
    const [portRequestId] = await account.order([numbers]);
    if (!portRequestId) throw new Error('no port request');
    const started = Date.now();
    const atDay = async (day: number) => {
      const wait = started + day * secondsPerDay * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
    };
    // Watched on the simulator, not through the API: the bench's own reads must not be counted as the service's.
    const sid = await waitUntil(
      async () => {
        const portIns = (await (
          await fetch(`${stack.urls.twilio}/_sim/port-ins?accountSid=${account.accountSid}`)
        ).json()) as Array<{ sid: string }>;
        return portIns[0]?.sid;
      },
      'the submission',
      30_000,
      20,
    );

    await atDay(config.timeline.signature);
    await account.setTwilioStatus(sid, { status: 'Waiting for Signature' });
    await atDay(config.timeline.inProgress);
    await account.setTwilioStatus(sid, { status: 'In Progress' });
    await atDay(config.timeline.foc);
    // The FOC date is tomorrow on the real calendar (reminders of it follow the real date). Announced on its eve,
    // the FOC_DATE_SET email is also its reminder: no FOC_TOMORROW_REMINDER goes out here, where a real port told
    // of its date days ahead gets one more email (SES $0.0001) on day 20.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await account.setTwilioStatus(sid, {
      phoneNumbers: Object.fromEntries(numbers.map((n) => [n, { status: 'port_pending', focDate: tomorrow }])),
    });
    const executionArn = (await listExecutions(sfn, stack.stateMachineArn)).find((e) => e.name === portRequestId)?.arn;
    if (!executionArn) throw new Error('no execution');
    // The quiet stretch: from one poll after the FOC until just before completion, only polls happen.
    await sleep(2 * config.pollIntervalSeconds * 1000);
    const quietStart = {
      counters: snapshot(counters),
      history: summarizeHistory(await executionHistory(sfn, executionArn)),
    };
    await atDay(config.days - 0.25);
    const quietEnd = {
      counters: snapshot(counters),
      history: summarizeHistory(await executionHistory(sfn, executionArn)),
    };
    await atDay(config.days);
    await account.setTwilioStatus(sid, { status: 'Completed' });

    await waitUntil(
      async () =>
        (await listExecutions(sfn, stack.stateMachineArn)).find((e) => e.name === portRequestId)?.status === 'SUCCEEDED'
          ? true
          : undefined,
      'the execution to succeed',
      60_000,
      50,
    );
    // Let the last webhooks land (they find the port finished and change nothing, but they are requests).
    await waitUntil(
      async () => ((await webhookDeliveries(stack)).every((d) => d.outcome !== 'pending') ? true : undefined),
      'the webhook deliveries',
      30_000,
      50,
    );
    await sleep(200);
    const wallSeconds = (Date.now() - started) / 1000;
    const history = summarizeHistory(await executionHistory(sfn, executionArn));
    const totals = snapshot(counters);

    // Read straight from the stand-ins (not counted): the final item and the emails.
    const pr = await account.portRequest(portRequestId);
    const item = await fetchItem(stack, account.accountId, portRequestId);
    const emails = (await sesEmails(stack)).filter((e) => e.destination.to.includes(account.owner));
    const deliveries = await webhookDeliveries(stack);

    const coldStarts: Record<string, number> = {};
    const coldGapMs = ((10 * 60) / speedUp) * 1000;
    for (const [name, starts] of Object.entries(counters.timings.startsByModule)) {
      coldStarts[name] = starts.filter((at, i) => i === 0 || at - (starts[i - 1] as number) > coldGapMs).length;
    }
    const handlerMsByModule = Object.fromEntries(
      Object.entries(counters.timings.byModule).map(([name, d]) => [name, d.reduce((a, b) => a + b, 0)]),
    );
    return {
      config,
      wallSeconds,
      history,
      totals,
      quietWindow: {
        polls: quietEnd.history.waitTimeouts - quietStart.history.waitTimeouts,
        counters: difference(quietEnd.counters, quietStart.counters),
        transitions:
          quietEnd.history.statesEntered +
          quietEnd.history.retries -
          quietStart.history.statesEntered -
          quietStart.history.retries,
      },
      coldStarts,
      handlerMsByModule,
      apiRequests: {
        // connect, utility bill, order: what the main product sends for one port (the bench reads nothing else).
        product: 3,
        webhookPosts: deliveries.reduce((n, d) => n + d.attempts.length, 0),
        webhooks: deliveries.length,
      },
      emails: emails.length,
      emailSubjects: emails.map((e) => e.subject),
      proxyCheck: { portRequestWritesSeen: counters.portRequestWrites.count, itemVersion: item.version },
      safeToCancel: pr.safeToCancelOldService,
      syncPortStatusMedianMs: median(counters.timings.byModule['sync-port-status'] ?? []),
      portRequestItemBytes: item.bytes,
      testCalls: await testCallLegs(stack, account.accountSid),
    };
  } finally {
    sfn.destroy();
    await counters.close();
    await stack.stop();
  }
}

/** The port request item's `version` and size, read from dynalite directly (not through the counting proxy). */
async function fetchItem(
  stack: LocalStack,
  accountId: string,
  portRequestId: string,
): Promise<{ version: number; bytes: number }> {
  const client = new DynamoDBClient({
    endpoint: stack.urls.dynamoDb,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const answer = await DynamoDBDocumentClient.from(client).send(
      new GetCommand({
        TableName: stack.tableName,
        Key: { PK: `ACCOUNT#${accountId}`, SK: `PORT_REQUEST#${portRequestId}` },
        ConsistentRead: true,
      }),
    );
    const item = answer.Item ?? {};
    return { version: Number(item.version ?? Number.NaN), bytes: Buffer.byteLength(JSON.stringify(item)) };
  } finally {
    client.destroy();
  }
}

if (require.main === module) scenarioMain(main);
