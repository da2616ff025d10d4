import { withEmail, withStatus } from '../../domain/port-request';
import type { PortStepResult } from '../../shared/workflow-contract';
import type { Clock, PortInRepository } from '../ports';

/** MarkFailed: the service could not submit the port; the customer is told to keep the old service. */
export async function markFailed(
  input: { accountId: string; portRequestId: string; errorName?: string },
  deps: { repository: PortInRepository; clock: Clock },
): Promise<PortStepResult> {
  const at = deps.clock.now().toISOString();
  const updated = await deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => {
    const failed = withStatus(current, 'FAILED', at, input.errorName ?? 'submission failed');
    return failed === current ? undefined : withEmail(failed, 'PORT_FAILED', at);
  });
  return { status: updated.status };
}
