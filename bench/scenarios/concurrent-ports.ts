import '../../local/polyfills';
import { startLocalStack } from '../../local/stack';
import { scenarioMain } from '../lib/child';
import { BenchAccount, localNumbers, sesEmails } from '../lib/driver';
import { processTreeRssBytes } from '../lib/process-tree';
import { percentile, round, sleep } from '../lib/stats';
import { executionHistory, listExecutions, sfnClient } from '../lib/workflow';

/**
 * Many port requests at once through the local stack, each to completion (ported, imported, "safe to cancel"),
 * with the simulator walking every port-in through its statuses by itself. Port requests come as orders of
 * `carriersPerOrder` losing carriers (one port request, one execution each) from `accounts` accounts, all orders
 * sent at once. Wall time runs from the first order to the last execution's end; memory is the RSS summed over
 * this process (the stand-ins and the bench's client) and every Lambda instance it forked.
 *
 * With `outage`, once every order is accepted Twilio answers 503 to every call for that much simulated time (the
 * wall time is it × `retryIntervalScale`, the factor the state machine's retry waits are scaled by). With
 * `crashEveryMs`, a random function instance is SIGKILLed that often until every port is done. Either way the
 * figures that matter are FAILED (none), emails sent twice (per recipient and subject, from the SES store: one
 * port request per carrier of an order, the carrier in the subject) and numbers imported twice (NUMBERS_IMPORTED
 * events per port request).
 */

export interface ConcurrentPortsConfig {
  readonly accounts: number;
  readonly carriersPerOrder: number;
  readonly simulatorStepMs: number;
  readonly pollIntervalSeconds: number;
  readonly timeoutSeconds: number;
  /** How long a client retries an order answered 503, 504 or 409 (in progress), as the main product would. */
  readonly orderRetryForSeconds: number;
  /** Scales the state machine's retry waits (and the outage's wall time). @default 1 */
  readonly retryIntervalScale?: number;
  /** Twilio answering 503 to every call for this many simulated seconds, from when every order is accepted. */
  readonly outage?: { readonly simulatedSeconds: number };
  /** SIGKILL a random function instance this often while the ports run. */
  readonly crashEveryMs?: number;
}

export interface ConcurrentPortsResult {
  readonly config: ConcurrentPortsConfig;
  readonly portRequests: number;
  /** Port requests of the orders answered 202. */
  readonly accepted: number;
  readonly finished: boolean;
  readonly succeeded: number;
  readonly failed: number;
  readonly running: number;
  readonly wallSeconds: number;
  readonly ordersSeconds: number;
  readonly orderLatencyMs: { readonly p50: number; readonly p99: number };
  /** Orders not answered 202, by what the client saw (the work may still have been done: see `succeeded`). */
  readonly orderErrors: Record<string, number>;
  /** Order calls retried (same Idempotency-Key) after a 503, 504 or 409. */
  readonly orderRetries: number;
  /** The error and cause of (up to 20) failed executions. */
  readonly failures: Record<string, number>;
  readonly safeToCancel: number;
  /** RSS summed over the stack's process and every function instance. */
  readonly memoryMb: { readonly afterStart: number; readonly peak: number };
  /** Cold starts and invocations per function. */
  readonly lambdas: Record<
    string,
    { readonly coldStarts: number; readonly invocations: number; readonly errors: number }
  >;
  /** (recipient, subject) pairs SES got more than once, summed over the extra copies. */
  readonly duplicateEmails: number;
  readonly emailsSent: number;
  /** Port requests whose numbers were imported more than once (NUMBERS_IMPORTED events beyond the first). */
  readonly duplicateImports: number;
  /** The outage's wall time, when there was one. */
  readonly outageWallSeconds?: number;
  /** Instances SIGKILLed, when crashing. */
  readonly kills?: number;
}

const OUTAGE_OPERATIONS = [
  'createPortIn',
  'fetchPortIn',
  'fetchPortability',
  'listIncomingPhoneNumbers',
  'fetchIncomingPhoneNumber',
  'updateIncomingPhoneNumber',
  'listPortIns',
  'fetchPortInPhoneNumber',
] as const;

