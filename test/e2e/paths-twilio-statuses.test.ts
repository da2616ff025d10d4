import type { LocalStack } from '../../local/stack';
import { CALL_ROUTER_URL, startTestStack, TestAccount } from '../support/harness';
import {
  countsOf,
  emailsOnce,
  expectEmailRules,
  expectInOrder,
  incomingNumbers,
  national,
  numbersOf,
  replay,
  sentTemplates,
  settle,
  storyOf,
  utcDateInDays,
  Workflows,
  webhooksSettled,
  withoutUpdatedAt,
  withSubject,
} from '../support/paths';

/** What no email may show: the PINs and the losing-carrier account number (fixtures' 5551234). */
const PIN = '604931';
const NUMBER_PIN = '728315';
const SECRETS = [PIN, NUMBER_PIN, '5551234'];

describe('paths of a port driven by Twilio status changes', () => {
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

  it('sets the FOC date, tells of each change once (a date moved to tomorrow needs no reminder), then completes', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [a, b] = ['+14155550210', '+14155550211'];
    const [id] = (await account.order(
      bill,
      ['(415) 555-0210', { phoneNumber: '415.555.0211', pin: NUMBER_PIN }],
      'CallRail',
      {
        pin: PIN,
      },
    )) as [string];
    const sid = await account.submitted(id);
    const [d1, d2, tomorrow] = [utcDateInDays(20), utcDateInDays(27), utcDateInDays(1)];

    // The losing carrier gives a FOC date.
    await account.setTwilioStatus(sid, {
      status: 'In Progress',
      phoneNumbers: { [a]: { status: 'port_pending', focDate: d1 }, [b]: { status: 'port_pending', focDate: d1 } },
    });
    const foc = await account.waitFor(id, (pr) => pr.status === 'FOC_RECEIVED', 'FOC_RECEIVED');
    expect(foc.focDate).toBe(d1);
    expect(numbersOf(foc)).toEqual([
      [a, 'FOC_RECEIVED', d1, undefined],
      [b, 'FOC_RECEIVED', d1, undefined],
    ]);
    const afterSet = await emailsOnce(account, (e) => e.body.text.includes('confirmed the port date'), 'FOC_DATE_SET');
    const setEmail = afterSet.find((e) => e.body.text.includes('confirmed the port date'));
    expect(setEmail?.subject).toBe(`Do not cancel your CallRail service yet: your numbers move on ${d1}`);
    expect(setEmail?.body.text).toContain(`CallRail confirmed the port date (FOC): ${d1}.`);
    expect(storyOf(await account.events(id))).toContain(`FOC_DATE_SET:${d1}`);

    // It moves the date.
    await account.setTwilioStatus(sid, {
      status: 'In Progress',
      phoneNumbers: { [a]: { focDate: d2 }, [b]: { focDate: d2 } },
    });
    const moved = await account.waitFor(id, (pr) => pr.focDate === d2, `the FOC date ${d2}`);
    expect(moved.status).toBe('FOC_RECEIVED');
    expect(numbersOf(moved)).toEqual([
      [a, 'FOC_RECEIVED', d2, undefined],
      [b, 'FOC_RECEIVED', d2, undefined],
    ]);
    const afterChange = await emailsOnce(account, (e) => e.subject.endsWith(`moved to ${d2}`), 'FOC_DATE_CHANGED');
    const changeEmail = afterChange.find((e) => e.subject.endsWith(`moved to ${d2}`));
    expect(changeEmail?.subject).toBe(`Do not cancel your CallRail service yet: your port date moved to ${d2}`);
    expect(changeEmail?.body.text).toContain(`changed the port date (FOC) from ${d1} to ${d2}`);
    const changed = (await account.events(id)).filter((e) => e.type === 'FOC_DATE_CHANGED');
    expect(changed.map((e) => e.detail)).toEqual([`${d1} → ${d2}`]);

    // It moves the date to tomorrow: the sync that sees it tells of the change, and that email is the eve's
    // reminder (a "tomorrow" reminder besides would announce the same date twice at once).
    await account.setTwilioStatus(sid, {
      status: 'In Progress',
      phoneNumbers: { [a]: { focDate: tomorrow }, [b]: { focDate: tomorrow } },
    });
    await account.waitFor(id, (pr) => pr.focDate === tomorrow, `the FOC date ${tomorrow}`);
    await emailsOnce(account, (e) => e.subject.endsWith(`moved to ${tomorrow}`), 'FOC_DATE_CHANGED to tomorrow');
    // More syncs on the same date (a webhook with nothing new) send no reminder either.
    await settle(account, workflows, id);
    for (let i = 0; i < 2; i += 1) {
      await account.setTwilioStatus(sid, { status: 'In Progress' });
      await settle(account, workflows, id);
    }
    const templatesBeforeCompletion = sentTemplates(await account.events(id));
    expect(countsOf(templatesBeforeCompletion).FOC_TOMORROW_REMINDER).toBeUndefined();
    const emailsBeforeCompletion = await account.emails();
    expect(emailsBeforeCompletion.filter((e) => e.body.text.includes('Even then, wait for our email'))).toHaveLength(0);
    expect(emailsBeforeCompletion.filter((e) => e.subject.includes(tomorrow))).toHaveLength(1);

    // The port completes: imported, pointed at the call router, and only then "safe to cancel".
    await account.setTwilioStatus(sid, { status: 'Completed' });
    const done = await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel');
    expect(done.status).toBe('COMPLETED');
    expect(done.phoneNumbers.map((n) => [n.phoneNumber, n.status, n.imported])).toEqual([
      [a, 'COMPLETED', true],
      [b, 'COMPLETED', true],
    ]);
    // Ended: the completion email is sent and on the timeline.
    await workflows.ended(id);
    expect(await incomingNumbers(account)).toEqual([
      [a, CALL_ROUTER_URL],
      [b, CALL_ROUTER_URL],
    ]);
    const emails = await emailsOnce(account, (e) => e.subject.toLowerCase().includes('safe to cancel'), 'completion');
    const last = emails.at(-1);
    expect(last?.subject).toBe('Your numbers are ported: it is now safe to cancel your CallRail service');
    expect(last?.body.text).toContain(`- ${national(a)}`);
    expect(last?.body.text).toContain(`- ${national(b)}`);
    expectEmailRules(emails, SECRETS);

    const events = await account.events(id);
    expect(sentTemplates(events)).toEqual([
      'PORT_SUBMITTED',
      'FOC_DATE_SET',
      'FOC_DATE_CHANGED',
      'FOC_DATE_CHANGED',
      'PORT_COMPLETED',
    ]);
    expect(emails).toHaveLength(5);
    expectInOrder(storyOf(events), [
      `FOC_DATE_SET:${d1}`,
      'STATUS_CHANGED:FOC_RECEIVED',
      'EMAIL_SENT:FOC_DATE_SET',
      `FOC_DATE_CHANGED:${d1} → ${d2}`,
      'EMAIL_SENT:FOC_DATE_CHANGED',
      `FOC_DATE_CHANGED:${d2} → ${tomorrow}`,
      'EMAIL_SENT:FOC_DATE_CHANGED',
      'STATUS_CHANGED:COMPLETED',
      `NUMBERS_IMPORTED:${a}, ${b}`,
      'EMAIL_SENT:PORT_COMPLETED',
    ]);
  }, 60000);

  it('asks for action on a partial rejection, naming only the rejected number, in plain words', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [a, b] = ['+14155550220', '+14155550221'];
    const [id] = (await account.order(bill, [a, b], 'CallRail', { pin: PIN })) as [string];
    const sid = await account.submitted(id);
    const d1 = utcDateInDays(15);

    await account.setTwilioStatus(sid, {
      status: 'In Progress',
      phoneNumbers: { [a]: { status: 'port_pending', focDate: d1 }, [b]: { status: 'port_pending', focDate: d1 } },
    });
    await account.waitFor(id, (pr) => pr.status === 'FOC_RECEIVED', 'FOC_RECEIVED');

    // The losing carrier rejects one number; the other keeps its FOC date.
    await account.setTwilioStatus(sid, {
      status: 'In Progress',
      phoneNumbers: { [a]: { status: 'port_rejected', rejectionReason: 'INVALID_PIN' } },
    });
    const rejected = await account.waitFor(id, (pr) => pr.status === 'ACTION_REQUIRED', 'ACTION_REQUIRED');
    expect(rejected.phoneNumbers).toEqual([
      expect.objectContaining({ phoneNumber: a, status: 'REJECTED', rejectionReason: 'INVALID_PIN', imported: false }),
      { phoneNumber: b, status: 'FOC_RECEIVED', focDate: d1, imported: false, verification: { status: 'PENDING' } },
    ]);
    expect(rejected.focDate).toBe(d1);
    expect(rejected.safeToCancelOldService).toBe(false);

    const emails = await emailsOnce(account, (e) => e.subject.startsWith('Action required'), 'ACTION_REQUIRED');
    const [actionEmail, ...more] = withSubject(emails, 'Action required');
    expect(more).toHaveLength(0);
    expect(actionEmail?.subject).toBe('Action required, and do not cancel your CallRail service yet');
    expect(actionEmail?.body.text).toContain(
      `- ${national(a)}: The port-out PIN was missing or wrong. Ask your old carrier for the port-out PIN (sometimes called a transfer PIN) and send it to us.`,
    );
    expect(actionEmail?.body.html).toContain('The port-out PIN was missing or wrong.');
    for (const form of [b, national(b)])
      expect(`${actionEmail?.body.text}${actionEmail?.body.html}`).not.toContain(form);

    // Another look at Twilio with nothing new asks for nothing more.
    await settle(account, workflows, id);
    await account.setTwilioStatus(sid, { status: 'In Progress' });
    await settle(account, workflows, id);
    const after = await account.portRequest(id);
    expect(after.status).toBe('ACTION_REQUIRED');
    expect(numbersOf(after)).toEqual(numbersOf(rejected));

    const events = await account.events(id);
    expect(sentTemplates(events)).toEqual(['PORT_SUBMITTED', 'FOC_DATE_SET', 'ACTION_REQUIRED']);
    expectInOrder(storyOf(events), [
      'STATUS_CHANGED:FOC_RECEIVED',
      'STATUS_CHANGED:ACTION_REQUIRED',
      'EMAIL_SENT:ACTION_REQUIRED',
    ]);
    expect(countsOf(storyOf(events))['STATUS_CHANGED:ACTION_REQUIRED']).toBe(1);
    const all = await account.emails();
    expect(all).toHaveLength(3);
    expectEmailRules(all, SECRETS);
  }, 60000);

  it('asks for the LOA signature, then expires, ends the workflow, and ignores whatever comes later', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const number = '+14155550230';
    const [id] = (await account.order(bill, [number], 'CallRail', { pin: PIN })) as [string];
    const sid = await account.submitted(id);

    await account.setTwilioStatus(sid, { status: 'Waiting for Signature' });
    await account.waitFor(id, (pr) => pr.status === 'WAITING_FOR_SIGNATURE', 'WAITING_FOR_SIGNATURE');
    const loaEmails = await emailsOnce(account, (e) => e.subject.includes('sign the Letter'), 'LOA_SIGNATURE_NEEDED');
    const loa = loaEmails.find((e) => e.subject.includes('sign the Letter'));
    expect(loa?.subject).toBe('Do not cancel your CallRail service yet: please sign the Letter of Authorization');
    expect(loa?.body.text).toContain('Twilio has emailed a Letter of Authorization to Jane Doe.');

    await account.setTwilioStatus(sid, { status: 'Expired' });
    const expired = await account.waitFor(id, (pr) => pr.status === 'EXPIRED', 'EXPIRED');
    expect(expired.safeToCancelOldService).toBe(false);
    expect(expired.phoneNumbers.map((n) => [n.phoneNumber, n.status, n.imported])).toEqual([
      [number, 'CANCELED', false],
    ]);
    const emails = await emailsOnce(account, (e) => e.subject.startsWith('Port request expired'), 'PORT_EXPIRED');
    const expiredEmail = emails.find((e) => e.subject.startsWith('Port request expired'));
    expect(expiredEmail?.subject).toBe('Port request expired: do not cancel your CallRail service');
    expect(expiredEmail?.body.text).toContain(
      'To try again, place a new port order in Ring Tonic and have the authorized representative sign the letter from Twilio within a few days.',
    );
    expectEmailRules(emails, SECRETS);

    const execution = await workflows.ended(id, 'SUCCEEDED');
    expect(execution.name).toBe(id);
    expect(await workflows.executionsOf(id)).toHaveLength(1);
    // The "expired" email went out on the way to the end, not through the loop's DeliverEmails.
    const entered = (await workflows.history(id))
      .filter((e) => e.type?.endsWith('StateEntered'))
      .map((e) => e.stateEnteredEventDetails?.name);
    expect(entered.slice(-4)).toEqual(['SyncPortStatus', 'IsPortFinished', 'DeliverClosingEmails', 'PortEnded']);

    // Later: Twilio says Completed (the number even appears in the account), and an old webhook comes again.
    const before = { view: await account.portRequest(id), events: await account.events(id), emails };
    await webhooksSettled(account);
    await account.setTwilioStatus(sid, { status: 'Completed', phoneNumbers: { [number]: { status: 'completed' } } });
    const deliveries = await webhooksSettled(account);
    const completed = deliveries.filter((d) => d.eventType === 'PortInCompleted');
    expect(completed.map((d) => [d.outcome, d.responseStatus])).toEqual([['delivered', 200]]);
    const expiredWebhook = deliveries.find((d) => d.eventType === 'PortInExpired');
    if (!expiredWebhook) throw new Error('no PortInExpired webhook was sent');
    expect(await replay(expiredWebhook)).toBe(200);

    expect(withoutUpdatedAt(await account.portRequest(id))).toEqual(withoutUpdatedAt(before.view));
    expect(await account.events(id)).toEqual(before.events);
    expect(await account.emails()).toEqual(before.emails);
    const inventory = await account.api.get<{ items: unknown[] }>(`${account.base}/inventory`);
    expect(inventory.body.items).toEqual([]);
    expect(await incomingNumbers(account)).toEqual([[number, null]]);
    expect((await workflows.describe(id)).status).toBe('SUCCEEDED');
    expect(await workflows.executionsOf(id)).toHaveLength(1);
    expect(sentTemplates(before.events)).toEqual(['PORT_SUBMITTED', 'LOA_SIGNATURE_NEEDED', 'PORT_EXPIRED']);
  }, 60000);
});
