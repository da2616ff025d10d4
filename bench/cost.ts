import { PRICES, TWILIO_VOICE_PRICES } from './pricing';
import type { PortCostResult } from './scenarios/port-cost';

/**
 * The AWS cost of one port at the default cadence, from what a compressed local run did (bench/scenarios/port-cost.ts).
 *
 * Scaling. The local run compresses time by `speedUp` (poll interval 6 h → 1 s, reminders 3 days → 12 s), so its
 * 21 "days" take 84 s and every timed event (polls, reminders, Twilio's changes) happens at the same point of the
 * port's life as at the real cadence. What the compression cannot keep is the time the work itself takes: a poll
 * cycle lasts 1 s plus its Lambda calls, so the run does somewhat fewer polls than 84. The count is corrected: the
 * polls the real cadence would do (one per poll interval over the days, less the waits a webhook ended early) minus
 * the polls the run did, each costed as one poll of the run's quiet stretch (after the FOC date, before completion,
 * when nothing but polls and reminders happen): its transitions, invocations, handler time and DynamoDB units (the
 * stretch's reminders are spread over its polls, a slight overestimate). At the real
 * cadence, invocations hours apart never find a warm Lambda: every invocation more than 10 (scaled) minutes after the
 * previous one of the same function pays a cold start, billed (since August 2025 Lambda bills the INIT phase) at the
 * init time the bundles scenario measured for that function.
 */

export interface FunctionFacts {
  /** Handler module name (`sync-port-status`). */
  readonly module: string;
  readonly memoryMb: number;
  /** Measured cold init of its bundle (ms); undefined when the bundles scenario did not run. */
  readonly initMs: number | undefined;
}

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

export interface PortCost {
  readonly lines: CostLine[];
  readonly totalUsd: number;
  readonly scaling: {
    readonly speedUp: number;
    readonly pollsInRun: number;
    readonly pollsAtDefaultCadence: number;
    readonly extraPolls: number;
    readonly perPoll: { transitions: number; invocations: number; billedMs: number; rru: number; wru: number };
  };
  readonly initIncluded: boolean;
}

export interface PollerCost {
  readonly invocations: number;
  readonly perInvocationMs: number;
  readonly lines: CostLine[];
  readonly totalUsd: number;
}

const gbSeconds = (ms: number, memoryMb: number) => (ms / 1000) * (memoryMb / 1024);

