import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CrashPoints } from '../../lambdas/shared/crash-points';
import { HISTORY_EVENTS_PER_RETRY } from '../../lib/constructs/workflow';
import type { LocalStack } from '../../local/stack';
import { LOCAL_CREDENTIALS } from '../../local/stack';
import { eventually } from '../support/eventually';
import {
  armFault,
  attemptDurationsMs,
  entriesCount,
  outcomesOf,
  postOrder,
  type SimOperation,
} from '../support/faults';
import { CALL_ROUTER_URL, startTestStack, TestAccount } from '../support/harness';
import { countsOf, emailsOnce, incomingNumbers, Workflows } from '../support/paths';

// Twilio, SES and the workflow Lambdas failing, on the local stack (issue 5, item 1). Faults are global (the next N
// calls of an operation, from any account), so these tests run one at a time. A "no answer" fault (status 0) holds
// the call until the gateway gives up: TWILIO_TIMEOUT_MS is short here.

/** How long the Lambdas wait for Twilio in this file (the deployed default is 10 s). */
const TWILIO_TIMEOUT_MS = 1000;
/** A Twilio refusal (4xx other than 429) is final; 429, 5xx and no answer (0: a timeout) are transient. */
const TRANSIENT_STATUSES = [500, 503, 429, 0] as const;
/** Marks the "answers late" case of the table below (a delayMs fault, no error status). */
const LATE = -1;
const TRANSIENT = 'TwilioTransientError';

type SimPortIn = { sid: string; status: string };
const answerOf = (status: number) => (status === 0 ? 'nothing (a timeout)' : String(status));
const API_CASES = TRANSIENT_STATUSES.map((status) => ({ status, answer: answerOf(status) }));

/** Runs an API call; with a "no answer" fault it must last the gateway's timeout, not the API's 29 s. */
async function timed<T>(status: number, call: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const answer = await call();
  if (status === 0) {
    expect(Date.now() - started).toBeGreaterThanOrEqual(TWILIO_TIMEOUT_MS - 50);
    expect(Date.now() - started).toBeLessThan(TWILIO_TIMEOUT_MS + 5000);
  }
  return answer;
}
type ProblemBody = { type: string; title: string; status: number; detail: string };

let numberSeq = 0;
/** A fresh local number per port: the simulator refuses a number another open port-in holds. */
const nextNumber = () => `+1415555${String(300 + numberSeq++).padStart(4, '0')}`;
const newKey = () => `fault-${Math.random().toString(36).slice(2)}`;

