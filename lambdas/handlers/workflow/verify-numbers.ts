import * as z from 'zod/mini';
import { env, loadConfig } from '../../shared/config';
import { verifyPortedNumbers } from '../../use-cases/workflow/verify-numbers';
import { portStepInputSchema, workflowStep } from './step-input';
import { twilioWorkflowDeps } from './workflow-deps';

const config = loadConfig(
  z.object({
    CALL_ROUTER_URL: env.CALL_ROUTER_URL,
    VERIFY_ANSWER_WINDOW_SECONDS: env.VERIFY_ANSWER_WINDOW_SECONDS,
    VERIFY_RECHECK_SECONDS: env.VERIFY_RECHECK_SECONDS,
    VERIFY_GIVE_UP_AFTER_SECONDS: env.VERIFY_GIVE_UP_AFTER_SECONDS,
  }),
);
const deps = {
  ...twilioWorkflowDeps(),
  callRouterUrl: config.CALL_ROUTER_URL,
  timing: {
    answerWindowSeconds: config.VERIFY_ANSWER_WINDOW_SECONDS,
    recheckSeconds: config.VERIFY_RECHECK_SECONDS,
    giveUpAfterSeconds: config.VERIFY_GIVE_UP_AFTER_SECONDS,
  },
};

/** VerifyNumbers step: checks and test-calls the ported numbers; tells the state machine how long to wait. */
export const handler = workflowStep(portStepInputSchema, (input) => verifyPortedNumbers(input, deps), deps.repository);