async function setOutage(twilioUrl: string, on: boolean): Promise<void> {
  if (!on) {
    const response = await fetch(`${twilioUrl}/_sim/faults`, { method: 'DELETE' });
    if (response.status !== 204) throw new Error(`DELETE /_sim/faults answered ${response.status}`);
    return;
  }
  for (const operation of OUTAGE_OPERATIONS) {
    const response = await fetch(`${twilioUrl}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation, status: 503, times: 1_000_000 }),
    });
    if (response.status !== 201) throw new Error(`POST /_sim/faults answered ${response.status}`);
  }
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function eachLimited<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next] as T;
        next += 1;
        await work(item);
      }
    }),
  );
}

async function main(config: ConcurrentPortsConfig): Promise<ConcurrentPortsResult> {
  const stack = await startLocalStack({
    apiPort: 0,
    twilioPort: 0,
    sesPort: 0,
    pollIntervalSeconds: config.pollIntervalSeconds,
    // VerifyNumbers' waits (the 2-minute answer window) at 1/100: the same calls and transitions, in less time.
    verificationTimeScale: 0.01,
    simulatorAutoAdvance: true,
    simulatorStepMs: config.simulatorStepMs,
    ...(config.retryIntervalScale !== undefined ? { retryIntervalScale: config.retryIntervalScale } : {}),
  });
  const sfn = sfnClient(stack);
  let peakRss = processTreeRssBytes();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, processTreeRssBytes());
  }, 500);
  let crasher: NodeJS.Timeout | undefined;
  let kills = 0;
  try {
    const accounts = Array.from({ length: config.accounts }, () => new BenchAccount(stack));
    for (let i = 0; i < accounts.length; i += 10) await Promise.all(accounts.slice(i, i + 10).map((a) => a.connect()));
    const afterStart = processTreeRssBytes();
    peakRss = afterStart;
    if (config.crashEveryMs) {
      crasher = setInterval(() => {
        if (stack.lambdaFaults.killRandomInstance()) kills += 1;
      }, config.crashEveryMs);
    }

    const started = Date.now();
    const latencies: number[] = [];
    const orderErrors: Record<string, number> = {};
    const orderRetries = { count: 0 };
    const accepted = { count: 0 };
    await Promise.all(
      accounts.map(async (account, i) => {
        const numbers = localNumbers(config.carriersPerOrder, 10 + i);
        const sent = performance.now();
        try {
          const ids = await account.order(
            numbers.map((n) => [n]),
            { retryForMs: config.orderRetryForSeconds * 1000, retries: orderRetries },
          );
          latencies.push(performance.now() - sent);
          accepted.count += ids.length;
        } catch (error) {
          const what = String(error)
            .replace(/^Error: order a port: /, '')
            .slice(0, 160);
          orderErrors[what] = (orderErrors[what] ?? 0) + 1;
        }
      }),
    );
    const ordersSeconds = (Date.now() - started) / 1000;
    // Every order is expected to make its port requests, even one whose answer the client did not get (a 504
    // from the gateway's 29 s limit leaves the function running to the end, as in AWS).
    // The executions to wait for: those of the orders answered 202 (an order the client gave up on is counted in
    // orderErrors, and fails the run's goal).
    const expected = accepted.count;

    console.log(`orders answered in ${ordersSeconds} s (${JSON.stringify(orderErrors)} errors)`);
    let outageWallSeconds: number | undefined;
    let outageEnds: Promise<void> | undefined;
    if (config.outage) {
      outageWallSeconds = config.outage.simulatedSeconds * (config.retryIntervalScale ?? 1);
      await setOutage(stack.urls.twilio, true);
      console.log(
        `Twilio answers 503 to everything for ${outageWallSeconds} s (${config.outage.simulatedSeconds} s simulated)`,
      );
      outageEnds = sleep(outageWallSeconds * 1000).then(async () => {
        await setOutage(stack.urls.twilio, false);
        console.log('Twilio is back');
      });
    }
    let statuses = { succeeded: 0, failed: 0, running: 0 };
    const deadline = started + config.timeoutSeconds * 1000;
    let finishedAt = Date.now();
    let lastReport = Date.now();
    for (;;) {
      const executions = await listExecutions(sfn, stack.stateMachineArn);
      statuses = {
        succeeded: executions.filter((e) => e.status === 'SUCCEEDED').length,
        failed: executions.filter((e) => e.status !== 'SUCCEEDED' && e.status !== 'RUNNING').length,
        running: executions.filter((e) => e.status === 'RUNNING').length,
      };
      finishedAt = Date.now();
      if (finishedAt - lastReport > 15_000) {
        lastReport = finishedAt;
        const rss = Math.round(processTreeRssBytes() / 1e6);
        console.log(`${Math.round((finishedAt - started) / 1000)} s: ${JSON.stringify(statuses)}, RSS ${rss} MB`);
      }
      if (statuses.running === 0 && statuses.succeeded + statuses.failed >= expected) break;
      if (Date.now() > deadline) break;
      // Listing 1,000 executions is work for the stack too: once a second.
      await sleep(1000);
    }
    const wallSeconds = (finishedAt - started) / 1000;
    const finished = statuses.running === 0 && statuses.succeeded + statuses.failed >= expected;
    if (crasher) clearInterval(crasher);
    await outageEnds;

    // Why executions failed: the error and cause of the first few.
    const failures: Record<string, number> = {};
    const failedArns = (await listExecutions(sfn, stack.stateMachineArn))
      .filter((e) => e.status !== 'SUCCEEDED' && e.status !== 'RUNNING')
      .slice(0, 20);
    for (const e of failedArns) {
      const history = await executionHistory(sfn, e.arn);
      // The first step that failed (a Task or Lambda failure event) tells why; the execution's own error follows.
      const step = history.find((h) => h.type !== 'ExecutionFailed' && (h.type ?? '').endsWith('Failed'));
      const details = (
        step ? Object.values(step).find((v) => v && typeof v === 'object' && 'error' in v) : undefined
      ) as { error?: string; cause?: string } | undefined;
      const failed = history.find((h) => h.type === 'ExecutionFailed')?.executionFailedEventDetails;
      const key = `${step?.type ?? ''} ${details?.error ?? ''}: ${(details?.cause ?? '').slice(0, 200)} → ${failed?.error ?? e.status}`;
      failures[key] = (failures[key] ?? 0) + 1;
    }

    // "Safe to cancel" as the API answers it, for every port request (read after the clock stopped).
    let safeToCancel = 0;
    for (const account of accounts) {
      const list = await account.api.get<{ items: Array<{ safeToCancelOldService: boolean }> }>(
        `${account.base}/port-requests?limit=100`,
      );
      safeToCancel += list.body.items.filter((pr) => pr.safeToCancelOldService).length;
    }
    // Nothing twice: each (recipient, subject) once in SES; each port request's numbers imported once.
    const emails = await sesEmails(stack);
    const seen = new Map<string, number>();
    for (const email of emails) {
      const key = `${[...email.destination.to].sort().join(',')} ${email.subject}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    const duplicateEmails = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0);
    let duplicateImports = 0;
    const portRequestsOf = await Promise.all(
      accounts.map(async (account) => {
        const list = await account.api.get<{ items: Array<{ portRequestId: string }> }>(
          `${account.base}/port-requests?limit=100`,
        );
        return list.body.items.map((pr) => ({ account, portRequestId: pr.portRequestId }));
      }),
    );
    await eachLimited(portRequestsOf.flat(), 10, async ({ account, portRequestId }) => {
      const events = await account.api.get<{ items: Array<{ type: string }> }>(
        `${account.base}/port-requests/${portRequestId}/events`,
      );
      const imports = (events.body.items ?? []).filter((e) => e.type === 'NUMBERS_IMPORTED').length;
      if (imports > 1) duplicateImports += 1;
    });
    const lambdas = Object.fromEntries(
      Object.entries(stack.lambdaStats()).map(([name, stats]) => [
        name,
        { coldStarts: stats.coldStarts, invocations: stats.invocations, errors: stats.errors },
      ]),
    );

    return {
      config,
      portRequests: config.accounts * config.carriersPerOrder,
      accepted: accepted.count,
      finished,
      ...statuses,
      wallSeconds: round(wallSeconds, 1),
      ordersSeconds: round(ordersSeconds, 1),
      orderLatencyMs: { p50: round(percentile(latencies, 50), 0), p99: round(percentile(latencies, 99), 0) },
      orderErrors,
      orderRetries: orderRetries.count,
      failures,
      safeToCancel,
      memoryMb: { afterStart: round(afterStart / 1e6, 0), peak: round(peakRss / 1e6, 0) },
      lambdas,
      duplicateEmails,
      emailsSent: emails.length,
      duplicateImports,
      ...(outageWallSeconds !== undefined ? { outageWallSeconds } : {}),
      ...(config.crashEveryMs ? { kills } : {}),
    };
  } finally {
    clearInterval(sampler);
    if (crasher) clearInterval(crasher);
    sfn.destroy();
    await stack.stop();
  }
}

if (require.main === module) scenarioMain(main);
