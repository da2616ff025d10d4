import { portWake } from '../../domain/port-request';
import { isTerminal } from '../../domain/port-status';
import type { WaitForPortUpdatePayload } from '../../shared/workflow-contract';
import type { Clock, PortInRepository, WorkflowClient } from '../ports';

/**
 * WaitForPortUpdate (callback task): keeps the task token where the webhook handler finds it. A webhook that came
 * before the token was stored is not lost: it counted a wake (`wakeCount`) the last sync had not read yet, and the
 * task completes itself at once.
 */
export async function waitForPortUpdate(
  input: WaitForPortUpdatePayload,
  deps: { repository: PortInRepository; workflow: WorkflowClient; clock: Clock },
): Promise<{ waiting: boolean }> {
  const pr = await deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => ({
    ...current,
    taskToken: input.token,
  }));
  // A wake recorded after the last sync read the port request: counters, so no clock skew can hide it.
  const wokeEarly = (pr.wakeCount ?? 0) > (pr.wakesHandled ?? 0);
  if (wokeEarly || isTerminal(pr.status)) {
    await deps.workflow.completeTask(
      input.token,
      portWake(pr, wokeEarly ? 'early-webhook' : 'terminal', deps.clock.now()),
    );
    return { waiting: false };
  }
  return { waiting: true };
}