export function portCost(run: PortCostResult, functions: readonly FunctionFacts[]): PortCost {
  const speedUp = run.config.scaledPollSeconds / run.config.pollIntervalSeconds;
  const facts = new Map(functions.map((f) => [f.module, f]));
  const memoryOf = (module: string) => facts.get(module)?.memoryMb ?? 256;
  const initOf = (module: string) => facts.get(module)?.initMs ?? 0;

  const pollsInRun = run.history.waitTimeouts;
  const pollsAtDefaultCadence = Math.max(
    pollsInRun,
    Math.floor((run.config.days * 86_400) / run.config.scaledPollSeconds) - run.history.waitWakes,
  );
  const extraPolls = pollsAtDefaultCadence - pollsInRun;
  const quiet = run.quietWindow;
  const per = (value: number) => (quiet.polls > 0 ? value / quiet.polls : 0);
  const perPollInvocations: Record<string, number> = {};
  const perPollBilledMs: Record<string, number> = {};
  for (const [module, n] of Object.entries(quiet.counters.invocations)) perPollInvocations[module] = per(n);
  for (const [module, ms] of Object.entries(quiet.counters.billedMs)) perPollBilledMs[module] = per(ms);

  const transitions = run.history.statesEntered + run.history.retries + extraPolls * per(quiet.transitions);
  const invocationsByModule: Record<string, number> = {};
  let gbs = 0;
  for (const [module, n] of Object.entries(run.totals.invocations)) {
    const extra = extraPolls * (perPollInvocations[module] ?? 0);
    invocationsByModule[module] = n + extra;
    const billedMs = (run.totals.billedMs[module] ?? 0) + extraPolls * (perPollBilledMs[module] ?? 0);
    // Every polled invocation is hours from the previous one: cold, like those the run counted as cold.
    const coldStarts = (run.coldStarts[module] ?? 0) + extra;
    gbs += gbSeconds(billedMs + coldStarts * initOf(module), memoryOf(module));
  }
  const invocations = Object.values(invocationsByModule).reduce((a, b) => a + b, 0);
  const rru = run.totals.dynamo.readRequestUnits + extraPolls * per(quiet.counters.dynamo.readRequestUnits);
  const wru = run.totals.dynamo.writeRequestUnits + extraPolls * per(quiet.counters.dynamo.writeRequestUnits);
  const secretsCalls =
    Object.values(run.totals.secretsManager).reduce((a, b) => a + b, 0) +
    extraPolls * per(Object.values(quiet.counters.secretsManager).reduce((a, b) => a + b, 0));
  const apiRequests = run.apiRequests.product + run.apiRequests.webhookPosts;

  const lines: CostLine[] = [
    line('Step Functions state transitions', transitions, 'transitions', PRICES.stepFunctionsStandardPerTransition),
    line('Lambda requests', invocations, 'invocations', PRICES.lambdaPerRequest),
    line('Lambda duration (arm64, with cold inits)', gbs, 'GB-s', PRICES.lambdaArmPerGbSecond),
    line('DynamoDB writes', wru, 'WRU', PRICES.dynamoDbPerWriteRequestUnit),
    line('DynamoDB reads', rru, 'RRU', PRICES.dynamoDbPerReadRequestUnit),
    line('SES emails', run.emails, 'emails', PRICES.sesPerEmail),
    line('API Gateway requests (product API + webhooks)', apiRequests, 'requests', PRICES.apiGatewayRestPerRequest),
    line('Secrets Manager calls', secretsCalls, 'calls', PRICES.secretsManagerPerApiCall),
  ];
  return {
    lines,
    totalUsd: lines.reduce((total, l) => total + l.usd, 0),
    scaling: {
      speedUp,
      pollsInRun,
      pollsAtDefaultCadence,
      extraPolls,
      perPoll: {
        transitions: per(quiet.transitions),
        invocations: Object.values(perPollInvocations).reduce((a, b) => a + b, 0),
        billedMs: Object.values(perPollBilledMs).reduce((a, b) => a + b, 0),
        rru: per(quiet.counters.dynamo.readRequestUnits),
        wru: per(quiet.counters.dynamo.writeRequestUnits),
      },
    },
    initIncluded: functions.every((f) => f.initMs !== undefined),
  };
}

/** Polls a port needs when it is checked every 5 minutes for its whole life. */
const pollsEvery5Minutes = (days: number) => Math.floor((days * 86_400) / 300);

/**
 * The same port done by a naive poller: the same Step Functions Standard workflow, but without Twilio's webhooks
 * and task tokens, reading Twilio every 5 minutes for the port's 21 days (a Wait state, the SyncPortStatus Lambda,
 * a Choice: 3 state transitions a poll). Each poll is costed favourably to the poller: a Wait state instead of our
 * callback task, one warm Lambda invocation as long as the run's median SyncPortStatus (same Twilio read at the same
 * simulated latency, same item, same memory), one DynamoDB read and one write of 1 KB; none of the port's other
 * work (submission, emails, import) is counted for it but the same emails and API requests. 6,048 polls also
 * overflow Step Functions' 25,000-event history, which would cost it extra executions: not counted either.
 */
