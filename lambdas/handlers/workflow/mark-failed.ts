import * as z from 'zod/mini';
import { DynamoPortInRepository } from '../../adapters/dynamodb/port-in-repository';
import { metrics } from '../../adapters/observability/metrics';
import { env, loadConfig } from '../../shared/config';
import { logger } from '../../shared/logger';
import { markFailed } from '../../use-cases/workflow/mark-failed';
import { portStepInputSchema, systemClock, workflowStep } from './step-input';

const config = loadConfig(z.object({ TABLE_NAME: env.TABLE_NAME }));
const deps = { repository: new DynamoPortInRepository(config.TABLE_NAME), clock: systemClock, metrics };

const inputSchema = z.extend(portStepInputSchema, {
  error: z.optional(z.looseObject({ Error: z.optional(z.string()) })),
});

/** MarkFailed step: the port could not be submitted. */
export const handler = workflowStep(
  inputSchema,
  (input) => {
    logger.error('port-in submission failed', { errorName: input.error?.Error });
    return markFailed({ ...input, errorName: input.error?.Error }, deps);
  },
  deps.repository,
);
