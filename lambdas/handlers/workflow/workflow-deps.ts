import * as z from 'zod/mini';
import { DynamoPortInRepository } from '../../adapters/dynamodb/port-in-repository';
import { metrics } from '../../adapters/observability/metrics';
import { SecretsManagerTokenStore } from '../../adapters/secrets/secrets-manager-token-store';
import { TwilioNodeGateway } from '../../adapters/twilio/twilio-gateway';
import { env, loadConfig } from '../../shared/config';

import { systemClock } from './step-input';

/** Repository, Twilio and tokens for the steps that talk to Twilio, from their environment at cold start. */
export function twilioWorkflowDeps() {
  const config = loadConfig(
    z.object({
      TABLE_NAME: env.TABLE_NAME,
      TWILIO_SECRET_PREFIX: env.TWILIO_SECRET_PREFIX,
      TWILIO_API_BASE_URL: env.TWILIO_API_BASE_URL,
      TWILIO_TIMEOUT_MS: env.TWILIO_TIMEOUT_MS,
    }),
  );
  return {
    repository: new DynamoPortInRepository(config.TABLE_NAME),
    tokens: new SecretsManagerTokenStore(config.TWILIO_SECRET_PREFIX),
    twilio: new TwilioNodeGateway({
      apiBaseUrl: config.TWILIO_API_BASE_URL,
      ...(config.TWILIO_TIMEOUT_MS !== undefined ? { timeoutMs: config.TWILIO_TIMEOUT_MS } : {}),
    }),
    clock: systemClock,
    metrics,
  };
}