export function naivePollerCost(run: PortCostResult, syncMemoryMb: number): PollerCost {
  const invocations = pollsEvery5Minutes(run.config.days);
  const perInvocationMs = Math.ceil(run.syncPortStatusMedianMs);
  const lines: CostLine[] = [
    line(
      'Step Functions state transitions (Wait, Sync, Choice)',
      invocations * 3,
      'transitions',
      PRICES.stepFunctionsStandardPerTransition,
    ),
    ...bareLambdaPollerLines(run, syncMemoryMb),
  ];
  return { invocations, perInvocationMs, lines, totalUsd: lines.reduce((total, l) => total + l.usd, 0) };
}

/**
 * A poller with no workflow at all, for comparison: an EventBridge schedule (free) runs a Lambda every 5 minutes
 * that reads Twilio and writes the status, with the same emails and product API requests. It has none of what the
 * workflow gives (a durable per-port state machine with retries, catches and an execution history, webhooks acted
 * on in seconds instead of up to 5 minutes later), so it is a floor, not the design the goal compares against.
 */
export function bareLambdaPollerCost(run: PortCostResult, syncMemoryMb: number): PollerCost {
  const lines = bareLambdaPollerLines(run, syncMemoryMb);
  return {
    invocations: pollsEvery5Minutes(run.config.days),
    perInvocationMs: Math.ceil(run.syncPortStatusMedianMs),
    lines,
    totalUsd: lines.reduce((total, l) => total + l.usd, 0),
  };
}

function bareLambdaPollerLines(run: PortCostResult, syncMemoryMb: number): CostLine[] {
  const invocations = pollsEvery5Minutes(run.config.days);
  const perInvocationMs = Math.ceil(run.syncPortStatusMedianMs);
  return [
    line('Lambda requests', invocations, 'invocations', PRICES.lambdaPerRequest),
    line(
      'Lambda duration (arm64, warm)',
      invocations * gbSeconds(perInvocationMs, syncMemoryMb),
      'GB-s',
      PRICES.lambdaArmPerGbSecond,
    ),
    line('DynamoDB writes (1 KB item)', invocations, 'WRU', PRICES.dynamoDbPerWriteRequestUnit),
    line('DynamoDB reads (1 KB item)', invocations, 'RRU', PRICES.dynamoDbPerReadRequestUnit),
    line('SES emails', run.emails, 'emails', PRICES.sesPerEmail),
    line('API Gateway requests (product API)', run.apiRequests.product, 'requests', PRICES.apiGatewayRestPerRequest),
  ];
}

function line(item: string, quantity: number, unit: string, price: number): CostLine {
  return { item, quantity: Math.round(quantity * 1000) / 1000, unit, usd: quantity * price };
}

/** What Twilio charges the customer's account for the port's verification test calls (not part of the AWS cost). */
export interface TestCallCost {
  readonly lines: CostLine[];
  readonly totalUsd: number;
}

export function testCallCost(run: PortCostResult): TestCallCost {
  const { outbound, inboundLocal, inboundTollFree } = run.testCalls;
  const lines: CostLine[] = [
    {
      item: 'Twilio: test calls, outbound legs',
      quantity: outbound.minutes,
      unit: `min (${outbound.calls} calls)`,
      usd: outbound.minutes * TWILIO_VOICE_PRICES.outboundPerMinute,
    },
    {
      item: 'Twilio: test calls, inbound legs to local numbers',
      quantity: inboundLocal.minutes,
      unit: `min (${inboundLocal.calls} calls)`,
      usd: inboundLocal.minutes * TWILIO_VOICE_PRICES.inboundLocalPerMinute,
    },
  ];
  if (inboundTollFree.calls > 0) {
    lines.push({
      item: 'Twilio: test calls, inbound legs to toll-free numbers',
      quantity: inboundTollFree.minutes,
      unit: `min (${inboundTollFree.calls} calls)`,
      usd: inboundTollFree.minutes * TWILIO_VOICE_PRICES.inboundTollFreePerMinute,
    });
  }
  return { lines, totalUsd: lines.reduce((total, line) => total + line.usd, 0) };
}
