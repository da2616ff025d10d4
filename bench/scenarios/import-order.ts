import '../../local/polyfills';
import { startLocalStack } from '../../local/stack';
import { scenarioMain } from '../lib/child';
import { BenchAccount, localNumbers } from '../lib/driver';
import { type BenchFunction, type CounterSnapshot, difference, snapshot, startInstruments } from '../lib/instrument';
import { round, sleep, waitUntil } from '../lib/stats';
import { executionHistory, listExecutions, sfnClient } from '../lib/workflow';

/**
 * Item 4: one order of 1,000 numbers (one losing carrier) through the local stack, with the Twilio simulator at a
 * realistic latency and with Twilio's per-account concurrency limit, timed in three phases:
 *  - split: the order API call (a portability look-up per number, the split, the claims, the port request);
 *  - submit: from the order's answer until the Port In request exists at Twilio (SubmitPortIn);
 *  - import: from Twilio marking the port Completed (with its webhooks) until every number is imported (the sync
 *    that sees the completion, then ImportNumbers pointing each number's voice URL at the call router).
 * Each phase is set beside its floor: the least time Twilio's limit allows for the Twilio calls the phase cannot
 * do without, made `maxConcurrent` at a time at the mean latency (see `floorSeconds`).
 */

export interface ImportOrderConfig {
  /** The template's functions, to time each invocation by its entry. */
  readonly functions: readonly BenchFunction[];
  readonly phoneNumbers: number;
  readonly twilioLatencyMs: number;
  readonly twilioLatencyJitterMs: number;
  readonly maxConcurrentRequestsPerAccount: number;
  readonly pollIntervalSeconds: number;
  readonly timeoutSeconds: number;
}

export interface PhaseFigures {
  readonly seconds: number;
  /** The Twilio calls the phase needs at least, and the least time the concurrency limit allows for them. */
  readonly floorCalls: Record<string, number>;
  readonly floorSeconds: number;
  /** What the service did: Twilio calls by operation and answers by HTTP status. */
  readonly twilioCalls: Record<string, number>;
  readonly twilioStatuses: Record<string, number>;
  readonly invocations: Record<string, number>;
  readonly handlerMs: Record<string, number>;
}

export interface ImportOrderResult {
  readonly config: ImportOrderConfig;
  readonly meanLatencyMs: number;
  readonly orderAnswer: number;
  readonly split: PhaseFigures;
  readonly submit: PhaseFigures;
  readonly import: PhaseFigures;
  readonly totalSeconds: number;
  readonly floorSeconds: number;
  readonly ratio: number;
  /** Most Twilio calls in flight at once (through the bench's counting proxy). */
  readonly maxTwilioInFlight: number;
  readonly imported: number;
  readonly executionStatus: string;
  /** Handler invocations that ran longer than the function's timeout in AWS would allow (seconds), by module. */
  readonly longestInvocationMs: Record<string, number>;
}

/**
 * The least time for `calls` independent Twilio calls when at most `concurrency` may be in flight and each takes
 * `latencyMs` on average: they go in ceil(calls / concurrency) waves. Phases add up (each needs the one before).
 */
function floorSeconds(waves: ReadonlyArray<{ calls: number }>, concurrency: number, latencyMs: number): number {
  return waves.reduce((total, w) => total + Math.ceil(w.calls / concurrency) * latencyMs, 0) / 1000;
}

