import type { LocalStack } from '../../local/stack';
import { eventually } from '../support/eventually';
import { CALL_ROUTER_URL, startTestStack, TestAccount } from '../support/harness';
import {
  countsOf,
  emailsOnce,
  expectEmailRules,
  expectInOrder,
  incomingNumbers,
  national,
  sentTemplates,
  storyOf,
  utcDateInDays,
  Workflows,
  webhooksOf,
  withSubject,
} from '../support/paths';

const PIN = '604931';
const SECRETS = [PIN, '5551234'];

/** Paths that rest on the workflow's own clock: polling Twilio when no webhook comes, and reminders. */
describe('paths of a port that polling and reminders carry', () => {
  let stack: LocalStack;
  let workflows: Workflows;

  beforeAll(async () => {
    stack = await startTestStack({ pollIntervalSeconds: 1, reminderIntervalSeconds: 2 });
    workflows = new Workflows(stack);
  }, 60000);

  afterAll(async () => {
    workflows?.destroy();
    await stack?.stop();
  });

  it('completes, imports and says it is safe to cancel when every webhook is lost', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [a, b] = ['+14155550410', '+14155550411'];
    const [id] = (await account.order(bill, [a, b], 'CallRail', { pin: PIN })) as [string];
    const sid = await account.submitted(id);
    const d1 = utcDateInDays(12);

    await account.setTwilioStatus(sid, { status: 'Waiting for Signature', webhook: 'drop' });
    await account.waitFor(id, (pr) => pr.status === 'WAITING_FOR_SIGNATURE', 'WAITING_FOR_SIGNATURE');
    await account.setTwilioStatus(sid, {
      status: 'In Progress',
      phoneNumbers: { [a]: { status: 'port_pending', focDate: d1 }, [b]: { status: 'port_pending', focDate: d1 } },
      webhook: 'drop',
    });
    const foc = await account.waitFor(id, (pr) => pr.status === 'FOC_RECEIVED', 'FOC_RECEIVED');
    expect(foc.focDate).toBe(d1);
    await account.setTwilioStatus(sid, { status: 'Completed', webhook: 'drop' });
    const done = await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel');
    expect(done.status).toBe('COMPLETED');
    expect(done.phoneNumbers.map((n) => [n.phoneNumber, n.status, n.imported])).toEqual([
      [a, 'COMPLETED', true],
      [b, 'COMPLETED', true],
    ]);
    expect(await incomingNumbers(account)).toEqual([
      [a, CALL_ROUTER_URL],
      [b, CALL_ROUTER_URL],
    ]);
    await workflows.ended(id);

    // Not one webhook reached the service.
    const deliveries = await webhooksOf(account);
    expect(deliveries.length).toBeGreaterThanOrEqual(3);
    expect(deliveries.map((d) => d.outcome)).toEqual(deliveries.map(() => 'dropped'));

    const events = await account.events(id);
    const story = storyOf(events);
    expectInOrder(story, [
      'STATUS_CHANGED:WAITING_FOR_SIGNATURE',
      'POLL_FOUND_CHANGE:WAITING_FOR_SIGNATURE',
      'STATUS_CHANGED:FOC_RECEIVED',
      'POLL_FOUND_CHANGE:FOC_RECEIVED',
      'STATUS_CHANGED:COMPLETED',
      'POLL_FOUND_CHANGE:COMPLETED',
      `NUMBERS_IMPORTED:${a}, ${b}`,
      'EMAIL_SENT:PORT_COMPLETED',
    ]);
    const templates = countsOf(sentTemplates(events));
    for (const template of ['PORT_SUBMITTED', 'LOA_SIGNATURE_NEEDED', 'FOC_DATE_SET', 'PORT_COMPLETED']) {
      expect([template, templates[template]]).toEqual([template, 1]);
    }

    const emails = await emailsOnce(account, (e) => e.subject.toLowerCase().includes('safe to cancel'), 'completion');
    expect(emails.at(-1)?.subject).toBe('Your numbers are ported: it is now safe to cancel your CallRail service');
    expectEmailRules(emails, SECRETS);
  }, 60000);

  it('routes a toll-free number to a manual port, reminds while waiting, and imports it once it arrives', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const tollFree = '+18885550160';
    const [id, ...others] = (await account.order(bill, ['(888) 555-0160'], 'CallRail', { pin: PIN })) as [string];
    expect(others).toEqual([]);

    const manual = await account.portRequest(id);
    expect([manual.route, manual.status, manual.twilioPortInRequestSid ?? null]).toEqual(['MANUAL', 'MANUAL', null]);
    expect(manual.phoneNumbers.map((n) => [n.phoneNumber, n.status, n.imported])).toEqual([
      [tollFree, 'PENDING', false],
    ]);
    const steps = await emailsOnce(account, (e) => e.subject.includes('toll-free'), 'MANUAL_PORT_INSTRUCTIONS');
    const instructions = steps.find((e) => e.subject.includes('toll-free'));
    expect(instructions?.subject).toBe('Do not cancel your CallRail service yet: steps to port your toll-free numbers');
    expect(instructions?.body.text).toContain('open Phone Numbers > Port & Host > Port In, choose toll-free');
    expect(instructions?.body.text).toContain('Toll-free ports usually complete in 7 to 21 business days');
    expect(instructions?.body.text).toContain(`- ${national(tollFree)}`);

    // While the customer ports it in Twilio's console, "do not cancel yet" comes at the reminder interval.
    const reminded = await emailsOnce(account, (e) => e.subject.startsWith('Reminder: do not cancel'), 'a reminder');
    const [reminder] = withSubject(reminded, 'Reminder: do not cancel');
    expect(reminder?.subject).toBe('Reminder: do not cancel your CallRail service yet');
    expect(reminder?.body.text).toContain(`- ${national(tollFree)}`);
    expect((await account.portRequest(id)).status).toBe('MANUAL');

    // The number arrives in the customer's Twilio account, as a finished manual port.
    await account.sim(`/_sim/accounts/${account.accountSid}/incoming-phone-numbers`, { phoneNumber: tollFree });
    const done = await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel');
    expect(done.status).toBe('COMPLETED');
    expect(done.phoneNumbers.map((n) => [n.phoneNumber, n.status, n.imported])).toEqual([
      [tollFree, 'COMPLETED', true],
    ]);
    expect(await incomingNumbers(account)).toEqual([[tollFree, CALL_ROUTER_URL]]);
    const inventory = await account.api.get<{
      items: Array<{ phoneNumber: string; source: string; portRequestId: string }>;
    }>(`${account.base}/inventory`);
    expect(inventory.body.items.map((n) => [n.phoneNumber, n.source, n.portRequestId])).toEqual([
      [tollFree, 'PORTED', id],
    ]);
    await workflows.ended(id);

    const emails = await emailsOnce(account, (e) => e.subject.toLowerCase().includes('safe to cancel'), 'completion');
    const last = emails.at(-1);
    expect(last?.subject).toBe('Your numbers are ported: it is now safe to cancel your CallRail service');
    expect(last?.body.text).toContain(`- ${national(tollFree)}`);
    expectEmailRules(emails, SECRETS);

    const events = await account.events(id);
    const templates = sentTemplates(events);
    expect(templates[0]).toBe('MANUAL_PORT_INSTRUCTIONS');
    expect(templates.at(-1)).toBe('PORT_COMPLETED');
    expect(countsOf(templates).DO_NOT_CANCEL_REMINDER).toBeGreaterThanOrEqual(1);
    expect(templates).not.toContain('PORT_SUBMITTED');
    expectInOrder(storyOf(events), [
      'ORDER_ACCEPTED:MANUAL',
      'EMAIL_SENT:MANUAL_PORT_INSTRUCTIONS',
      'EMAIL_SENT:DO_NOT_CANCEL_REMINDER',
      'STATUS_CHANGED:COMPLETED',
      `NUMBERS_IMPORTED:${tollFree}`,
      'EMAIL_SENT:PORT_COMPLETED',
    ]);
  }, 60000);

  it('says "safe to cancel" a carrier only once every port request of the order with that carrier is done', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const local = '+14155550171';
    const tollFree = '+18885550171';
    const ids = (await account.order(bill, [local, tollFree], 'CallRail', { pin: PIN })) as string[];
    const views = await Promise.all(ids.map((id) => account.portRequest(id)));
    const apiId = views.find((pr) => pr.route === 'API')?.portRequestId as string;
    const manualId = views.find((pr) => pr.route === 'MANUAL')?.portRequestId as string;
    const sid = await account.submitted(apiId);

    // The toll-free number (the MANUAL request) arrives first: ported and imported, yet CallRail still has the other.
    await account.sim(`/_sim/accounts/${account.accountSid}/incoming-phone-numbers`, { phoneNumber: tollFree });
    const manualDone = await account.waitFor(manualId, (pr) => pr.phoneNumbers.every((n) => n.imported), 'imported');
    expect([manualDone.status, manualDone.safeToCancelOldService]).toEqual(['COMPLETED', false]);
    const first = await emailsOnce(
      account,
      (e) => e.subject.startsWith('These numbers are ported'),
      'first completion',
    );
    const notYet = withSubject(first, 'These numbers are ported');
    expect(notYet.map((e) => e.subject)).toEqual(['These numbers are ported: do not cancel your CallRail service yet']);
    expect(notYet[0]?.body.text).toContain(national(local));
    expect(first.filter((e) => e.subject.toLowerCase().includes('safe to cancel'))).toEqual([]);

    // Then the local number completes at Twilio: now, and only now, both say it is safe.
    await account.setTwilioStatus(sid, { status: 'Completed', webhook: 'deliver' });
    const apiDone = await account.waitFor(apiId, (pr) => pr.safeToCancelOldService, 'safe to cancel');
    expect(apiDone.status).toBe('COMPLETED');
    expect((await account.portRequest(manualId)).safeToCancelOldService).toBe(true);
    const all = await emailsOnce(account, (e) => e.subject.includes('safe to cancel'), 'the safe-to-cancel email');
    expect(withSubject(all, 'Your numbers are ported').map((e) => e.subject)).toEqual([
      'Your numbers are ported: it is now safe to cancel your CallRail service',
    ]);
    expectEmailRules(all, SECRETS);
  }, 60000);

  it('reminds to sign the Letter of Authorization, at the interval, while it waits for the signature', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [id] = (await account.order(bill, ['+14155550430'], 'CallRail', { pin: PIN })) as [string];
    const sid = await account.submitted(id);
    await account.setTwilioStatus(sid, { status: 'Waiting for Signature' });
    await account.waitFor(id, (pr) => pr.status === 'WAITING_FOR_SIGNATURE', 'WAITING_FOR_SIGNATURE');

    // Reminders at the interval (2 s), each one about the signature, none of the general kind.
    const whileWaiting = await eventually(
      async () => {
        const events = await account.events(id);
        const from = events.findIndex((e) => e.type === 'STATUS_CHANGED' && e.status === 'WAITING_FOR_SIGNATURE');
        const after = events.slice(from);
        const reminders = after.filter((e) => e.type === 'EMAIL_SENT' && e.detail === 'LOA_SIGNATURE_REMINDER');
        return from >= 0 && reminders.length >= 2 ? after : undefined;
      },
      { what: 'two LOA reminders', timeoutMs: 15000 },
    );
    const sent = sentTemplates(whileWaiting);
    expect(sent).not.toContain('DO_NOT_CANCEL_REMINDER');
    const [first, second] = whileWaiting.filter(
      (e) => e.type === 'EMAIL_SENT' && e.detail === 'LOA_SIGNATURE_REMINDER',
    );
    expect(Date.parse(second?.at ?? '') - Date.parse(first?.at ?? '')).toBeGreaterThanOrEqual(1500);

    const emails = await eventually(
      async () => {
        const all = await account.emails();
        return withSubject(all, 'Reminder: sign the Letter of Authorization').length >= 2 ? all : undefined;
      },
      { what: 'two LOA reminder emails' },
    );
    const [reminder] = withSubject(emails, 'Reminder: sign the Letter of Authorization');
    expect(reminder?.subject).toBe(
      'Reminder: sign the Letter of Authorization, and do not cancel your CallRail service yet',
    );
    expect(reminder?.body.text).toContain(
      'The Letter of Authorization Twilio emailed to Jane Doe is still not signed.',
    );
    // Any general reminder went out before the request waited for its signature.
    const allEvents = await account.events(id);
    const waitingAt = allEvents.findIndex((e) => e.type === 'STATUS_CHANGED' && e.status === 'WAITING_FOR_SIGNATURE');
    const general = allEvents.flatMap((e, i) =>
      e.type === 'EMAIL_SENT' && e.detail === 'DO_NOT_CANCEL_REMINDER' ? [i] : [],
    );
    expect(general.every((i) => i < waitingAt)).toBe(true);
    expect(withSubject(emails, 'Reminder: do not cancel')).toHaveLength(general.length);
    expectEmailRules(emails, SECRETS);

    // The request expires: the reminders stop with the workflow.
    await account.setTwilioStatus(sid, { status: 'Expired' });
    await account.waitFor(id, (pr) => pr.status === 'EXPIRED', 'EXPIRED');
    await workflows.ended(id);
  }, 60000);
});
