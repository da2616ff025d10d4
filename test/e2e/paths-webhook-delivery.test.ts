import type { LocalStack } from '../../local/stack';
import { startTestStack, TestAccount } from '../support/harness';
import {
  countsOf,
  emailsOnce,
  expectEmailRules,
  expectInOrder,
  replay,
  sentTemplates,
  settle,
  storyOf,
  utcDateInDays,
  Workflows,
  webhooksOf,
  webhooksSettled,
  withoutUpdatedAt,
} from '../support/paths';

const PIN = '604931';
const SECRETS = [PIN, '5551234'];

/** Status events, imports and emails sent: what a duplicated or replayed webhook must never repeat. */
const once = (story: readonly string[]) =>
  story.filter((s) => /^(STATUS_CHANGED|FOC_DATE_SET|FOC_DATE_CHANGED|NUMBERS_IMPORTED|EMAIL_SENT):/.test(s));

describe('paths of a port whose webhooks come twice or out of order', () => {
  let stack: LocalStack;
  let workflows: Workflows;

  beforeAll(async () => {
    stack = await startTestStack();
    workflows = new Workflows(stack);
  }, 60000);

  afterAll(async () => {
    workflows?.destroy();
    await stack?.stop();
  });

  it('sends each email and records each status once when every webhook is delivered twice', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [a, b] = ['+14155550310', '+14155550311'];
    const [id] = (await account.order(bill, [a, b], 'CallRail', { pin: PIN })) as [string];
    const sid = await account.submitted(id);
    const d1 = utcDateInDays(12);

    await account.setTwilioStatus(sid, { status: 'Waiting for Signature', webhook: 'duplicate' });
    await account.waitFor(id, (pr) => pr.status === 'WAITING_FOR_SIGNATURE', 'WAITING_FOR_SIGNATURE');
    await settle(account, workflows, id);
    await account.setTwilioStatus(sid, {
      status: 'In Progress',
      phoneNumbers: { [a]: { status: 'port_pending', focDate: d1 }, [b]: { status: 'port_pending', focDate: d1 } },
      webhook: 'duplicate',
    });
    await account.waitFor(id, (pr) => pr.status === 'FOC_RECEIVED', 'FOC_RECEIVED');
    await settle(account, workflows, id);
    await account.setTwilioStatus(sid, { status: 'Completed', webhook: 'duplicate' });
    await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel');
    await workflows.ended(id);
    await emailsOnce(account, (e) => e.subject.toLowerCase().includes('safe to cancel'), 'the completion email');

    // Every webhook really came twice, and both copies were answered 200.
    const deliveries = await webhooksSettled(account);
    const types = ['PortInWaitingForSignature', 'PortInInProgress', 'PortInPhoneNumberPending', 'PortInCompleted'];
    for (const type of types) {
      const copies = deliveries.filter((d) => d.eventType === type);
      expect(copies.length).toBeGreaterThanOrEqual(2);
      expect(copies.map((d) => [d.mode, d.outcome, d.responseStatus])).toEqual(
        copies.map(() => ['duplicate', 'delivered', 200]),
      );
    }

    const events = await account.events(id);
    expect(sentTemplates(events)).toEqual(['PORT_SUBMITTED', 'LOA_SIGNATURE_NEEDED', 'FOC_DATE_SET', 'PORT_COMPLETED']);
    const story = storyOf(events);
    expect(Object.entries(countsOf(once(story))).filter(([, count]) => count > 1)).toEqual([]);
    expectInOrder(story, [
      'STATUS_CHANGED:IN_REVIEW',
      'STATUS_CHANGED:WAITING_FOR_SIGNATURE',
      'STATUS_CHANGED:FOC_RECEIVED',
      'STATUS_CHANGED:COMPLETED',
      `NUMBERS_IMPORTED:${a}, ${b}`,
      'EMAIL_SENT:PORT_COMPLETED',
    ]);

    const emails = await account.emails();
    expect(emails).toHaveLength(4);
    expect(Object.entries(countsOf(emails.map((e) => e.subject))).filter(([, count]) => count > 1)).toEqual([]);
    expectEmailRules(emails, SECRETS);
    const inventory = await account.api.get<{ items: Array<{ phoneNumber: string }> }>(`${account.base}/inventory`);
    expect(inventory.body.items.map((n) => n.phoneNumber).sort()).toEqual([a, b]);
    expect(await workflows.executionsOf(id)).toHaveLength(1);
  }, 60000);

  it('never moves back nor emails again when old webhooks are delivered again, even after completion', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [a, b] = ['+14155550320', '+14155550321'];
    const [id] = (await account.order(bill, [a, b], 'CallRail', { pin: PIN })) as [string];
    const sid = await account.submitted(id);
    const d1 = utcDateInDays(12);

    await account.setTwilioStatus(sid, { status: 'Waiting for Signature' });
    await account.waitFor(id, (pr) => pr.status === 'WAITING_FOR_SIGNATURE', 'WAITING_FOR_SIGNATURE');
    await account.setTwilioStatus(sid, { status: 'In Progress' });
    await account.waitFor(id, (pr) => pr.status === 'SUBMITTED', 'SUBMITTED');
    await settle(account, workflows, id);
    const older = await webhooksOf(account);
    await account.setTwilioStatus(sid, {
      status: 'In Progress',
      phoneNumbers: { [a]: { status: 'port_pending', focDate: d1 }, [b]: { status: 'port_pending', focDate: d1 } },
    });
    await account.waitFor(id, (pr) => pr.status === 'FOC_RECEIVED', 'FOC_RECEIVED');
    await emailsOnce(account, (e) => e.body.text.includes('confirmed the port date'), 'the FOC_DATE_SET email');
    await settle(account, workflows, id);
    const before = {
      view: await account.portRequest(id),
      events: await account.events(id),
      emails: await account.emails(),
    };

    // The earlier webhooks ("Waiting for Signature", "In Progress" without a FOC date) arrive again, newest first.
    expect(older.map((d) => d.eventType)).toEqual(
      expect.arrayContaining(['PortInWaitingForSignature', 'PortInPhoneNumberSubmitted', 'PortInInProgress']),
    );
    for (const delivery of [...older].reverse()) expect(await replay(delivery)).toBe(200);
    // Once the workflow has acted on them (each one woke it to read Twilio), look.
    await settle(account, workflows, id);

    const after = await account.portRequest(id);
    expect(after.status).toBe('FOC_RECEIVED');
    expect(withoutUpdatedAt(after)).toEqual(withoutUpdatedAt(before.view));
    expect(await account.events(id)).toEqual(before.events);
    expect(await account.emails()).toEqual(before.emails);

    // Completion, then its webhook once more: no second import, no second "safe to cancel".
    await account.setTwilioStatus(sid, { status: 'Completed' });
    await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel');
    await workflows.ended(id);
    const completedEmails = await emailsOnce(
      account,
      (e) => e.subject.toLowerCase().includes('safe to cancel'),
      'the completion email',
    );
    const deliveries = await webhooksSettled(account);
    const completed = deliveries.filter(
      (d) => d.eventType === 'PortInCompleted' || d.eventType === 'PortInPhoneNumberCompleted',
    );
    expect(completed.length).toBe(3);
    const done = { view: await account.portRequest(id), events: await account.events(id) };
    for (const delivery of completed) expect(await replay(delivery)).toBe(200);
    for (const delivery of older) expect(await replay(delivery)).toBe(200);

    expect(withoutUpdatedAt(await account.portRequest(id))).toEqual(withoutUpdatedAt(done.view));
    expect(await account.events(id)).toEqual(done.events);
    const emails = await account.emails();
    expect(emails).toEqual(completedEmails);
    expect(emails.filter((e) => e.subject.toLowerCase().includes('safe to cancel'))).toHaveLength(1);
    expect(sentTemplates(done.events)).toEqual([
      'PORT_SUBMITTED',
      'LOA_SIGNATURE_NEEDED',
      'FOC_DATE_SET',
      'PORT_COMPLETED',
    ]);
    expect(countsOf(storyOf(done.events))[`NUMBERS_IMPORTED:${a}, ${b}`]).toBe(1);
    expectEmailRules(emails, SECRETS);
    expect((await workflows.describe(id)).status).toBe('SUCCEEDED');
    expect(await workflows.executionsOf(id)).toHaveLength(1);
  }, 60000);
});
