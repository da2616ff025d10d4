import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { DynamoPortInRepository } from '../../adapters/dynamodb/port-in-repository';
import { metrics } from '../../adapters/observability/metrics';
import { observability } from '../../adapters/observability/middleware';
import { StepFunctionsWorkflowClient } from '../../adapters/sfn/step-functions-workflow-client';
import { env, loadConfig } from '../../shared/config';
import { logger } from '../../shared/logger';
import { type StartPendingWorkflowsResult, startPendingWorkflows } from '../../use-cases/start-pending-workflows';

const config = loadConfig(
  z.object({
    TABLE_NAME: env.TABLE_NAME,
    STATE_MACHINE_ARN: env.STATE_MACHINE_ARN,
    POLL_INTERVAL_SECONDS: env.POLL_INTERVAL_SECONDS,
    REMINDER_INTERVAL_SECONDS: env.REMINDER_INTERVAL_SECONDS,
    WORKFLOW_START_GRACE_SECONDS: env.WORKFLOW_START_GRACE_SECONDS,
  }),
);

const deps = {
  repository: new DynamoPortInRepository(config.TABLE_NAME),
  workflow: new StepFunctionsWorkflowClient(config.STATE_MACHINE_ARN),
  clock: { now: () => new Date() },
  metrics,
  // The same cadence the product API gives executions: a start of one it started already is then the same input.
  cadence: {
    pollIntervalSeconds: config.POLL_INTERVAL_SECONDS,
    reminderIntervalSeconds: config.REMINDER_INTERVAL_SECONDS,
  },
};

/** Starts per run: far more than a minute of deferred starts at the API's throttling limit needs. */
const MAX_STARTS_PER_RUN = 500;
/** Stop starting with this much of the invocation's time left, so the run ends on its own rather than timing out. */
const TIME_RESERVE_MS = 5000;

/**
 * StartPendingWorkflowsFunction, run every minute by its schedule: starts the executions that accepted orders still
 * lack (see lambdas/use-cases/start-pending-workflows.ts). The scheduled event carries nothing it needs.
 */
export const handler = middy<ScheduledEvent, StartPendingWorkflowsResult, Error, Context>()
  .use(observability<ScheduledEvent, StartPendingWorkflowsResult>())
  .handler(async (_event, context) => {
    const result = await startPendingWorkflows(
      {
        minAgeSeconds: config.WORKFLOW_START_GRACE_SECONDS,
        maxStarts: MAX_STARTS_PER_RUN,
        hasTimeLeft: () => context.getRemainingTimeInMillis() > TIME_RESERVE_MS,
      },
      deps,
    );
    if (result.started > 0 || result.failed > 0) logger.info('pending workflow starts swept', { ...result });
    return result;
  });
