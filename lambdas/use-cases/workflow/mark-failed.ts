import { withEmail, withStatus } from '../../domain/port-request';
import type { PortStepResult } from '../../shared/workflow-contract';
import type { Clock, Metrics, PortInRepository } from '../ports';
import { portStepResult } from './submit-port-in';

/** MarkFailed: the service could not submit the port; the customer is told to keep the old service. */
export async function markFailed(
  input: { accountId: string; portRequestId: string; errorName?: string },
  deps: { repository: PortInRepository; clock: Clock; metrics: Metrics },
): Promise<PortStepResult> {
  const at = deps.clock.now().toISOString();
  let failedNow = false;
  const updated = await deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => {
    const failed = withStatus(current, 'FAILED', at, input.errorName ?? 'submission failed');
    failedNow = failed !== current;
    return failedNow ? withEmail(failed, 'PORT_FAILED', at) : undefined;
  });
  // Counted once: a retried MarkFailed finds the port FAILED already and changes nothing.
  if (failedNow) deps.metrics.count('PortsFailed');
  return portStepResult(updated);
}
