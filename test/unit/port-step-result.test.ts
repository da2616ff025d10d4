import type { OutboxEmail } from '../../lambdas/domain/port-request';
import { portStepResult } from '../../lambdas/use-cases/workflow/submit-port-in';

/** What SubmitPortIn, SyncPortStatus and MarkFailed tell IsPortFinished about the outbox. */
describe('portStepResult', () => {
  const queued: OutboxEmail = { id: 'PORT_SUBMITTED#1', template: 'PORT_SUBMITTED', createdAt: '2026-11-01T00:00:00Z' };
  const sent: OutboxEmail = { ...queued, sentAt: '2026-11-01T00:00:01Z', messageId: 'm-1' };
  const deadLettered: OutboxEmail = {
    ...queued,
    id: 'DO_NOT_CANCEL_REMINDER#2',
    template: 'DO_NOT_CANCEL_REMINDER',
    deadLetteredAt: '2026-11-01T00:00:02Z',
    deadLetterReason: 'MessageRejected',
  };

  it('owes emails while one is neither sent nor dead-lettered', () => {
    expect(
      portStepResult({ status: 'IN_REVIEW', outbox: [sent, { ...queued, id: 'DO_NOT_CANCEL_REMINDER#3' }] }),
    ).toEqual({
      status: 'IN_REVIEW',
      emailsPending: true,
    });
  });

  it('owes none once every email is sent or dead-lettered (SES refused it for good: not sent again)', () => {
    expect(portStepResult({ status: 'IN_REVIEW', outbox: [] })).toEqual({ status: 'IN_REVIEW', emailsPending: false });
    expect(portStepResult({ status: 'FOC_RECEIVED', outbox: [sent, deadLettered] })).toEqual({
      status: 'FOC_RECEIVED',
      emailsPending: false,
    });
  });
});