async function main(config: ImportOrderConfig): Promise<ImportOrderResult> {
  const instruments = await startInstruments(config.functions);
  const stack = await startLocalStack({
    lambdaEnvironment: instruments.lambdaEnvironment,
    apiPort: 0,
    twilioPort: 0,
    sesPort: 0,
    pollIntervalSeconds: config.pollIntervalSeconds,
    // VerifyNumbers' waits (the 2-minute answer window) at 1/100: the same calls and transitions, in less time.
    verificationTimeScale: 0.01,
    simulatorLatencyMs: config.twilioLatencyMs,
    simulatorLatencyJitterMs: config.twilioLatencyJitterMs,
    simulatorMaxConcurrentRequestsPerAccount: config.maxConcurrentRequestsPerAccount,
  });
  const counters = instruments.attach(stack);
  const sfn = sfnClient(stack);
  const meanLatencyMs = config.twilioLatencyMs + config.twilioLatencyJitterMs / 2;
  const c = config.maxConcurrentRequestsPerAccount;
  const n = config.phoneNumbers;
  const deadline = Date.now() + config.timeoutSeconds * 1000;
  const left = () => Math.max(1000, deadline - Date.now());
  try {
    const account = new BenchAccount(stack);
    await account.connect();
    const numbers = localNumbers(n, 7);
    const phase = (from: CounterSnapshot, seconds: number, floorCalls: Record<string, number>): PhaseFigures => {
      const d = difference(snapshot(counters), from);
      return {
        seconds: round(seconds, 2),
        floorCalls,
        floorSeconds: round(
          floorSeconds(
            Object.values(floorCalls).map((calls) => ({ calls })),
            c,
            meanLatencyMs,
          ),
          2,
        ),
        twilioCalls: nonZero(d.twilio),
        twilioStatuses: nonZero(d.twilioStatuses),
        invocations: nonZero(d.invocations),
        handlerMs: Object.fromEntries(Object.entries(nonZero(d.handlerMs)).map(([k, v]) => [k, round(v, 0)])),
      };
    };

    // Split: the order call. The gateway answers 504 after 29 s while the function goes on, as in AWS: then the
    // phase ends when the port request exists.
    const beforeSplit = snapshot(counters);
    const t0 = performance.now();
    const answer = await account.api.post<{ portRequests?: Array<{ portRequestId: string }> }>(
      `${account.base}/port-orders`,
      {
        losingCarriers: [
          {
            name: 'Carrier 1',
            customerType: 'Business',
            customerName: 'Acme Plumbing LLC',
            accountNumber: '5551234',
            authorizedRepresentative: 'Jane Doe',
            authorizedRepresentativeEmail: 'jane@acme.example',
            address: { street: '1 Main St', city: 'San Francisco', state: 'CA', zip: '94105', country: 'US' },
            utilityBillDocumentSid: account.documentSid,
            phoneNumbers: numbers,
          },
        ],
        notificationEmails: [account.owner],
        attestations: { currentServiceActiveAndPaid: true, keepCurrentServiceUntilComplete: true },
      },
      { 'Idempotency-Key': `bench-import-order-${Date.now()}` },
    );
    let portRequestId = answer.body.portRequests?.[0]?.portRequestId;
    if (!portRequestId) {
      portRequestId = await waitUntil(
        async () => {
          const list = await account.api.get<{ items: Array<{ portRequestId: string }> }>(
            `${account.base}/port-requests`,
          );
          return list.body.items[0]?.portRequestId;
        },
        `the port request (the order answered ${answer.status})`,
        left(),
        250,
      );
    }
    const t1 = performance.now();
    const split = phase(beforeSplit, (t1 - t0) / 1000, { portabilityLookUps: n });

    // Submit: until the Port In request exists at Twilio (watched on the simulator's control route, not counted).
    const beforeSubmit = snapshot(counters);
    const sid = await waitUntil(
      async () => {
        const portIns = (await (
          await fetch(`${stack.urls.twilio}/_sim/port-ins?accountSid=${account.accountSid}`)
        ).json()) as Array<{ sid: string }>;
        return portIns[0]?.sid;
      },
      'the Port In request at Twilio',
      left(),
      20,
    );
    const t2 = performance.now();
    const submit = phase(beforeSubmit, (t2 - t1) / 1000, { createPortIn: Math.ceil(n / 1000) });

    // The workflow settles into waiting for Twilio (its task token stored), as a port does for weeks.
    const executionArn = await waitUntil(
      async () => {
        const execution = (await listExecutions(sfn, stack.stateMachineArn)).find((e) => e.name === portRequestId);
        if (!execution) return undefined;
        const history = await executionHistory(sfn, execution.arn);
        return history.some((h) => h.type === 'TaskSubmitted') ? execution.arn : undefined;
      },
      'the workflow to wait for Twilio',
      left(),
      100,
    );
    await sleep(500);

    // Import: Twilio completes the port (request and number webhooks) → sync → ImportNumbers.
    const beforeImport = snapshot(counters);
    const t3 = performance.now();
    await account.setTwilioStatus(sid, { status: 'Completed' });
    const done = await waitUntil(
      async () => {
        const pr = await account.portRequest(portRequestId as string);
        return pr.phoneNumbers.every((p) => p.imported) ? pr : undefined;
      },
      'every number imported',
      left(),
      // Each read of a 1,000-number port request takes the stack's time too: not more than once a second.
      1000,
    );
    const t4 = performance.now();
    const imported = phase(beforeImport, (t4 - t3) / 1000, {
      listIncomingPhoneNumbers: Math.ceil(n / 1000),
      updateVoiceUrl: n,
    });
    const status = await waitUntil(
      async () => {
        const e = (await listExecutions(sfn, stack.stateMachineArn)).find((x) => x.arn === executionArn);
        return e && e.status !== 'RUNNING' ? e.status : undefined;
      },
      'the execution to end',
      left(),
      100,
    );

    const totalSeconds = split.seconds + submit.seconds + imported.seconds;
    const floor = split.floorSeconds + submit.floorSeconds + imported.floorSeconds;
    return {
      config,
      meanLatencyMs,
      orderAnswer: answer.status,
      split,
      submit,
      import: imported,
      totalSeconds: round(totalSeconds, 2),
      floorSeconds: round(floor, 2),
      ratio: round(totalSeconds / floor, 2),
      maxTwilioInFlight: counters.twilioInFlight.max,
      imported: done.phoneNumbers.filter((p) => p.imported).length,
      executionStatus: status,
      longestInvocationMs: Object.fromEntries(
        Object.entries(counters.timings.byModule).map(([k, v]) => [k, round(Math.max(0, ...v), 0)]),
      ),
    };
  } finally {
    sfn.destroy();
    await counters.close();
    await stack.stop();
  }
}

function nonZero(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== 0));
}

if (require.main === module) scenarioMain(main);
