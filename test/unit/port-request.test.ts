import {
  applyTwilioSnapshot,
  estimatedMonthlyCostUsd,
  expectedCompletion,
  isSafeToCancelOldService,
  type PortRequest,
  portWake,
  withReminderIfDue,
} from '../../lambdas/domain/port-request';
import { samplePortRequest } from '../support/fixtures';

const base: PortRequest = samplePortRequest();
const at = '2026-11-03T10:00:00.000Z';

describe('applyTwilioSnapshot', () => {
  it('records the FOC date with its event and email', () => {
    const next = applyTwilioSnapshot(
      base,
      {
        status: 'In Progress',
        phoneNumbers: [
          { phoneNumber: '+14155550100', status: 'port_pending', focDate: '2026-11-12' },
          { phoneNumber: '+14155550101', status: 'port_pending', focDate: '2026-11-12' },
        ],
      },
      at,
    );
    expect(next.status).toBe('FOC_RECEIVED');
    expect(next.focDate).toBe('2026-11-12');
    expect(next.events.map((e) => e.type)).toEqual(['FOC_DATE_SET', 'STATUS_CHANGED']);
    expect(next.outbox.map((e) => e.template)).toEqual(['FOC_DATE_SET']);
  });

  it('never moves a request backwards when Twilio lags or a stale answer comes', () => {
    const foc = { ...base, status: 'FOC_RECEIVED' as const };
    const next = applyTwilioSnapshot(foc, { status: 'In Review', phoneNumbers: [] }, at);
    expect(next.status).toBe('FOC_RECEIVED');
    expect(next.events).toEqual([]);
  });

  it('changes nothing once the request is terminal', () => {
    const done = { ...base, status: 'COMPLETED' as const };
    expect(applyTwilioSnapshot(done, { status: 'Canceled', phoneNumbers: [] }, at)).toBe(done);
  });

  it('completes every number that was not rejected when the request completes', () => {
    const next = applyTwilioSnapshot(base, { status: 'Completed', phoneNumbers: [] }, at);
    expect(next.status).toBe('COMPLETED');
    expect(next.phoneNumbers.map((n) => n.status)).toEqual(['COMPLETED', 'COMPLETED']);
    expect(next.outbox).toEqual([]);
  });

  it('owes the ACTION_REQUIRED email with the rejection reason kept per number', () => {
    const next = applyTwilioSnapshot(
      base,
      {
        status: 'Action Required',
        phoneNumbers: [{ phoneNumber: '+14155550100', status: 'port_rejected', rejectionReason: 'INVALID_PIN' }],
      },
      at,
    );
    expect(next.status).toBe('ACTION_REQUIRED');
    expect(next.phoneNumbers[0]).toMatchObject({ status: 'REJECTED', rejectionReason: 'INVALID_PIN' });
    expect(next.outbox.map((e) => e.template)).toEqual(['ACTION_REQUIRED']);
  });
});

describe('reminders and safety', () => {
  it('queues a reminder only once the interval has passed', () => {
    const day = 24 * 3600;
    expect(withReminderIfDue(base, at, 3 * day).outbox).toEqual([]);
    const later = withReminderIfDue(base, '2026-11-05T10:00:00.000Z', 3 * day);
    expect(later.outbox.map((e) => e.template)).toEqual(['DO_NOT_CANCEL_REMINDER']);
    expect(later.lastReminderAt).toBe('2026-11-05T10:00:00.000Z');
  });

  it('is safe to cancel only when completed, imported and every number verified (or verification skipped)', () => {
    const completed = applyTwilioSnapshot(base, { status: 'Completed', phoneNumbers: [] }, at);
    expect(isSafeToCancelOldService(completed)).toBe(false);
    const withVerification = (...statuses: Array<'PENDING' | 'PASSED' | 'FAILED' | 'SKIPPED'>) => ({
      ...completed,
      phoneNumbers: completed.phoneNumbers.map((n, i) => ({
        ...n,
        imported: true,
        verification: { status: statuses[i] ?? 'PENDING' },
      })),
    });
    expect(isSafeToCancelOldService(withVerification('PENDING', 'PENDING'))).toBe(false);
    expect(isSafeToCancelOldService(withVerification('PASSED', 'FAILED'))).toBe(false);
    expect(isSafeToCancelOldService(withVerification('PASSED', 'PASSED'))).toBe(true);
    expect(isSafeToCancelOldService(withVerification('SKIPPED', 'SKIPPED'))).toBe(true);
  });

  it('estimates the completion window in business days and the monthly cost', () => {
    // 2026-11-02 is a Monday: 7 business days later is Wednesday 11-11, 10 is Monday 11-16.
    expect(expectedCompletion(base)).toEqual({ earliest: '2026-11-11', latest: '2026-11-16' });
    expect(
      estimatedMonthlyCostUsd([{ numberType: 'LOCAL' }, { numberType: 'LOCAL' }, { numberType: 'TOLL_FREE' }]),
    ).toBe(4.3);
  });
});

