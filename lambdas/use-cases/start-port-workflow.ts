import { logger } from '../shared/logger';
import type { PortWorkflowInput } from '../shared/workflow-contract';
import type { PendingWorkflowStart, PortInRepository, WorkflowClient } from './ports';

/** What starting a port request's execution needs. */
export interface StartPortWorkflowDeps {
  readonly repository: PortInRepository;
  readonly workflow: WorkflowClient;
  /** The cadence every execution's input carries (the same from the product API and the sweeper). */
  readonly cadence: PortWorkflowInput['cadence'];
}

/**
 * Starts the execution of a port request whose start is pending, then clears the mark. The execution is named
 * after the port request, so a start someone else made first counts as done. Throws when the start fails: the
 * mark stays, and the sweeper tries again. A mark that fails to clear is only logged: the sweeper's start of an
 * execution that exists is harmless, and it clears the mark then.
 */
export async function startPendingWorkflow(
  pending: Pick<PendingWorkflowStart, 'accountId' | 'portRequestId' | 'route'>,
  deps: StartPortWorkflowDeps,
): Promise<void> {
  const { accountId, portRequestId, route } = pending;
  await deps.workflow.startPortWorkflow({ accountId, portRequestId, route, cadence: deps.cadence });
  try {
    await deps.repository.clearWorkflowStartPending(accountId, portRequestId);
  } catch (error) {
    logger.warn('execution started; its pending mark stays for the sweeper', {
      portRequestId,
      errorName: (error as Error | undefined)?.name,
    });
  }
}
