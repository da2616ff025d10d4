import { withDelay, withoutDelay } from '../../domain/port-request';
import { NotRetriedErrorNames, WorkflowErrorNames } from '../../shared/error-names';
import type { StepAttempt } from '../../shared/workflow-contract';
import type { Clock, Metrics, PortInRepository } from '../ports';

/**
 * A step that fails this many times in a row delays its port: the third failure (a few seconds of retries in AWS)
 * is recorded as the port's one DELAYED event. One or two failures are a blip the retries absorb unseen.
 */
export const DELAY_RECORDED_AFTER_FAILURES = 3;

export interface StepDelayDeps {
  readonly repository: PortInRepository;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** How long a step may keep retrying before each retry counts PortsDelayed (the alarm's signal): 1 h in AWS. */
  readonly alertAfterSeconds: number;
}

/** What the customer-facing timeline says of a failure, from its error's name only (never its message). */
export function transientReason(state: string, error: unknown): string {
  const name = typeof error === 'object' && error !== null ? String((error as { name?: unknown }).name) : '';
  switch (name) {
    case WorkflowErrorNames.TwilioTransient:
      return `Twilio is not answering right now; ${state} is retried until it does`;
    case WorkflowErrorNames.EmailDeliveryFailed:
      return `The email service is not taking emails right now; ${state} is retried until it does`;
    case WorkflowErrorNames.ConcurrentUpdate:
      return `The port request kept changing while ${state} ran; it is retried`;
    default: {
      const aws = typeof error === 'object' && error !== null && '$metadata' in error;
      return aws
        ? `An AWS service did not answer (${name}); ${state} is retried until it does`
        : `${state} failed unexpectedly (${name || 'error'}); it is retried`;
    }
  }
}

const isNotRetried = (error: unknown): boolean =>
  (NotRetriedErrorNames as readonly string[]).includes(String((error as { name?: unknown } | undefined)?.name));

async function recordDelay(attempt: StepAttempt, reason: string, deps: StepDelayDeps): Promise<void> {
  const at = deps.clock.now().toISOString();
  await deps.repository.updatePortRequest(attempt.accountId, attempt.portRequestId, (pr) => {
    const delayed = withDelay(pr, { since: attempt.enteredTime, reason, at });
    return delayed === pr ? undefined : delayed;
  });
}

/**
 * Before a step runs. On a retry (the attempts before it failed), counts PortsDelayed once the step has been
 * retrying past the alert threshold, published at once (a function that crashes or times out never reaches the end
 * of its invocation); and, past {@link DELAY_RECORDED_AFTER_FAILURES} failures that never reported an error (the
 * function crashed or timed out), records the delay.
 */
export async function noteStepAttempt(attempt: StepAttempt, deps: StepDelayDeps): Promise<void> {
  if (attempt.retryCount < 1) return;
  const delayedMs = deps.clock.now().getTime() - Date.parse(attempt.enteredTime);
  if (delayedMs >= deps.alertAfterSeconds * 1000) {
    deps.metrics.count('PortsDelayed');
    deps.metrics.publishNow();
  }
  if (attempt.retryCount >= DELAY_RECORDED_AFTER_FAILURES) {
    const reason = `${attempt.state} failed ${attempt.retryCount} times in a row; it is retried`;
    await recordDelay(attempt, reason, deps);
  }
}

/** After a step failed: the failure that makes it {@link DELAY_RECORDED_AFTER_FAILURES} in a row records the delay. */
export async function noteStepFailure(attempt: StepAttempt, error: unknown, deps: StepDelayDeps): Promise<void> {
  if (isNotRetried(error) || attempt.retryCount + 1 < DELAY_RECORDED_AFTER_FAILURES) return;
  await recordDelay(attempt, transientReason(attempt.state, error), deps);
}

/** After a retried step succeeded: the delay, if one was recorded, is over. */
export async function noteStepSuccess(attempt: StepAttempt, deps: StepDelayDeps): Promise<void> {
  if (attempt.retryCount < 1) return;
  await deps.repository.updatePortRequest(attempt.accountId, attempt.portRequestId, (pr) => {
    const cleared = withoutDelay(pr);
    return cleared === pr ? undefined : cleared;
  });
}
