import * as z from 'zod/mini';
import { DynamoPortInRepository } from '../../adapters/dynamodb/port-in-repository';
import { StepFunctionsWorkflowClient } from '../../adapters/sfn/step-functions-workflow-client';
import { env, loadConfig } from '../../shared/config';
import { waitForPortUpdate } from '../../use-cases/workflow/wait-for-port-update';
import { portStepInputSchema, systemClock, workflowStep } from './step-input';

const config = loadConfig(z.object({ TABLE_NAME: env.TABLE_NAME }));
const deps = {
  repository: new DynamoPortInRepository(config.TABLE_NAME),
  workflow: new StepFunctionsWorkflowClient(undefined),
  clock: systemClock,
};

const inputSchema = z.extend(portStepInputSchema, { token: z.string().check(z.minLength(1)) });

/** WaitForPortUpdate callback step: stores the task token (never logged) for the webhook to wake. */
export const handler = workflowStep(inputSchema, (input) => waitForPortUpdate(input, deps), deps.repository);
