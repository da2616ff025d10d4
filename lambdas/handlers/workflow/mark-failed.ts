import * as z from 'zod/mini';
import { DynamoPortInRepository } from '../../adapters/dynamodb/port-in-repository';
import { env, loadConfig } from '../../shared/config';
import { logger } from '../../shared/logger';
import { markFailed } from '../../use-cases/workflow/mark-failed';
import { portStepInputSchema, systemClock } from './step-input';

const config = loadConfig(z.object({ TABLE_NAME: env.TABLE_NAME }));
const deps = { repository: new DynamoPortInRepository(config.TABLE_NAME), clock: systemClock };

const inputSchema = z.extend(portStepInputSchema, {
  error: z.optional(z.looseObject({ Error: z.optional(z.string()) })),
});

/** MarkFailed step: the port could not be submitted. */
export const handler = async (event: unknown) => {
  const input = inputSchema.parse(event);
  logger.appendKeys({ portRequestId: input.portRequestId });
  logger.error('port-in submission failed', { errorName: input.error?.Error });
  return markFailed({ ...input, errorName: input.error?.Error }, deps);
};
