import middy from '@middy/core';
import { observability, stepPortRequestId } from '../../adapters/observability/middleware';
import { submitPortIn } from '../../use-cases/workflow/submit-port-in';
import { portStepInputSchema } from './step-input';
import { twilioWorkflowDeps } from './workflow-deps';

const deps = twilioWorkflowDeps();

/** SubmitPortIn step: creates the Port In request in Twilio. */
export const handler = middy(async (event: unknown) => {
  const input = portStepInputSchema.parse(event);
  return submitPortIn(input, deps);
}).use(observability(stepPortRequestId));
