import type { PortRequest } from '../../lambdas/domain/port-request';
import { WorkflowErrorNames } from '../../lambdas/shared/error-names';
import type { StepAttempt } from '../../lambdas/shared/workflow-contract';
import type { PortInRepository } from '../../lambdas/use-cases/ports';
import {
  DELAY_RECORDED_AFTER_FAILURES,
  noteStepAttempt,
  noteStepFailure,
  noteStepSuccess,
  transientReason,
} from '../../lambdas/use-cases/workflow/step-delays';
import { samplePortRequest } from '../support/fixtures';
import { recordingMetrics } from '../support/recording-metrics';

const entered = '2026-11-03T10:00:00.000Z';

/** One port request kept in memory, behind the one repository call the delay notes make. */
function harness(nowIso: string) {
  let stored: PortRequest = samplePortRequest();
  let writes = 0;
  const repository = {
    updatePortRequest: async (
      _accountId: string,
      _id: string,
      change: (pr: PortRequest) => PortRequest | undefined,
    ) => {
      const next = change(stored);
      if (next) {
        stored = next;
        writes += 1;
      }
      return stored;
    },
  } as unknown as PortInRepository;
  const recorded = recordingMetrics();
  const deps = {
    repository,
    metrics: recorded.metrics,
    clock: { now: () => new Date(nowIso) },
    alertAfterSeconds: 3600,
  };
  const attempt = (retryCount: number, state = 'SubmitPortIn'): StepAttempt => ({
    accountId: stored.accountId,
    portRequestId: stored.portRequestId,
    state,
    retryCount,
    enteredTime: entered,
  });
  return { deps, attempt, recorded, stored: () => stored, writes: () => writes };
}

const named = (name: string, message = 'details that stay out of the timeline') =>
  Object.assign(new Error(message), { name });

describe('the delay notes of a workflow step', () => {
  it('records one DELAYED event on the third failure in a row, none before, and keeps the status', async () => {
    const h = harness('2026-11-03T10:00:05.000Z');
    const statusBefore = h.stored().status;
    const error = named(WorkflowErrorNames.TwilioTransient, 'Twilio answered 503 with token AC123');
    for (let retryCount = 0; retryCount < DELAY_RECORDED_AFTER_FAILURES - 1; retryCount += 1) {
      await noteStepFailure(h.attempt(retryCount), error, h.deps);
    }
    expect(h.stored().events.filter((e) => e.type === 'DELAYED')).toEqual([]);
    for (let retryCount = DELAY_RECORDED_AFTER_FAILURES - 1; retryCount < 40; retryCount += 1) {
      await noteStepAttempt(h.attempt(retryCount), h.deps);
      await noteStepFailure(h.attempt(retryCount), error, h.deps);
    }
    expect(h.stored().events.filter((e) => e.type === 'DELAYED')).toEqual([
      {
        at: '2026-11-03T10:00:05.000Z',
        type: 'DELAYED',
        detail: 'Twilio is not answering right now; SubmitPortIn is retried until it does',
      },
    ]);
    expect(h.writes()).toBe(1);
    expect(h.stored()).toMatchObject({ status: statusBefore, delayedSince: entered });
    expect(h.stored().outbox).toEqual(samplePortRequest().outbox);
    expect(JSON.stringify(h.stored().events)).not.toContain('AC123');
  });

  it('ends the delay when a retry succeeds; the next delay gets its own event', async () => {
    const h = harness('2026-11-03T10:00:05.000Z');
    await noteStepFailure(h.attempt(2), named('ProvisionedThroughputExceededException'), h.deps);
    await noteStepSuccess(h.attempt(3), h.deps);
    expect(h.stored().delayedSince).toBeUndefined();
    await noteStepFailure(h.attempt(2, 'ImportNumbers'), named(WorkflowErrorNames.EmailDeliveryFailed), h.deps);
    expect(h.stored().events.filter((e) => e.type === 'DELAYED')).toHaveLength(2);
  });

  it('records a delay whose failures never reached the handler (a crash, a timeout) from the retry count', async () => {
    const h = harness('2026-11-03T10:00:05.000Z');
    await noteStepAttempt(h.attempt(DELAY_RECORDED_AFTER_FAILURES - 1), h.deps);
    expect(h.stored().delayedSince).toBeUndefined();
    await noteStepAttempt(h.attempt(DELAY_RECORDED_AFTER_FAILURES), h.deps);
    expect(h.stored().events.at(-1)).toMatchObject({
      type: 'DELAYED',
      detail: 'SubmitPortIn failed 3 times in a row; it is retried',
    });
  });

  it('never delays for a refusal: that is FAILED, not a delay', async () => {
    const h = harness('2026-11-03T10:00:05.000Z');
    await noteStepFailure(h.attempt(5), named(WorkflowErrorNames.PortInRejected), h.deps);
    expect(h.writes()).toBe(0);
  });

  it('counts PortsDelayed, published at once, only for retries past the alert threshold', async () => {
    const early = harness('2026-11-03T10:59:59.000Z');
    await noteStepAttempt(early.attempt(30), early.deps);
    expect(early.recorded.counts.PortsDelayed).toBeUndefined();
    const late = harness('2026-11-03T11:00:00.000Z');
    await noteStepAttempt(late.attempt(0), late.deps);
    expect(late.recorded.counts.PortsDelayed).toBeUndefined();
    await noteStepAttempt(late.attempt(31), late.deps);
    await noteStepAttempt(late.attempt(32), late.deps);
    expect(late.recorded.counts.PortsDelayed).toBe(2);
    expect(late.recorded.publishedEarly()).toBe(2);
  });

  it('says what is wrong in words a customer reads, from the error name only', () => {
    expect(transientReason('SyncPortStatus', named(WorkflowErrorNames.ConcurrentUpdate))).toBe(
      'The port request kept changing while SyncPortStatus ran; it is retried',
    );
    const aws = Object.assign(named('ThrottlingException'), { $metadata: {} });
    expect(transientReason('ImportNumbers', aws)).toBe(
      'An AWS service did not answer (ThrottlingException); ImportNumbers is retried until it does',
    );
    expect(transientReason('MarkFailed', 'not an error')).toBe('MarkFailed failed unexpectedly (error); it is retried');
  });
});
