import middy from '@middy/core';
import { z } from 'zod';
import { observability, stepPortRequestId } from '../../adapters/observability/middleware';
import { env, loadConfig } from '../../shared/config';
import { syncPortStatus } from '../../use-cases/workflow/sync-port-status';
import { portStepInputSchema } from './step-input';
import { twilioWorkflowDeps } from './workflow-deps';

const config = loadConfig(z.object({ PORT_MAX_AGE_DAYS: env.PORT_MAX_AGE_DAYS }));
const deps = { ...twilioWorkflowDeps(), maxAgeDays: config.PORT_MAX_AGE_DAYS };

const inputSchema = portStepInputSchema.extend({
  cadence: z.object({ pollIntervalSeconds: z.number(), reminderIntervalSeconds: z.number() }),
  // What woke the workflow: the callback's output, or the caught States.Timeout of the poll cadence.
  wake: z.object({ wokenBy: z.string().optional(), Error: z.string().optional() }).passthrough().optional(),
});

/** SyncPortStatus step: reads Twilio and applies what changed. */
export const handler = middy(async (event: unknown) => {
  const input = inputSchema.parse(event);
  const wokenBy = input.wake?.Error === 'States.Timeout' ? 'poll' : (input.wake?.wokenBy ?? 'start');
  return syncPortStatus({ ...input, wokenBy }, deps);
}).use(observability(stepPortRequestId));
