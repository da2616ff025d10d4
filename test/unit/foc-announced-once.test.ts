import { renderEmail } from '../../lambdas/domain/emails';
import { applyTwilioSnapshot, type PortRequest, withReminderIfDue } from '../../lambdas/domain/port-request';
import { toEmailData } from '../../lambdas/use-cases/workflow/deliver-emails';
import { samplePortRequest } from '../support/fixtures';

const base: PortRequest = samplePortRequest({
  status: 'SUBMITTED',
  lastReminderAt: '2026-11-09T10:00:00.000Z',
});
const WEEK = 7 * 24 * 3600;

/** One SyncPortStatus as it applies a Twilio answer: the snapshot, then the reminders due. */
function sync(pr: PortRequest, focDate: string, at: string): PortRequest {
  const snapshot = {
    status: 'In Progress',
    phoneNumbers: pr.phoneNumbers.map((n) => ({ phoneNumber: n.phoneNumber, status: 'port_pending', focDate })),
  };
  return withReminderIfDue(applyTwilioSnapshot(pr, snapshot, at), at, WEEK);
}

const templates = (pr: PortRequest) => pr.outbox.map((e) => e.template);

describe('a FOC date is announced once', () => {
  it('sends no "tomorrow" reminder besides the email that sets a FOC date already due tomorrow', () => {
    const set = sync(base, '2026-11-12', '2026-11-11T09:00:00.000Z');
    expect(templates(set)).toEqual(['FOC_DATE_SET']);
    expect(set.focReminderSentFor).toBe('2026-11-12');
    // It stands for the reminder: a "do not cancel" reminder due at the same sync waits its interval, as after one.
    const due = sync({ ...base, lastReminderAt: '2026-11-01T09:00:00.000Z' }, '2026-11-12', '2026-11-11T09:00:00.000Z');
    expect(templates(due)).toEqual(['FOC_DATE_SET']);
    expect(due.lastReminderAt).toBe('2026-11-11T09:00:00.000Z');
    // Later syncs on the day before and on the day itself change nothing.
    const later = sync(sync(set, '2026-11-12', '2026-11-11T21:00:00.000Z'), '2026-11-12', '2026-11-12T08:00:00.000Z');
    expect(templates(later)).toEqual(['FOC_DATE_SET']);
  });

  it('sends no "tomorrow" reminder besides the email that moves the FOC date to tomorrow or today', () => {
    const first = sync(base, '2026-11-20', '2026-11-03T10:00:00.000Z');
    expect(first.focReminderSentFor).toBeUndefined();
    const tomorrow = sync(first, '2026-11-12', '2026-11-11T09:00:00.000Z');
    expect(templates(tomorrow)).toEqual(['FOC_DATE_SET', 'FOC_DATE_CHANGED']);
    const today = sync(first, '2026-11-11', '2026-11-11T09:00:00.000Z');
    expect(templates(today)).toEqual(['FOC_DATE_SET', 'FOC_DATE_CHANGED']);
  });

  it('still reminds the day before a date announced earlier, and before a later date it moves to', () => {
    const set = sync(base, '2026-11-12', '2026-11-10T09:00:00.000Z');
    expect(templates(set)).toEqual(['FOC_DATE_SET']);
    const reminded = sync(set, '2026-11-12', '2026-11-11T09:00:00.000Z');
    expect(templates(reminded)).toEqual(['FOC_DATE_SET', 'FOC_TOMORROW_REMINDER']);

    // Set for tomorrow (no reminder), then pushed out a week: the new date gets its own reminder on its eve.
    const setLate = sync(base, '2026-11-12', '2026-11-11T09:00:00.000Z');
    const pushed = sync(setLate, '2026-11-19', '2026-11-11T15:00:00.000Z');
    expect(templates(pushed)).toEqual(['FOC_DATE_SET', 'FOC_DATE_CHANGED']);
    const eve = sync(pushed, '2026-11-19', '2026-11-18T09:00:00.000Z');
    expect(templates(eve)).toEqual(['FOC_DATE_SET', 'FOC_DATE_CHANGED', 'FOC_TOMORROW_REMINDER']);
  });

  it('gives the reminder a subject of its own, so it never reads as the announcement sent again', () => {
    const pr = { ...base, focDate: '2026-11-12' };
    const announced = renderEmail('FOC_DATE_SET', toEmailData(pr)).subject;
    const reminder = renderEmail('FOC_TOMORROW_REMINDER', toEmailData(pr)).subject;
    expect(reminder).not.toBe(announced);
    expect(reminder).toBe('Reminder: your numbers move on 2026-11-12, and do not cancel your CallRail service yet');
    expect(reminder.toLowerCase()).toContain('do not cancel');
  });
});
