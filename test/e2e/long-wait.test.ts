import { DescribeExecutionCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { Duration } from 'aws-cdk-lib';
import { DEFAULT_PORT_IN_CONFIG } from '../../lib/config';
import {
  EXECUTION_HISTORY_EVENT_LIMIT,
  HISTORY_EVENTS_PER_EMAIL_DELIVERY,
  HISTORY_EVENTS_PER_POLL_CYCLE,
  POLLING_HISTORY_BUDGET,
  PortWorkflowStates,
  pollingHistoryEvents,
} from '../../lib/constructs/workflow';
import { buildPortInApp } from '../../local/cloudformation/synthesize';
import { SignedApiClient } from '../../local/signed-api-client';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack, startLocalStack } from '../../local/stack';
import { eventually } from '../support/eventually';
import { attestations, losingCarrier, newAccount, utilityBillBase64 } from '../support/fixtures';
import {
  entriesOf,
  executionArnNamed,
  executionHistory,
  type LoopCycle,
  loopCycles,
} from '../support/workflow-history';

const DAY_SECONDS = 86_400;
/** How old the port in question is. */
const PORT_AGE_DAYS = 90;
/**
 * Webhook wakes allowed per day, each counted as a whole extra cycle. A port request sees a handful of
 * request-level webhooks in its life; per-number webhooks of a big port come in bursts, each burst costing a few
 * cycles (wakes during a cycle fold into one). Nothing in the code bounds them: this is an allowance, not a limit.
 */
const WAKES_PER_DAY = 4;
/** Retried step attempts allowed per day (Twilio hiccups, lost write races). */
const RETRIES_PER_DAY = 2;
/**
 * Poll cycles that owe an email and so go through DeliverEmails: a reminder at each configured reminder interval,
 * and status changes found by a poll rather than announced by a webhook (this many in the port's life; the wakes'
 * cycles are counted with their emails already). Polls between them owe nothing and cost no DeliverEmails.
 */
const POLL_FOUND_CHANGES = 10;
const EMAILING_POLLS =
  Math.ceil((PORT_AGE_DAYS * DAY_SECONDS) / DEFAULT_PORT_IN_CONFIG.reminderIntervalSeconds) + POLL_FOUND_CHANGES;
/**
 * "Far under" the limit: the projection, allowances included, leaves at least a fifth of the history spare (over
 * 250 more cycles). Polling alone may take half the limit (POLLING_HISTORY_BUDGET, the synth-time check), and 4
 * wakes a day for 90 days take another quarter: a bar at half the limit would fail even at the configured 6-hour
 * cadence.
 */
const MAX_SHARE_OF_LIMIT = 0.8;

/**
 * The fastest poll interval (whole seconds) the CDK app accepts for an execution timeout: the smallest that the
 * synth-time history check (`pollingHistoryEvents` against `POLLING_HISTORY_BUDGET`) lets through.
 */