describe('Twilio faults on the local stack', () => {
  let stack: LocalStack;
  let workflows: Workflows;

  beforeAll(async () => {
    stack = await startTestStack({ retryIntervalScale: 0.01, twilioTimeoutMs: TWILIO_TIMEOUT_MS });
    workflows = new Workflows(stack);
  }, 60000);

  afterAll(async () => {
    workflows?.destroy();
    await stack?.stop();
  });

  const portInsOf = (account: TestAccount) =>
    account.sim<SimPortIn[]>(`/_sim/port-ins?accountSid=${account.accountSid}`);

  /** A 503 problem+json that shows nothing of Twilio's answer nor of our internals. */
  const expectUnavailable = (answer: { status: number; headers: Headers; body: unknown }) => {
    expect(answer.status).toBe(503);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    const body = answer.body as ProblemBody;
    expect(body.status).toBe(503);
    expect(body.detail).toBe('A service we depend on did not answer; please retry.');
    expect(Object.keys(body).sort()).toEqual(['detail', 'status', 'title', 'type']);
    expect(JSON.stringify(body)).not.toMatch(
      /Simulated|Twilio|twilio|Error|\.ts|KW[0-9a-f]{32}|AC[0-9a-f]{32}|20\d{3}/,
    );
  };

  describe('workflow steps: transient failures are retried with backoff, then the port goes on', () => {
    type Case = { operation: SimOperation; state: string; armed: 'before the order' | 'while waiting' };
    const cases: Case[] = [
      { operation: 'createPortIn', state: 'SubmitPortIn', armed: 'before the order' },
      { operation: 'fetchPortIn', state: 'SyncPortStatus', armed: 'while waiting' },
      { operation: 'listIncomingPhoneNumbers', state: 'ImportNumbers', armed: 'while waiting' },
      { operation: 'updateIncomingPhoneNumber', state: 'ImportNumbers', armed: 'while waiting' },
    ];
    const table = [
      ...cases.flatMap((c) => TRANSIENT_STATUSES.map((status) => ({ ...c, status, answer: answerOf(status) }))),
      // A slow Twilio: the call is carried out but answered after the gateway gave up, then retried.
      // For createPortIn the retry's create is refused (22137: the lost answer's request holds the numbers), and
      // SubmitPortIn adopts that request instead of failing: still one Twilio port-in.
      ...cases.map((c) => ({ ...c, status: LATE, answer: `late (after ${TWILIO_TIMEOUT_MS} ms)` })),
    ];

    it.each(table)('$operation answering $answer twice ($state)', async ({ operation, state, armed, status }) => {
      const fault =
        status === LATE ? { operation, delayMs: TWILIO_TIMEOUT_MS + 500, times: 1 } : { operation, status, times: 2 };
      const account = new TestAccount(stack);
      const bill = await account.connect();
      const number = nextNumber();
      if (armed === 'before the order') await armFault(stack, fault);
      const [portRequestId] = (await account.order(bill, [number])) as [string];
      const sid = await account.submitted(portRequestId);
      await workflows.settled(portRequestId);
      expect((await account.portRequest(portRequestId)).status).toBe('IN_REVIEW');

      if (armed === 'while waiting') await armFault(stack, fault);
      await account.setTwilioStatus(sid, { status: 'Completed', webhook: 'deliver' });
      const done = await account.waitFor(portRequestId, (pr) => pr.safeToCancelOldService, 'safe to cancel');
      expect(done.status).toBe('COMPLETED');
      expect(done.phoneNumbers.map((n) => [n.phoneNumber, n.status, n.imported])).toEqual([
        [number, 'COMPLETED', true],
      ]);
      expect((await workflows.ended(portRequestId)).status).toBe('SUCCEEDED');

      // The failed attempts (two; one for a late answer), retried within the same state entry, then one that worked.
      const history = await workflows.history(portRequestId);
      expect(outcomesOf(history, state)).toEqual(status === LATE ? [TRANSIENT, 'ok'] : [TRANSIENT, TRANSIENT, 'ok']);
      expect(entriesCount(history, state)).toBe(1);
      if (status === 0 || status === LATE) {
        // Each failed attempt waited out the gateway's timeout, no more.
        for (const ms of attemptDurationsMs(history, state).slice(0, status === LATE ? 1 : 2)) {
          expect(ms).toBeGreaterThanOrEqual(TWILIO_TIMEOUT_MS - 50);
          expect(ms).toBeLessThan(TWILIO_TIMEOUT_MS + 5000);
        }
      }
      for (const other of ['SubmitPortIn', 'SyncPortStatus', 'ImportNumbers'].filter((s) => s !== state)) {
        expect(outcomesOf(history, other)).toEqual(['ok']);
      }

      // Nothing twice: one Twilio port-in, one email of each kind, the number imported once and routed.
      expect((await portInsOf(account)).map((p) => p.sid)).toEqual([sid]);
      const emails = await emailsOnce(account, (e) => e.subject.includes('safe to cancel'), 'the completion email');
      const counts = countsOf(emails.map((e) => e.subject));
      expect(Object.entries(counts).filter(([, count]) => count > 1)).toEqual([]);
      expect(counts).toMatchObject({
        'Do not cancel your CallRail service yet: your port request is submitted': 1,
        'Your numbers are ported: it is now safe to cancel your CallRail service': 1,
      });
      const inventory = await account.api.get<{ items: Array<{ phoneNumber: string }> }>(`${account.base}/inventory`);
      expect(inventory.body.items.map((n) => n.phoneNumber)).toEqual([number]);
      expect(await incomingNumbers(account)).toEqual([[number, CALL_ROUTER_URL]]);
    });
  });

  describe('API calls: a transient Twilio failure answers 503, stores nothing, and the same call then works', () => {
    it.each(API_CASES)('fetchPortability answering $answer during POST port-orders', async ({ status }) => {
      const account = new TestAccount(stack);
      const bill = await account.connect();
      const key = newKey();
      const number = nextNumber();
      await armFault(stack, { operation: 'fetchPortability', status, times: 1 });

      expectUnavailable(await timed(status, () => postOrder(account, bill, [number], key)));
      const list = await account.api.get<{ items: unknown[] }>(`${account.base}/port-requests`);
      expect(list.body.items).toEqual([]);

      const again = await postOrder(account, bill, [number], key);
      expect(again.status).toBe(202);
      expect(again.body.portRequests.map((pr) => pr.phoneNumbers)).toEqual([[number]]);
      const [portRequestId] = again.body.portRequests.map((pr) => pr.portRequestId) as [string];
      await account.submitted(portRequestId);
      expect(await workflows.executionsOf(portRequestId)).toHaveLength(1);
    });

    it.each(API_CASES)('configureWebhook answering $answer during PUT twilio-connection', async ({ status }) => {
      const account = new TestAccount(stack);
      const connect = () =>
        account.api.put(`${account.base}/twilio-connection`, {
          accountSid: account.accountSid,
          authToken: account.authToken,
        });
      await armFault(stack, { operation: 'configureWebhook', status, times: 1 });

      expectUnavailable(await timed(status, connect));
      // Nothing kept: the token is stored only once Twilio took the webhook configuration.
      const secrets = new SecretsManagerClient({
        endpoint: stack.urls.secretsManager,
        region: 'us-east-1',
        credentials: LOCAL_CREDENTIALS,
      });
      await expect(
        secrets.send(new GetSecretValueCommand({ SecretId: `ringtonic/port-in/twilio/${account.accountId}` })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      secrets.destroy();
      // Not connected: a call that needs the connection is refused as for an account that never connected.
      const portability = await account.api.post<ProblemBody>(`${account.base}/portability-checks`, {
        phoneNumbers: [nextNumber()],
      });
      expect(portability.status).toBe(409);
      expect(portability.body.title).toBe('Twilio not connected');

      const connected = await connect();
      expect(connected.status).toBe(200);
      const portabilityNow = await account.api.post(`${account.base}/portability-checks`, {
        phoneNumbers: [nextNumber()],
      });
      expect(portabilityNow.status).toBe(200);
      const webhook = await fetch(`${stack.urls.twilio}/v1/Porting/Configuration/Webhook`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString('base64')}`,
        },
      });
      expect(((await webhook.json()) as { port_in_target_url: string }).port_in_target_url).toBe(
        `${stack.urls.api}/v1/webhooks/twilio/${account.accountId}/port-in`,
      );
    });

    it.each(API_CASES)('uploadDocument answering $answer during POST documents', async ({ status }) => {
      const account = new TestAccount(stack);
      const bill = await account.connect();
      const upload = () =>
        account.api.post<{ documentSid: string }>(`${account.base}/documents`, {
          fileName: 'bill.pdf',
          contentType: 'application/pdf',
          contentBase64: Buffer.from('%PDF-1.4\n% another bill\n%%EOF\n').toString('base64'),
        });
      await armFault(stack, { operation: 'uploadDocument', status, times: 1 });

      expectUnavailable(await timed(status, upload));
      const again = await upload();
      expect(again.status).toBe(201);
      expect(again.body.documentSid).toMatch(/^RD[0-9a-f]{32}$/);
      expect(again.body.documentSid).not.toBe(bill);
    });
  });

  describe('Twilio refusing the port-in (400, code 22137): the port request ends FAILED, the customer is told', () => {
    it('is not retried, and the order is kept', async () => {
      const account = new TestAccount(stack);
      const bill = await account.connect();
      await armFault(stack, { operation: 'createPortIn', status: 400, code: 22137, times: 1 });
      const ordered = await postOrder(account, bill, [nextNumber()], newKey());
      expect(ordered.status).toBe(202);
      const { orderId } = ordered.body;
      const [portRequestId] = ordered.body.portRequests.map((pr) => pr.portRequestId) as [string];

      // The execution fails: what the ExecutionsFailed alarm counts.
      const execution = await workflows.ended(portRequestId, 'FAILED');
      expect(execution.status).toBe('FAILED');
      const history = await workflows.history(portRequestId);
      expect(outcomesOf(history, 'SubmitPortIn')).toEqual(['PortInRejectedError']);
      expect(outcomesOf(history, 'MarkFailed')).toEqual(['ok']);
      expect(outcomesOf(history, 'DeliverFailureEmails')).toEqual(['ok']);
      expect(history.at(-1)?.executionFailedEventDetails?.error).toBe('PortInFailed');

      const pr = await account.portRequest(portRequestId);
      expect(pr.status).toBe('FAILED');
      expect(pr.twilioPortInRequestSid).toBeNull();
      expect(pr.safeToCancelOldService).toBe(false);
      const order = await account.api.get<{ orderId: string; portRequests: Array<{ status: string }> }>(
        `${account.base}/port-orders/${orderId}`,
      );
      expect(order.status).toBe(200);
      expect(order.body.portRequests.map((p) => p.status)).toEqual(['FAILED']);

      const emails = await emailsOnce(account, (e) => e.subject.startsWith('We could not submit'), 'PORT_FAILED');
      expect(emails.map((e) => e.subject)).toEqual([
        'We could not submit your port request: do not cancel your CallRail service',
      ]);
      expect(await portInsOf(account)).toEqual([]);
    });
  });

  /**
   * Completes the port in Twilio and checks it ended once: COMPLETED and imported, one Twilio port-in, each email
   * once, the number in the inventory once and routed to the call router.
   */
  const completeAndCheckOnce = async (account: TestAccount, portRequestId: string, sid: string, number: string) => {
    await account.setTwilioStatus(sid, { status: 'Completed', webhook: 'deliver' });
    const done = await account.waitFor(portRequestId, (pr) => pr.safeToCancelOldService, 'safe to cancel');
    expect(done.status).toBe('COMPLETED');
    expect(done.phoneNumbers.map((n) => [n.phoneNumber, n.status, n.imported])).toEqual([[number, 'COMPLETED', true]]);
    expect((await workflows.ended(portRequestId)).status).toBe('SUCCEEDED');
    expect((await portInsOf(account)).map((p) => p.sid)).toEqual([sid]);
    const emails = await emailsOnce(account, (e) => e.subject.includes('safe to cancel'), 'the completion email');
    const counts = countsOf(emails.map((e) => e.subject));
    expect(Object.entries(counts).filter(([, count]) => count > 1)).toEqual([]);
    expect(counts).toMatchObject({
      'Do not cancel your CallRail service yet: your port request is submitted': 1,
      'Your numbers are ported: it is now safe to cancel your CallRail service': 1,
    });
    const imported = (await account.events(portRequestId)).filter((e) => e.type === 'NUMBERS_IMPORTED');
    expect(imported).toHaveLength(1);
    const inventory = await account.api.get<{ items: Array<{ phoneNumber: string }> }>(`${account.base}/inventory`);
    expect(inventory.body.items.map((n) => n.phoneNumber)).toEqual([number]);
    expect(await incomingNumbers(account)).toEqual([[number, CALL_ROUTER_URL]]);
  };

  describe('SES throttling: SendEmail answering 429 TooManyRequestsException', () => {
    // The SES client makes one attempt per send (SendEmail has no idempotency token): Step Functions retries.
    it.each([
      { throttled: 1, outcomes: ['EmailDeliveryFailedError', 'ok'] },
      { throttled: 2, outcomes: ['EmailDeliveryFailedError', 'EmailDeliveryFailedError', 'ok'] },
    ])(
      '$throttled throttled sends: Step Functions retries DeliverEmails; every email arrives once',
      async ({ throttled, outcomes }) => {
        const account = new TestAccount(stack);
        const bill = await account.connect();
        const number = nextNumber();
        const throttledBefore = stack.ses.throttledCount;
        stack.ses.throttleSendEmail(throttled);
        const [portRequestId] = (await account.order(bill, [number])) as [string];
        const sid = await account.submitted(portRequestId);
        await workflows.settled(portRequestId);
        expect(stack.ses.throttledCount - throttledBefore).toBe(throttled);

        const history = await workflows.history(portRequestId);
        expect(outcomesOf(history, 'DeliverEmails')).toEqual(outcomes);
        expect(entriesCount(history, 'DeliverEmails')).toBe(1);
        const sent = (await account.events(portRequestId)).filter((e) => e.type === 'EMAIL_SENT');
        expect(sent.map((e) => e.detail)).toEqual(['PORT_SUBMITTED']);

        await completeAndCheckOnce(account, portRequestId, sid, number);
      },
    );
  });

  describe('DeliverEmails dying around SendEmail: each email still goes out exactly once', () => {
    const submittedSubject = 'Do not cancel your CallRail service yet: your port request is submitted';
    /** Send events ConfirmEmailSentFunction applied so far. */
    const confirmations = () =>
      Object.entries(stack.eventBus.stats())
        .filter(([rule]) => rule.startsWith('EmailConfirmationsEmailSentRule'))
        .reduce((sum, [, counts]) => sum + counts.delivered, 0);

    it.each([
      {
        point: CrashPoints.EmailTaken,
        what: "after SES took the email: SES's Send event marks it sent, it is not sent again",
        confirmedBy: 'the Send event',
      },
      {
        point: CrashPoints.EmailClaimed,
        what: 'after claiming it, before SES had it: no Send event comes, it is sent once the window passes',
        confirmedBy: 'the resend',
      },
    ])('$what', async ({ point, confirmedBy }) => {
      const account = new TestAccount(stack);
      const bill = await account.connect();
      const number = nextNumber();
      const confirmedBefore = confirmations();
      stack.lambdaFaults.crashAt('DeliverEmailsFunction', point, 1);
      const [portRequestId] = (await account.order(bill, [number])) as [string];
      const sid = await account.submitted(portRequestId);
      await workflows.settled(portRequestId);

      // The crashed attempt failed the step's attempt as Lambda reports a dead instance; the retry settled it.
      const outcomes = outcomesOf(await workflows.history(portRequestId), 'DeliverEmails');
      expect(outcomes[0]).toBe('Runtime.ExitError');
      expect(outcomes.at(-1)).toBe('ok');
      const emails = await emailsOnce(account, (e) => e.subject === submittedSubject, 'the submitted email');
      expect(emails.filter((e) => e.subject === submittedSubject)).toHaveLength(1);
      const sent = (await account.events(portRequestId)).filter((e) => e.type === 'EMAIL_SENT');
      expect(sent.map((e) => e.detail)).toEqual(['PORT_SUBMITTED']);
      const delivered = confirmations() - confirmedBefore;
      // One Send event per email SES took (the crashed invocation's, or the resend's), applied by ConfirmEmailSent.
      expect({ confirmedBy, delivered }).toEqual({ confirmedBy, delivered: 1 });

      await completeAndCheckOnce(account, portRequestId, sid, number);
    });
  });

  describe('a workflow Lambda that throws (a bug, a DynamoDB hiccup) is retried by Step Functions', () => {
    type Case = { fn: string; state: string; armed: 'before the order' | 'while waiting' };
    const cases: Case[] = [
      { fn: 'SubmitPortInFunction', state: 'SubmitPortIn', armed: 'before the order' },
      { fn: 'DeliverEmailsFunction', state: 'DeliverEmails', armed: 'before the order' },
      { fn: 'WaitForPortUpdateFunction', state: 'WaitForPortUpdate', armed: 'before the order' },
      { fn: 'SyncPortStatusFunction', state: 'SyncPortStatus', armed: 'while waiting' },
      { fn: 'ImportNumbersFunction', state: 'ImportNumbers', armed: 'while waiting' },
    ];

    it.each(cases)('$state throwing twice ($armed)', async ({ fn, state, armed }) => {
      const account = new TestAccount(stack);
      const bill = await account.connect();
      const number = nextNumber();
      const thrownBefore = Object.values(stack.lambdaFaults.thrown()).reduce((a, b) => a + b, 0);
      if (armed === 'before the order') stack.lambdaFaults.throwNext(fn, 2);
      const [portRequestId] = (await account.order(bill, [number])) as [string];
      const sid = await account.submitted(portRequestId);
      await workflows.settled(portRequestId);
      if (armed === 'while waiting') stack.lambdaFaults.throwNext(fn, 2);

      await completeAndCheckOnce(account, portRequestId, sid, number);
      const thrownAfter = Object.values(stack.lambdaFaults.thrown()).reduce((a, b) => a + b, 0);
      expect(thrownAfter - thrownBefore).toBe(2);

      // Two failed attempts retried within the state's first entry (States.TaskFailed), then one that worked; the
      // Catch back to WaitForPortUpdate was not needed.
      const history = await workflows.history(portRequestId);
      expect(outcomesOf(history, state).slice(0, 3)).toEqual(['Error', 'Error', 'ok']);
      expect(outcomesOf(history, state).slice(3)).not.toContain('Error');
      expect(
        history.some(
          (e) => e.type?.endsWith('StateEntered') && JSON.parse(e.stateEnteredEventDetails?.input ?? '{}').stepError,
        ),
      ).toBe(false);
      for (const other of ['SubmitPortIn', 'SyncPortStatus', 'ImportNumbers'].filter((s) => s !== state)) {
        expect([other, outcomesOf(history, other)]).toEqual([other, ['ok']]);
      }
    });

    it('MarkFailed throwing twice: the refused port still ends FAILED with one email; the refusal is not retried', async () => {
      const account = new TestAccount(stack);
      const bill = await account.connect();
      await armFault(stack, { operation: 'createPortIn', status: 400, code: 22137, times: 1 });
      stack.lambdaFaults.throwNext('MarkFailedFunction', 2);
      const [portRequestId] = (await account.order(bill, [nextNumber()])) as [string];

      expect((await workflows.ended(portRequestId, 'FAILED')).status).toBe('FAILED');
      const history = await workflows.history(portRequestId);
      expect(outcomesOf(history, 'SubmitPortIn')).toEqual(['PortInRejectedError']);
      expect(outcomesOf(history, 'MarkFailed')).toEqual(['Error', 'Error', 'ok']);
      expect((await account.portRequest(portRequestId)).status).toBe('FAILED');
      const emails = await emailsOnce(account, (e) => e.subject.startsWith('We could not submit'), 'PORT_FAILED');
      expect(emails.map((e) => e.subject)).toEqual([
        'We could not submit your port request: do not cancel your CallRail service',
      ]);
    });

    it('SyncPortStatus throwing 7 times in a row: retried within its one entry, the port delayed once, then on', async () => {
      const account = new TestAccount(stack);
      const bill = await account.connect();
      const number = nextNumber();
      const [portRequestId] = (await account.order(bill, [number])) as [string];
      const sid = await account.submitted(portRequestId);
      await workflows.settled(portRequestId);
      stack.lambdaFaults.throwNext('SyncPortStatusFunction', 7);
      await account.setTwilioStatus(sid, { status: 'In Progress', webhook: 'deliver' });
      await eventually(
        async () => {
          const outcomes = outcomesOf(await workflows.history(portRequestId), 'SyncPortStatus');
          return outcomes.includes('ok') ? outcomes : undefined;
        },
        { what: 'SyncPortStatus working again' },
      );
      await workflows.settled(portRequestId);
      const history = await workflows.history(portRequestId);
      expect(outcomesOf(history, 'SyncPortStatus')).toEqual([...Array(7).fill('Error'), 'ok']);
      expect(entriesCount(history, 'SyncPortStatus')).toBe(1);
      const delayed = (await account.events(portRequestId)).filter((e) => e.type === 'DELAYED');
      // The faults throw before the handler runs: the attempt that works is the first to see the delay.
      expect(delayed).toEqual([
        expect.objectContaining({ detail: 'SyncPortStatus failed 7 times in a row; it is retried' }),
      ]);
      expect((await account.portRequest(portRequestId)).status).toBe('SUBMITTED');
      await completeAndCheckOnce(account, portRequestId, sid, number);
    });
  });

  describe('a create whose answer was lost, retried after its port-in completed', () => {
    it('adopts the completed request (Twilio refuses the retry with 22131) instead of failing the port', async () => {
      const account = new TestAccount(stack);
      const bill = await account.connect();
      const number = nextNumber();
      // The first create is carried out but answered after the gateway gave up; the retries are held back (the
      // function throwing) while the port-in completes in Twilio.
      await armFault(stack, { operation: 'createPortIn', delayMs: TWILIO_TIMEOUT_MS + 500, times: 1 });
      const [portRequestId] = (await account.order(bill, [number])) as [string];
      const [lost] = await eventually(
        async () => {
          const found = await portInsOf(account);
          return found.length > 0 ? found : undefined;
        },
        { what: 'the lost create in the simulator', intervalMs: 20 },
      );
      stack.lambdaFaults.throwNext('SubmitPortInFunction', 3);
      await account.setTwilioStatus((lost as SimPortIn).sid, { status: 'Completed' });

      const done = await account.waitFor(portRequestId, (pr) => pr.safeToCancelOldService, 'safe to cancel');
      expect(done.status).toBe('COMPLETED');
      expect(done.twilioPortInRequestSid).toBe((lost as SimPortIn).sid);
      const history = await workflows.history(portRequestId);
      expect(outcomesOf(history, 'SubmitPortIn')).toEqual([TRANSIENT, 'Error', 'Error', 'Error', 'ok']);
      expect(outcomesOf(history, 'MarkFailed')).toEqual([]);
      const submitted = (await account.events(portRequestId)).filter((e) => e.type === 'SUBMITTED_TO_TWILIO');
      expect(submitted.map((e) => e.detail)).toEqual([`${(lost as SimPortIn).sid} (found after a lost answer)`]);
      expect((await portInsOf(account)).map((p) => p.sid)).toEqual([(lost as SimPortIn).sid]);
    });
  });

  describe('an outage delays a port and never fails it', () => {
    it('Twilio answering 503 to 8 submissions in a row: one DELAYED event, no email about it, then the port completes', async () => {
      const account = new TestAccount(stack);
      const bill = await account.connect();
      const number = nextNumber();
      await armFault(stack, { operation: 'createPortIn', status: 503, times: 8 });
      const [portRequestId] = (await account.order(bill, [number])) as [string];
      const sid = await account.submitted(portRequestId);
      await workflows.settled(portRequestId);

      const history = await workflows.history(portRequestId);
      expect(outcomesOf(history, 'SubmitPortIn')).toEqual([...Array(8).fill(TRANSIENT), 'ok']);
      expect(entriesCount(history, 'SubmitPortIn')).toBe(1);
      expect(outcomesOf(history, 'MarkFailed')).toEqual([]);
      // What synth budgets per retry: the events between the first attempt's end and the next one's.
      const failures = history
        .map((e, index) => ({ e, index }))
        .filter(({ e }) => e.type === 'LambdaFunctionFailed' || e.type === 'TaskFailed');
      expect(failures).toHaveLength(8);
      const gaps = failures.slice(1).map((f, i) => f.index - (failures[i]?.index ?? 0));
      expect(new Set(gaps)).toEqual(new Set([HISTORY_EVENTS_PER_RETRY]));

      const events = await account.events(portRequestId);
      expect(events.filter((e) => e.type === 'DELAYED')).toEqual([
        expect.objectContaining({ detail: expect.stringMatching(/^Twilio is not answering right now/) }),
      ]);
      expect(JSON.stringify(events)).not.toMatch(/FAILED/);
      await completeAndCheckOnce(account, portRequestId, sid, number);
      const subjects = (await emailsOnce(account, (e) => e.subject.includes('safe to cancel'), 'completion')).map(
        (e) => e.subject,
      );
      expect(subjects.filter((subject) => /delay|could not|retry/i.test(subject))).toEqual([]);
    });
  });
});
