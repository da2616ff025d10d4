import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { DynamoPortInRepository } from '../../adapters/dynamodb/port-in-repository';
import { metrics } from '../../adapters/observability/metrics';
import { identifyPortRequest, observability } from '../../adapters/observability/middleware';
import { CachingTokenStore } from '../../adapters/secrets/caching-token-store';
import { SecretsManagerTokenStore } from '../../adapters/secrets/secrets-manager-token-store';
import { StepFunctionsWorkflowClient } from '../../adapters/sfn/step-functions-workflow-client';
import { env, loadConfig } from '../../shared/config';
import { logger } from '../../shared/logger';
import { PortRequestIdCache, receiveTwilioWebhook, SpentTaskTokens } from '../../use-cases/receive-twilio-webhook';
import { json, parseParam, problemJsonErrors } from './http';
import { accountIdSchema } from './schemas';

const config = loadConfig(
  z.object({
    TABLE_NAME: env.TABLE_NAME,
    TWILIO_SECRET_PREFIX: env.TWILIO_SECRET_PREFIX,
    PUBLIC_BASE_URL: env.PUBLIC_BASE_URL,
  }),
);

const deps = {
  repository: new DynamoPortInRepository(config.TABLE_NAME),
  // Kept in the warm function: one Secrets Manager read per account every few minutes, not one per webhook.
  tokens: new CachingTokenStore(new SecretsManagerTokenStore(config.TWILIO_SECRET_PREFIX)),
  portRequestIds: new PortRequestIdCache(),
  spentTaskTokens: new SpentTaskTokens(),
  workflow: new StepFunctionsWorkflowClient(undefined),
  clock: { now: () => new Date() },
  metrics,
};

/** The URL Twilio signed: our configured public base URL, the path, and the query exactly as Twilio sent it. */
function publicUrl(event: APIGatewayProxyEvent): string {
  const query = Object.entries(event.multiValueQueryStringParameters ?? {}).flatMap(([key, values]) =>
    (values ?? []).map((value) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`),
  );
  return `${config.PUBLIC_BASE_URL.replace(/\/+$/, '')}${event.path}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

/** Twilio's porting webhook: checked by signature, recorded, and answered at once. */
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(observability<APIGatewayProxyEvent, APIGatewayProxyResult>())
  .use(problemJsonErrors())
  .handler(async (event) => {
    const accountId = parseParam('accountId', event.pathParameters?.accountId, accountIdSchema);
    const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? '']));
    const rawBody = event.isBase64Encoded
      ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
      : (event.body ?? '');
    const result = await receiveTwilioWebhook(
      {
        accountId,
        url: publicUrl(event),
        signature: headers['x-twilio-signature'],
        contentType: headers['content-type'] ?? '',
        rawBody,
      },
      deps,
    );
    identifyPortRequest(result.portRequestId);
    logger.info('twilio webhook', { accountId, accepted: result.accepted, deadLetterId: result.deadLetterId });
    return json(200, { received: true });
  });