function fastestAcceptedPollSeconds(executionTimeoutSeconds: number): number {
  const fits = (seconds: number) =>
    pollingHistoryEvents(Duration.seconds(seconds), Duration.seconds(executionTimeoutSeconds)) <=
    POLLING_HISTORY_BUDGET;
  let low = 1;
  let high = executionTimeoutSeconds;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (fits(mid)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * The cadences a 90-day port is projected at: the fastest the app accepts with the configured execution timeout,
 * the fastest it accepts with the shortest timeout a 90-day port survives (a shorter timeout allows faster polling:
 * the worst case), and, for comparison, the configured cadence.
 */
const CADENCES: ReadonlyArray<{ readonly name: string; readonly pollSeconds: number }> = [
  {
    name: `fastest with the configured ${DEFAULT_PORT_IN_CONFIG.workflowTimeoutSeconds / DAY_SECONDS}-day timeout`,
    pollSeconds: fastestAcceptedPollSeconds(DEFAULT_PORT_IN_CONFIG.workflowTimeoutSeconds),
  },
  {
    name: `fastest with a ${PORT_AGE_DAYS}-day timeout`,
    pollSeconds: fastestAcceptedPollSeconds(PORT_AGE_DAYS * DAY_SECONDS),
  },
  { name: 'configured', pollSeconds: DEFAULT_PORT_IN_CONFIG.pollIntervalSeconds },
];

describe('a port that waits for months', () => {
  it('takes the fastest cadence to be the synth-time check’s boundary: accepted there, refused a second faster', () => {
    // test/infra/port-in-stack.test.ts shows a far-off cadence (60 s) refused; this pins the boundary the
    // projection below uses.
    for (const workflowTimeoutSeconds of [DEFAULT_PORT_IN_CONFIG.workflowTimeoutSeconds, PORT_AGE_DAYS * DAY_SECONDS]) {
      const fastest = fastestAcceptedPollSeconds(workflowTimeoutSeconds);
      expect(() => buildPortInApp({ workflowTimeoutSeconds, pollIntervalSeconds: fastest })).not.toThrow();
      expect(() => buildPortInApp({ workflowTimeoutSeconds, pollIntervalSeconds: fastest - 1 })).toThrow(
        /history events/,
      );
    }
  });

  describe('on the local stack, from the execution history', () => {
    let stack: LocalStack;
    let api: SignedApiClient;
    let sfn: SFNClient;

    beforeAll(async () => {
      stack = await startLocalStack({
        apiPort: 0,
        twilioPort: 0,
        sesPort: 0,
        pollIntervalSeconds: 1,
        // Reminders fall due every few polls, to show that they cost DeliverEmails' events and nothing more, and that
        // the polls between them owe no email.
        reminderIntervalSeconds: 4,
        retryIntervalScale: 0.01,
        log: (line: string) => process.stdout.write(`${line}\n`),
      });
      api = new SignedApiClient(stack.urls.api, LOCAL_CREDENTIALS);
      sfn = new SFNClient({ endpoint: stack.urls.stepFunctions, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    }, 60000);

    afterAll(async () => {
      sfn?.destroy();
      await stack?.stop();
    });

    const sim = async (path: string, body: unknown) => {
      const response = await fetch(`${stack.urls.twilio}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBeLessThan(300);
    };
    const webhooksSentTo = async (accountSid: string): Promise<number> => {
      const log = (await (await fetch(`${stack.urls.twilio}/_sim/webhooks`)).json()) as Array<{
        accountSid: string;
        outcome: string;
      }>;
      return log.filter((w) => w.accountSid === accountSid && w.outcome !== 'dropped').length;
    };
    const reminderEmailsTo = async (to: string): Promise<number> => {
      const store = (await (await fetch(`${stack.urls.ses}/store`)).json()) as {
        emails: Array<{ subject: string; destination: { to: string[] } }>;
      };
      return store.emails.filter((e) => e.destination.to.includes(to) && e.subject.startsWith('Reminder')).length;
    };

    it('spends the same events on every quiet poll cycle (three states), DeliverEmails only when an email is owed; a 90-day port at the fastest cadence, with wakes and retries, leaves a fifth of the 25,000-event history spare', async () => {
      const { accountId, accountSid, authToken } = newAccount();
      const base = `/v1/accounts/${accountId}`;
      const owner = `owner-${accountId}@acme.example`;
      expect((await api.put(`${base}/twilio-connection`, { accountSid, authToken })).status).toBe(200);
      const bill = await api.post<{ documentSid: string }>(`${base}/documents`, {
        fileName: 'bill.pdf',
        contentType: 'application/pdf',
        contentBase64: utilityBillBase64,
      });
      expect(bill.status).toBe(201);
      const order = await api.post<{ portRequests: Array<{ portRequestId: string }> }>(
        `${base}/port-orders`,
        {
          losingCarriers: [losingCarrier('CallRail', bill.body.documentSid, ['(415) 555-0140'])],
          notificationEmails: [owner],
          attestations,
        },
        { 'Idempotency-Key': `key-${accountId}` },
      );
      expect(order.status).toBe(202);
      const portRequestId = order.body.portRequests[0]?.portRequestId as string;
      const prPath = `${base}/port-requests/${portRequestId}`;
      const portRequest = async () =>
        (await api.get<{ status: string; twilioPortInRequestSid: string | null }>(prPath)).body;

      const executionArn = await eventually(() => executionArnNamed(sfn, stack.stateMachineArn, portRequestId), {
        what: 'the port execution',
      });
      const history = () => executionHistory(sfn, executionArn);
      const cyclesAtLeast = (count: number, what: string) =>
        eventually(
          async () => {
            const events = await history();
            return loopCycles(events, PortWorkflowStates.WaitForPortUpdate).length >= count ? events : undefined;
          },
          { what },
        );

      const sid = (await eventually(async () => (await portRequest()).twilioPortInRequestSid ?? undefined)) as string;
      expect((await portRequest()).status).toBe('IN_REVIEW');

      // Twilio keeps the port In Review and sends nothing: the workflow polls, and reminders fall due meanwhile.
      await cyclesAtLeast(7, 'seven poll cycles without a webhook');
      await eventually(async () => ((await reminderEmailsTo(owner)) > 0 ? true : undefined), {
        what: 'a reminder email',
      });
      expect(await webhooksSentTo(accountSid)).toBe(0);

      // Twilio moves on but its webhook is lost: a poll finds the change (and mails the customer).
      await sim(`/_sim/port-ins/${sid}/status`, { status: 'Waiting for Signature', webhook: 'drop' });
      await eventually(async () => ((await portRequest()).status === 'WAITING_FOR_SIGNATURE' ? true : undefined), {
        what: 'a poll to find WAITING_FOR_SIGNATURE',
      });

      // Twilio answers one read with a 503: SyncPortStatus is retried within its cycle.
      await sim('/_sim/faults', { operation: 'fetchPortIn', status: 503, times: 1 });
      await eventually(
        async () => ((await history()).some((e) => e.type === 'LambdaFunctionFailed') ? true : undefined),
        {
          what: 'a retried SyncPortStatus',
        },
      );

      // Webhooks wake the workflow. One that comes in mid-cycle is seen by the next wait, which ends at once (this
      // happens to the first webhook: the webhook function's first load takes longer than the rest of the cycle).
      // One that comes while the workflow waits completes the wait: tried until seen, each time once it waits.
      await sim(`/_sim/port-ins/${sid}/status`, { status: 'In Progress' });
      let wokenWhileWaiting = false;
      for (let attempt = 1; attempt <= 5 && !wokenWhileWaiting; attempt += 1) {
        const waiting = await eventually(
          async () => {
            const events = await history();
            return events.at(-1)?.type === 'TaskSubmitted' ? events.length : undefined;
          },
          { what: 'the workflow to wait' },
        );
        await sim(`/_sim/port-ins/${sid}/status`, {
          phoneNumbers: { '+14155550140': { focDate: `2027-01-${String(10 + attempt)}` } },
        });
        const cycle = await eventually(
          async () =>
            loopCycles(await history(), PortWorkflowStates.WaitForPortUpdate).find(
              (c) => c.start < waiting && c.start + c.types.length >= waiting,
            ),
          { what: 'the cycle the webhook came in' },
        );
        wokenWhileWaiting = isWake(cycle) && cycle.types.includes('TaskSubmitted');
      }
      expect(wokenWhileWaiting).toBe(true);
      await sim(`/_sim/port-ins/${sid}/status`, { status: 'Completed' });
      await eventually(
        async () => {
          const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
          return status === 'SUCCEEDED' ? true : undefined;
        },
        { what: 'the execution to succeed', timeoutMs: 30000 },
      );

      const events = await history();
      // A quiet poll cycle is three states (three billed transitions); one that owes an email (the reminders that
      // fell due, the status change a poll found) also enters DeliverEmails.
      const polls = loopCycles(events, PortWorkflowStates.WaitForPortUpdate).filter(
        (c) => isPoll(c) && failures(c) === 0,
      );
      const S = PortWorkflowStates;
      const quiet = [S.WaitForPortUpdate, S.SyncPortStatus, S.IsPortFinished];
      const emailing = [...quiet, S.DeliverEmails];
      const pollShapes = polls.map((c) => statesEntered(events, c));
      expect(pollShapes.filter((states) => sameStates(states, quiet)).length).toBeGreaterThanOrEqual(3);
      expect(pollShapes.filter((states) => sameStates(states, emailing)).length).toBeGreaterThanOrEqual(1);
      expect(pollShapes.filter((states) => !sameStates(states, quiet) && !sameStates(states, emailing))).toEqual([]);
      // Each emailing poll sent something: the reminders and the poll-found status change are all there is to send.
      expect(pollShapes.filter((states) => sameStates(states, emailing)).length).toBeLessThanOrEqual(
        (await reminderEmailsTo(owner)) + 1,
      );
      const figures = measure(events);
      const projections = CADENCES.map((cadence) => ({ ...cadence, ...project(figures, cadence.pollSeconds) }));
      console.log(report(figures, projections));

      // The synth-time check must not count fewer events per cycle than a quiet cycle really adds, nor the
      // projection fewer than a cycle that mails the customer.
      expect(figures.perPollCycle).toBeLessThanOrEqual(HISTORY_EVENTS_PER_POLL_CYCLE);
      expect(figures.perEmailDelivery).toBeLessThanOrEqual(HISTORY_EVENTS_PER_EMAIL_DELIVERY);
      expect(figures.perWakeCycle).toBeLessThanOrEqual(
        HISTORY_EVENTS_PER_POLL_CYCLE + HISTORY_EVENTS_PER_EMAIL_DELIVERY,
      );
      for (const { total } of projections) {
        expect(total).toBeLessThan(EXECUTION_HISTORY_EVENT_LIMIT * MAX_SHARE_OF_LIMIT);
      }
    }, 90000);
  });
});

/**
 * How many times the cycle's WaitForPortUpdate ran (only the callback task records TaskScheduled). More than once is
 * the local engine's doing, not AWS's: under load, aws-local-stepfunctions can see the local task handler's
 * States.Timeout before its own and retries it as States.TaskFailed. Such cycles are left out of the figures.
 */
const waitAttempts = (cycle: LoopCycle) => cycle.types.filter((type) => type === 'TaskScheduled').length;
const isPoll = (cycle: LoopCycle) => cycle.types.includes('TaskTimedOut') && waitAttempts(cycle) === 1;
const isWake = (cycle: LoopCycle) =>
  !cycle.types.includes('TaskTimedOut') && cycle.types.includes('TaskSucceeded') && waitAttempts(cycle) === 1;
const failures = (cycle: LoopCycle) => cycle.types.filter((type) => type.endsWith('Failed')).length;
/** The names of the states a cycle entered, in order. */
const statesEntered = (events: readonly HistoryEvent[], cycle: LoopCycle): string[] =>
  events
    .slice(cycle.start, cycle.start + cycle.types.length)
    .filter((event) => event.type?.endsWith('StateEntered'))
    .map((event) => event.stateEnteredEventDetails?.name ?? '?');
const sameStates = (states: readonly string[], expected: readonly string[]) =>
  states.length === expected.length && states.every((state, i) => state === expected[i]);
const emails = (cycle: LoopCycle, events: readonly HistoryEvent[]) =>
  statesEntered(events, cycle).includes(PortWorkflowStates.DeliverEmails);

/**
 * A poll cycle as AWS records it: WaitForPortUpdate's function returns well before the poll timeout, so TaskSubmitted
 * is always there. The local engine records it only when the function's answer comes before the timeout, which a
 * loaded machine with the test's seconds-long cadence sometimes misses; the cycle is counted with it either way.
 */
function asInAws(cycle: LoopCycle): LoopCycle {
  const types = cycle.types.filter((type) => type !== 'TaskSubmitted');
  const started = types.indexOf('TaskStarted');
  return { ...cycle, types: [...types.slice(0, started + 1), 'TaskSubmitted', ...types.slice(started + 1)] };
}

/** What the history says each part of a port's life costs. */
interface Figures {
  /** Events before the loop: start, submission, first emails, the first IsPortFinished. */
  readonly head: number;
  readonly pollCycles: number;
  /** A poll cycle that owes no email (most of them). */
  readonly perPollCycle: number;
  /** What DeliverEmails adds to a poll cycle that owes an email. */
  readonly perEmailDelivery: number;
  /**
   * The lengths of the wake cycles seen: one woken while it waits has the poll cycle's events with TaskSucceeded
   * for TaskTimedOut; one whose wake came first ends before Lambda's answer is recorded (no TaskSubmitted).
   */
  readonly wakeCycleLengths: readonly number[];
  readonly perWakeCycle: number;
  /** Events one retried attempt adds to its cycle. */
  readonly perRetry: number;
  /** Events from the last entry of WaitForPortUpdate to the end: its wake, import, completion emails, success. */
  readonly tail: number;
  readonly total: number;
}

/** The one value all of `values` share, failing if they differ. */
function theOne(values: readonly (number | string)[], what: string): number | string {
  expect({ what, distinct: [...new Set(values)] }).toEqual({ what, distinct: [values[0]] });
  return values[0] as number | string;
}

function measure(events: readonly HistoryEvent[]): Figures {
  expect(events.at(-1)?.type).toBe('ExecutionSucceeded');
  const entries = entriesOf(events, PortWorkflowStates.WaitForPortUpdate);
  const cycles = loopCycles(events, PortWorkflowStates.WaitForPortUpdate);
  const polls = cycles.filter((c) => isPoll(c) && failures(c) === 0 && !emails(c, events)).map(asInAws);
  const emailingPolls = cycles.filter((c) => isPoll(c) && failures(c) === 0 && emails(c, events)).map(asInAws);
  const wakes = cycles.filter((c) => isWake(c) && failures(c) === 0);
  // A retried poll may owe an email too (a reminder fell due): its cost is then measured against an emailing poll.
  const retriedPolls = cycles
    .filter((c) => isPoll(c) && failures(c) > 0)
    .map((c) => ({ ...asInAws(c), emails: emails(c, events) }));
  expect(polls.length).toBeGreaterThanOrEqual(3);
  expect(emailingPolls.length).toBeGreaterThanOrEqual(1);
  expect(wakes.length).toBeGreaterThanOrEqual(1);
  expect(retriedPolls.length).toBeGreaterThanOrEqual(1);

  // Every clean poll cycle that owes no email is the same sequence of events, and so is every one that does: a
  // cycle costs the same on day 1 and on day 90, whether it found a change or not.
  theOne(
    polls.map((c) => c.types.join(' ')),
    'quiet poll cycle event sequences',
  );
  theOne(
    emailingPolls.map((c) => c.types.join(' ')),
    'emailing poll cycle event sequences',
  );
  const perPollCycle = polls[0]?.types.length as number;
  const perEmailDelivery = (emailingPolls[0]?.types.length as number) - perPollCycle;
  const perRetry = theOne(
    retriedPolls.map((c) => (c.types.length - perPollCycle - (c.emails ? perEmailDelivery : 0)) / failures(c)),
    'events per retried attempt',
  ) as number;
  const wakeCycleLengths = [...new Set(wakes.map((c) => c.types.length))].sort();
  return {
    head: entries[0] as number,
    pollCycles: polls.length,
    perPollCycle,
    perEmailDelivery,
    wakeCycleLengths,
    perWakeCycle: Math.max(...wakeCycleLengths),
    perRetry,
    tail: events.length - (entries.at(-1) as number),
    total: events.length,
  };
}

/** The history of a PORT_AGE_DAYS-old port polling every `pollSeconds`, with the allowances, that then completes. */
function project(figures: Figures, pollSeconds: number) {
  const pollCycles = Math.ceil((PORT_AGE_DAYS * DAY_SECONDS) / pollSeconds);
  const wakes = WAKES_PER_DAY * PORT_AGE_DAYS;
  const retries = RETRIES_PER_DAY * PORT_AGE_DAYS;
  const emailingPolls = EMAILING_POLLS;
  const polling = pollCycles * figures.perPollCycle;
  const total =
    figures.head +
    polling +
    emailingPolls * figures.perEmailDelivery +
    wakes * figures.perWakeCycle +
    retries * figures.perRetry +
    figures.tail;
  return { pollCycles, polling, emailingPolls, wakes, retries, total };
}

function report(
  figures: Figures,
  projections: ReadonlyArray<ReturnType<typeof project> & { name: string; pollSeconds: number }>,
) {
  const share = (events: number) => `${((100 * events) / EXECUTION_HISTORY_EVENT_LIMIT).toFixed(1)}%`;
  return [
    `Measured (local stack, ${figures.total} events, ${figures.pollCycles} clean quiet poll cycles):`,
    `  quiet poll cycle ${figures.perPollCycle} events (synth-time check assumes ${HISTORY_EVENTS_PER_POLL_CYCLE}), ` +
      `+${figures.perEmailDelivery} when it owes an email (DeliverEmails), ` +
      `wake cycle ${figures.wakeCycleLengths.join(' or ')}, retry +${figures.perRetry}, before the loop ${figures.head}, ` +
      `last wake to success ${figures.tail}`,
    ...projections.map(
      (p) =>
        `${PORT_AGE_DAYS}-day port at the ${p.name} cadence, every ${p.pollSeconds} s ` +
        `(${(p.pollSeconds / 3600).toFixed(2)} h) = ${p.pollCycles} poll cycles = ${p.polling} events (${share(p.polling)}); ` +
        `+ ${p.emailingPolls} emailing polls + ${p.wakes} wakes + ${p.retries} retries + start and completion = ${p.total} events, ` +
        `${share(p.total)} of ${EXECUTION_HISTORY_EVENT_LIMIT} (bar ${MAX_SHARE_OF_LIMIT * 100}%)`,
    ),
  ].join('\n');
}