describe('FOC changes and reminders', () => {
  const withFoc = (pr: PortRequest, focDate: string) =>
    applyTwilioSnapshot(
      pr,
      {
        status: 'In Progress',
        phoneNumbers: pr.phoneNumbers.map((n) => ({ phoneNumber: n.phoneNumber, status: 'port_pending', focDate })),
      },
      at,
    );

  it('tells the customer when the FOC date moves, naming both dates', () => {
    const first = withFoc(base, '2026-11-12');
    const moved = withFoc(first, '2026-11-19');
    expect(moved.previousFocDate).toBe('2026-11-12');
    expect(moved.events.at(-1)).toMatchObject({ type: 'FOC_DATE_CHANGED', detail: '2026-11-12 → 2026-11-19' });
    expect(moved.outbox.map((e) => e.template)).toEqual(['FOC_DATE_SET', 'FOC_DATE_CHANGED']);
    expect(withFoc(moved, '2026-11-19').outbox).toHaveLength(2);
  });

  it('reminds once on the day before the FOC date', () => {
    const foc = withFoc({ ...base, lastReminderAt: '2026-11-09T10:00:00.000Z' }, '2026-11-12');
    const week = 7 * 24 * 3600;
    expect(withReminderIfDue(foc, '2026-11-10T09:00:00.000Z', week).outbox.map((e) => e.template)).toEqual([
      'FOC_DATE_SET',
    ]);
    const dayBefore = withReminderIfDue(foc, '2026-11-11T09:00:00.000Z', week);
    expect(dayBefore.outbox.map((e) => e.template)).toEqual(['FOC_DATE_SET', 'FOC_TOMORROW_REMINDER']);
    expect(withReminderIfDue(dayBefore, '2026-11-11T15:00:00.000Z', week).outbox).toHaveLength(2);
  });

  it('asks for the LOA signature instead of the plain reminder while waiting for it', () => {
    const waiting = applyTwilioSnapshot(base, { status: 'Waiting for Signature', phoneNumbers: [] }, at);
    expect(waiting.outbox.map((e) => e.template)).toEqual(['LOA_SIGNATURE_NEEDED']);
    const later = withReminderIfDue(waiting, '2026-11-06T10:00:00.000Z', 3 * 24 * 3600);
    expect(later.outbox.map((e) => e.template)).toEqual(['LOA_SIGNATURE_NEEDED', 'LOA_SIGNATURE_REMINDER']);
  });

  it('emails again when more numbers are rejected while action is already required', () => {
    const rejectedOne = applyTwilioSnapshot(
      base,
      {
        status: 'Action Required',
        phoneNumbers: [{ phoneNumber: '+14155550100', status: 'port_rejected', rejectionReason: 'INVALID_PIN' }],
      },
      at,
    );
    const rejectedBoth = applyTwilioSnapshot(
      rejectedOne,
      {
        status: 'Action Required',
        phoneNumbers: [
          { phoneNumber: '+14155550100', status: 'port_rejected', rejectionReason: 'INVALID_PIN' },
          { phoneNumber: '+14155550101', status: 'port_rejected', rejectionReason: 'INVALID_ADDRESS' },
        ],
      },
      at,
    );
    expect(rejectedBoth.outbox.map((e) => e.template)).toEqual(['ACTION_REQUIRED', 'ACTION_REQUIRED']);
    expect(rejectedBoth.events.at(-1)).toMatchObject({ type: 'NUMBERS_REJECTED', detail: '+14155550101' });
    expect(applyTwilioSnapshot(rejectedBoth, { status: 'Action Required', phoneNumbers: [] }, at).outbox).toHaveLength(
      2,
    );
  });
});

describe('portWake: when the sync a wake asks for may start', () => {
  const now = new Date('2026-12-08T10:00:00.250Z');

  it("holds a webhook's sync until the settle window after the last sync ends", () => {
    const pr = { webhookSyncNotBefore: '2026-12-08T10:00:12.000Z' };
    expect(portWake(pr, 'webhook', now)).toEqual({ wokenBy: 'webhook', syncNotBefore: '2026-12-08T10:00:12Z' });
    expect(portWake(pr, 'early-webhook', now).syncNotBefore).toBe('2026-12-08T10:00:12Z');
  });

  it('never holds a cancel, a correction or a finished port, nor a webhook past the window', () => {
    const pr = { webhookSyncNotBefore: '2026-12-08T10:00:12.000Z' };
    for (const cause of ['cancel', 'correction', 'terminal'] as const) {
      expect(portWake(pr, cause, now).syncNotBefore).toBe('2026-12-08T10:00:01Z');
    }
    expect(portWake({ webhookSyncNotBefore: '2026-12-08T09:59:00.000Z' }, 'webhook', now).syncNotBefore).toBe(
      '2026-12-08T10:00:01Z',
    );
    expect(portWake({}, 'webhook', now).syncNotBefore).toBe('2026-12-08T10:00:01Z');
  });

  it('rounds up to whole seconds (Step Functions truncates milliseconds), so no wait is ever cut short', () => {
    expect(portWake({ webhookSyncNotBefore: '2026-12-08T10:00:12.001Z' }, 'webhook', now).syncNotBefore).toBe(
      '2026-12-08T10:00:13Z',
    );
    expect(portWake({}, 'cancel', new Date('2026-12-08T10:00:00.000Z')).syncNotBefore).toBe('2026-12-08T10:00:00Z');
  });
});
