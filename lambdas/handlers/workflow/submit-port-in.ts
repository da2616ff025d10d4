import { logger } from '../../shared/logger';
import { submitPortIn } from '../../use-cases/workflow/submit-port-in';
import { portStepInputSchema } from './step-input';
import { twilioWorkflowDeps } from './workflow-deps';

const deps = twilioWorkflowDeps();

/** SubmitPortIn step: creates the Port In request in Twilio. */
export const handler = async (event: unknown) => {
  const input = portStepInputSchema.parse(event);
  logger.appendKeys({ portRequestId: input.portRequestId });
  return submitPortIn(input, deps);
};
