import * as z from 'zod/mini';
import { env, loadConfig } from '../../shared/config';
import { importPortedNumbers } from '../../use-cases/workflow/import-numbers';
import { portStepInputSchema, workflowStep } from './step-input';
import { twilioWorkflowDeps } from './workflow-deps';

const config = loadConfig(
  z.object({ CALL_ROUTER_URL: env.CALL_ROUTER_URL, VERIFY_PORTED_NUMBERS: env.VERIFY_PORTED_NUMBERS }),
);
const deps = {
  ...twilioWorkflowDeps(),
  callRouterUrl: config.CALL_ROUTER_URL,
  verifyNumbers: config.VERIFY_PORTED_NUMBERS === 'true',
};

/** ImportNumbers step: inventory rows and voice URLs for the ported numbers. */
export const handler = workflowStep(portStepInputSchema, (input) => importPortedNumbers(input, deps), deps.repository);
