import * as z from 'zod/mini';
import { DynamoPortInRepository } from '../../adapters/dynamodb/port-in-repository';
import { metrics } from '../../adapters/observability/metrics';
import { SesMailer } from '../../adapters/ses/ses-mailer';
import { env, loadConfig } from '../../shared/config';
import { deliverEmails } from '../../use-cases/workflow/deliver-emails';
import { portStepInputSchema, systemClock, workflowStep } from './step-input';

const config = loadConfig(
  z.object({
    TABLE_NAME: env.TABLE_NAME,
    SENDER_EMAIL: env.SENDER_EMAIL,
    SES_CONFIGURATION_SET: env.SES_CONFIGURATION_SET,
  }),
);
const deps = {
  repository: new DynamoPortInRepository(config.TABLE_NAME),
  mailer: new SesMailer(config.SENDER_EMAIL, config.SES_CONFIGURATION_SET || undefined),
  clock: systemClock,
  metrics,
};

/** DeliverEmails step: sends what the port request's outbox owes. */
export const handler = workflowStep(portStepInputSchema, (input) => deliverEmails(input, deps), deps.repository);
