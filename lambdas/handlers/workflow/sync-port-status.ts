import * as z from 'zod/mini';
import { env, loadConfig } from '../../shared/config';
import { syncPortStatus } from '../../use-cases/workflow/sync-port-status';
import { portStepInputSchema, workflowStep } from './step-input';
import { twilioWorkflowDeps } from './workflow-deps';

const config = loadConfig(
  z.object({ PORT_MAX_AGE_DAYS: env.PORT_MAX_AGE_DAYS, WEBHOOK_SETTLE_SECONDS: env.WEBHOOK_SETTLE_SECONDS }),
);
const deps = {
  ...twilioWorkflowDeps(),
  maxAgeDays: config.PORT_MAX_AGE_DAYS,
  webhookSettleSeconds: config.WEBHOOK_SETTLE_SECONDS,
};

const inputSchema = z.extend(portStepInputSchema, {
  cadence: z.object({ pollIntervalSeconds: z.number(), reminderIntervalSeconds: z.number() }),
  // What woke the workflow: the callback's output, or the caught States.Timeout of the poll cadence.
  wake: z.optional(z.looseObject({ wokenBy: z.optional(z.string()), Error: z.optional(z.string()) })),
});

/** SyncPortStatus step: reads Twilio and applies what changed. */
export const handler = workflowStep(
  inputSchema,
  (input) => {
    const wokenBy = input.wake?.Error === 'States.Timeout' ? 'poll' : (input.wake?.wokenBy ?? 'start');
    return syncPortStatus({ ...input, wokenBy }, deps);
  },
  deps.repository,
);
