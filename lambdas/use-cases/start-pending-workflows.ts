import { logger } from '../shared/logger';
import { isTransientError } from '../shared/transient-errors';
import type { Clock, Metrics } from './ports';
import { type StartPortWorkflowDeps, startPendingWorkflow } from './start-port-workflow';

/** What the sweeper needs. */
export interface StartPendingWorkflowsDeps extends StartPortWorkflowDeps {
  readonly clock: Clock;
  readonly metrics: Metrics;
}

/** One run of the sweeper. */
export interface StartPendingWorkflowsInput {
  /**
   * Only marks at least this old: a younger one most likely belongs to an API call that is starting that execution
   * right now (starting it twice would be harmless, only wasted).
   */
  readonly minAgeSeconds: number;
  /** At most this many starts a run; the next run goes on from the oldest left. */
  readonly maxStarts: number;
  /** Marks read per query. @default 50 */
  readonly pageSize?: number;
  /** False once the run should stop (the Lambda's time is running out). @default always true */
  readonly hasTimeLeft?: () => boolean;
}

/** What a run did. */
export interface StartPendingWorkflowsResult {
  readonly started: number;
  readonly failed: number;
  /** Marks were left for the next run (the run's bound, its time, or a transient failure stopped it). */
  readonly more: boolean;
}

/**
 * The sweeper: starts the executions of port requests still marked pending (the product API could not start them,
 * or its function died after writing the order), oldest first, and clears their marks. Every start is idempotent,
 * so a run overlapping an API call or another run does no harm. A transient failure (Step Functions throttled) ends
 * the run, to give it room; any other failure of one start is counted and the run goes on, so that one bad port
 * request never holds up the rest.
 */
export async function startPendingWorkflows(
  input: StartPendingWorkflowsInput,
  deps: StartPendingWorkflowsDeps,
): Promise<StartPendingWorkflowsResult> {
  const hasTimeLeft = input.hasTimeLeft ?? (() => true);
  const pendingBefore = new Date(deps.clock.now().getTime() - input.minAgeSeconds * 1000).toISOString();
  let started = 0;
  let failed = 0;
  let seen = 0;
  let cursor: string | undefined;
  let more = false;
  sweep: while (seen < input.maxStarts) {
    const page = await deps.repository.listPendingWorkflowStarts({
      pendingBefore,
      limit: Math.min(input.pageSize ?? 50, input.maxStarts - seen),
      ...(cursor ? { cursor } : {}),
    });
    for (const pending of page.items) {
      if (!hasTimeLeft()) {
        more = true;
        break sweep;
      }
      seen += 1;
      try {
        await startPendingWorkflow(pending, deps);
        started += 1;
      } catch (error) {
        failed += 1;
        logger.warn('could not start a pending workflow', {
          portRequestId: pending.portRequestId,
          pendingSince: pending.pendingSince,
          errorName: (error as Error | undefined)?.name,
        });
        if (isTransientError(error)) {
          more = true;
          break sweep;
        }
      }
    }
    cursor = page.nextCursor;
    more = cursor !== undefined;
    if (!more) break;
  }
  if (started > 0) deps.metrics.count('WorkflowStartsSwept', started);
  if (failed > 0) deps.metrics.count('WorkflowStartsFailed', failed);
  return { started, failed, more };
}
