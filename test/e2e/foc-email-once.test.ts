import type { LocalStack } from '../../local/stack';
import { startTestStack, TestAccount } from '../support/harness';
import { countsOf, emailsOnce, sentTemplates, settle, storyOf, utcDateInDays, Workflows } from '../support/paths';

/**
 * The FOC date is announced once: the path of the port-cost bench (polls every second, reminders every 12 s, the
 * carrier setting a FOC date that is already tomorrow, with its webhook).
 */
describe('a FOC date is announced once', () => {
  let stack: LocalStack;
  let workflows: Workflows;

  beforeAll(async () => {
    stack = await startTestStack({ pollIntervalSeconds: 1, reminderIntervalSeconds: 12 });
    workflows = new Workflows(stack);
  }, 60000);

  afterAll(async () => {
    workflows?.destroy();
    await stack?.stop();
  });

  it('sends one "your numbers move on" email when the carrier sets a FOC date for tomorrow', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [a, b] = ['+14155550610', '+14155550611'];
    const [id] = (await account.order(bill, [a, b], 'CallRail')) as [string];
    const sid = await account.submitted(id);
    const tomorrow = utcDateInDays(1);

    await account.setTwilioStatus(sid, { status: 'Waiting for Signature' });
    await account.waitFor(id, (pr) => pr.status === 'WAITING_FOR_SIGNATURE', 'WAITING_FOR_SIGNATURE');
    await account.setTwilioStatus(sid, { status: 'In Progress' });
    await settle(account, workflows, id);
    await account.setTwilioStatus(sid, {
      phoneNumbers: {
        [a]: { status: 'port_pending', focDate: tomorrow },
        [b]: { status: 'port_pending', focDate: tomorrow },
      },
    });
    await account.waitFor(id, (pr) => pr.focDate === tomorrow, `the FOC date ${tomorrow}`);
    await emailsOnce(account, (e) => e.subject.includes('move on'), 'the FOC email');
    // Polls and webhooks with nothing new, past a reminder interval.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await account.setTwilioStatus(sid, { status: 'In Progress' });
    await settle(account, workflows, id);

    await account.setTwilioStatus(sid, { status: 'Completed' });
    await workflows.ended(id);
    const emails = await emailsOnce(account, (e) => e.subject.includes('safe to cancel'), 'the completion email');
    const events = await account.events(id);

    // Announced once, in the email that sets it; that email is already the eve's reminder.
    const moveOn = emails.filter((e) => e.subject.includes(`move on ${tomorrow}`));
    expect(moveOn.map((e) => e.subject)).toEqual([
      `Do not cancel your CallRail service yet: your numbers move on ${tomorrow}`,
    ]);
    const counts = countsOf(sentTemplates(events));
    expect(counts.FOC_DATE_SET).toBe(1);
    expect(counts.FOC_TOMORROW_REMINDER).toBeUndefined();
    expect(counts.PORT_COMPLETED).toBe(1);
    expect(storyOf(events).filter((e) => e.startsWith('FOC_DATE'))).toEqual([`FOC_DATE_SET:${tomorrow}`]);
  }, 90000);
});
