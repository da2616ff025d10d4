import { submitPortIn } from '../../use-cases/workflow/submit-port-in';
import { portStepInputSchema, workflowStep } from './step-input';
import { twilioWorkflowDeps } from './workflow-deps';

const deps = twilioWorkflowDeps();

/** SubmitPortIn step: creates the Port In request in Twilio. */
export const handler = workflowStep(portStepInputSchema, (input) => submitPortIn(input, deps), deps.repository);
