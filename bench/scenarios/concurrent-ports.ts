import '../../local/polyfills';
import { startLocalStack } from '../../local/stack';
import { scenarioMain } from '../lib/child';
import { BenchAccount, localNumbers } from '../lib/driver';
import { percentile, round, sleep } from '../lib/stats';
import { executionHistory, listExecutions, sfnClient } from '../lib/workflow';

/**
 * Item 5: many port requests at once through the local stack, each to completion (ported, imported, "safe to
 * cancel"), with the simulator walking every port-in through its statuses by itself. Port requests come as
 * orders of `carriersPerOrder` losing carriers (one port request, one execution each) from `accounts` accounts,
 * all orders sent at once. Wall time runs from the first order to the last execution's end; RSS is sampled in
 * this process, which holds the whole stack (and the bench's own client).
 */

export interface ConcurrentPortsConfig {
  readonly accounts: number;
  readonly carriersPerOrder: number;
  readonly simulatorStepMs: number;
  readonly pollIntervalSeconds: number;
  readonly timeoutSeconds: number;
  /** How long a client retries an order answered 503, 504 or 409 (in progress), as the main product would. */
  readonly orderRetryForSeconds: number;
}

export interface ConcurrentPortsResult {
  readonly config: ConcurrentPortsConfig;
  readonly portRequests: number;
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
  readonly rssMb: { readonly afterStart: number; readonly peak: number };
}

async function main(config: ConcurrentPortsConfig): Promise<ConcurrentPortsResult> {
  const stack = await startLocalStack({
    apiPort: 0,
    twilioPort: 0,
    sesPort: 0,
    pollIntervalSeconds: config.pollIntervalSeconds,
    simulatorAutoAdvance: true,
    simulatorStepMs: config.simulatorStepMs,
  });
  const sfn = sfnClient(stack);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  try {
    const accounts = Array.from({ length: config.accounts }, () => new BenchAccount(stack));
    for (let i = 0; i < accounts.length; i += 10) await Promise.all(accounts.slice(i, i + 10).map((a) => a.connect()));
    const afterStart = process.memoryUsage().rss;
    peakRss = afterStart;

    const started = Date.now();
    const latencies: number[] = [];
    const orderErrors: Record<string, number> = {};
    const orderRetries = { count: 0 };
    await Promise.all(
      accounts.map(async (account, i) => {
        const numbers = localNumbers(config.carriersPerOrder, 10 + i);
        const sent = performance.now();
        try {
          await account.order(
            numbers.map((n) => [n]),
            { retryForMs: config.orderRetryForSeconds * 1000, retries: orderRetries },
          );
          latencies.push(performance.now() - sent);
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
    const expected = config.accounts * config.carriersPerOrder;

    console.log(`orders answered in ${ordersSeconds} s (${JSON.stringify(orderErrors)} errors)`);
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
        const rss = Math.round(process.memoryUsage().rss / 1e6);
        console.log(`${Math.round((finishedAt - started) / 1000)} s: ${JSON.stringify(statuses)}, RSS ${rss} MB`);
      }
      if (statuses.running === 0 && statuses.succeeded + statuses.failed >= expected) break;
      if (Date.now() > deadline) break;
      // Listing 1,000 executions is work for the stack too: once a second.
      await sleep(1000);
    }
    const wallSeconds = (finishedAt - started) / 1000;
    const finished = statuses.running === 0 && statuses.succeeded + statuses.failed >= expected;

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
    if (finished) {
      for (const account of accounts) {
        const list = await account.api.get<{ items: Array<{ safeToCancelOldService: boolean }> }>(
          `${account.base}/port-requests?limit=100`,
        );
        safeToCancel += list.body.items.filter((pr) => pr.safeToCancelOldService).length;
      }
    }
    return {
      config,
      portRequests: expected,
      finished,
      ...statuses,
      wallSeconds: round(wallSeconds, 1),
      ordersSeconds: round(ordersSeconds, 1),
      orderLatencyMs: { p50: round(percentile(latencies, 50), 0), p99: round(percentile(latencies, 99), 0) },
      orderErrors,
      orderRetries: orderRetries.count,
      failures,
      safeToCancel,
      rssMb: { afterStart: round(afterStart / 1e6, 0), peak: round(peakRss / 1e6, 0) },
    };
  } finally {
    clearInterval(sampler);
    sfn.destroy();
    await stack.stop();
  }
}

if (require.main === module) scenarioMain(main);
