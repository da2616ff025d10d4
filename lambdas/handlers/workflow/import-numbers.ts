import middy from '@middy/core';
import * as z from 'zod/mini';
import { observability, stepPortRequestId } from '../../adapters/observability/middleware';
import { env, loadConfig } from '../../shared/config';
import { importPortedNumbers } from '../../use-cases/workflow/import-numbers';
import { portStepInputSchema } from './step-input';
import { twilioWorkflowDeps } from './workflow-deps';

const config = loadConfig(z.object({ CALL_ROUTER_URL: env.CALL_ROUTER_URL }));
const deps = { ...twilioWorkflowDeps(), callRouterUrl: config.CALL_ROUTER_URL };

/** ImportNumbers step: inventory rows and voice URLs for the ported numbers. */
export const handler = middy(async (event: unknown) => {
  const input = portStepInputSchema.parse(event);
  return importPortedNumbers(input, deps);
}).use(observability(stepPortRequestId));
