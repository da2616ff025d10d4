import * as z from 'zod/mini';
import { DynamoPortInRepository } from '../../adapters/dynamodb/port-in-repository';
import { metrics } from '../../adapters/observability/metrics';
import { SesMailer } from '../../adapters/ses/ses-mailer';
import { env, loadConfig } from '../../shared/config';
import { DEFAULT_EMAIL_CONFIRMATION, deliverEmails } from '../../use-cases/workflow/deliver-emails';
import { portStepInputSchema, systemClock, workflowStep } from './step-input';

const config = loadConfig(
  z.object({
    TABLE_NAME: env.TABLE_NAME,
    SENDER_EMAIL: env.SENDER_EMAIL,
    SES_CONFIGURATION_SET: env.SES_CONFIGURATION_SET,
    EMAIL_CONFIRMATION_WINDOW_SECONDS: env.EMAIL_CONFIRMATION_WINDOW_SECONDS,
  }),
);
const deps = {
  repository: new DynamoPortInRepository(config.TABLE_NAME),
  mailer: new SesMailer(config.SENDER_EMAIL, config.SES_CONFIGURATION_SET || undefined),
  clock: systemClock,
  metrics,
  confirmation: { ...DEFAULT_EMAIL_CONFIRMATION, windowSeconds: config.EMAIL_CONFIRMATION_WINDOW_SECONDS },
};

/** DeliverEmails step: sends what the port request's outbox owes. */
export const handler = workflowStep(portStepInputSchema, (input) => deliverEmails(input, deps), deps.repository);
