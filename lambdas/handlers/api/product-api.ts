import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { DynamoPortInRepository } from '../../adapters/dynamodb/port-in-repository';
import { metrics } from '../../adapters/observability/metrics';
import { observability, pathPortRequestId } from '../../adapters/observability/middleware';
import { S3DocumentUploadStorage } from '../../adapters/s3/s3-document-upload-storage';
import { SecretsManagerTokenStore } from '../../adapters/secrets/secrets-manager-token-store';
import { StepFunctionsWorkflowClient } from '../../adapters/sfn/step-functions-workflow-client';
import { TwilioNodeGateway } from '../../adapters/twilio/twilio-gateway';
import { env, loadConfig } from '../../shared/config';
import { HttpProblem } from '../../shared/errors';
import { lazy } from '../../shared/lazy';
import { logger } from '../../shared/logger';
import { cancelPortRequest } from '../../use-cases/cancel-port-request';
import { checkPortability } from '../../use-cases/check-portability';
import { connectTwilio } from '../../use-cases/connect-twilio';
import { correctPortRequest } from '../../use-cases/correct-port-request';
import { createPortOrder } from '../../use-cases/create-port-order';
import { completeDocumentUpload, createDocumentUpload } from '../../use-cases/document-uploads';
import { importSelectedNumbers, listImportableNumbers } from '../../use-cases/import-numbers';
import {
  getPortOrder,
  getPortRequest,
  getPortRequestEvents,
  listPortRequests,
  toPortRequestView,
} from '../../use-cases/read-ports';
import { uploadUtilityBill } from '../../use-cases/upload-utility-bill';
import { json, parseJsonBody, parseParam, problemJsonErrors } from './http';
import {
  accountIdSchema,
  documentUploadRequestSchema,
  documentUploadSchema,
  idempotencyKeySchema,
  importNumbersSchema,
  listPortRequestsQuerySchema,
  portabilityCheckSchema,
  portCorrectionSchema,
  portOrderSchema,
  resourceIdSchema,
  twilioConnectionSchema,
} from './schemas';

const config = loadConfig(
  z.object({
    TABLE_NAME: env.TABLE_NAME,
    STATE_MACHINE_ARN: env.STATE_MACHINE_ARN,
    TWILIO_SECRET_PREFIX: env.TWILIO_SECRET_PREFIX,
    TWILIO_API_BASE_URL: env.TWILIO_API_BASE_URL,
    TWILIO_TIMEOUT_MS: env.TWILIO_TIMEOUT_MS,
    PUBLIC_BASE_URL: env.PUBLIC_BASE_URL,
    CALL_ROUTER_URL: env.CALL_ROUTER_URL,
    POLL_INTERVAL_SECONDS: env.POLL_INTERVAL_SECONDS,
    REMINDER_INTERVAL_SECONDS: env.REMINDER_INTERVAL_SECONDS,
    UPLOADS_BUCKET_NAME: env.UPLOADS_BUCKET_NAME,
    DOCUMENT_UPLOAD_URL_SECONDS: env.DOCUMENT_UPLOAD_URL_SECONDS,
  }),
);

const deps = {
  repository: new DynamoPortInRepository(config.TABLE_NAME),
  tokens: new SecretsManagerTokenStore(config.TWILIO_SECRET_PREFIX),
  twilio: new TwilioNodeGateway({
    apiBaseUrl: config.TWILIO_API_BASE_URL,
    ...(config.TWILIO_TIMEOUT_MS !== undefined ? { timeoutMs: config.TWILIO_TIMEOUT_MS } : {}),
  }),
  workflow: new StepFunctionsWorkflowClient(config.STATE_MACHINE_ARN),
  storage: new S3DocumentUploadStorage(config.UPLOADS_BUCKET_NAME),
  uploadUrlLifetimeSeconds: config.DOCUMENT_UPLOAD_URL_SECONDS,
  clock: { now: () => new Date() },
  metrics,
  publicBaseUrl: config.PUBLIC_BASE_URL,
  callRouterUrl: config.CALL_ROUTER_URL,
  cadence: {
    pollIntervalSeconds: config.POLL_INTERVAL_SECONDS,
    reminderIntervalSeconds: config.REMINDER_INTERVAL_SECONDS,
  },
};

/** The OpenAPI module (the document and its response schemas) is loaded with the first GET of it. */
const openApi = lazy(() => import('./openapi'));

type Route = (event: APIGatewayProxyEvent, accountId: string) => Promise<APIGatewayProxyResult>;

const pathId = (event: APIGatewayProxyEvent, name: string) =>
  parseParam(name, event.pathParameters?.[name], resourceIdSchema);

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const entry = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === wanted);
  return entry?.[1] ?? undefined;
}

/** The routes of CONTRACT.md, keyed as API Gateway names the matched resource. */
const routes: Record<string, Route> = {
  'PUT /v1/accounts/{accountId}/twilio-connection': async (event, accountId) => {
    const body = parseJsonBody(event, twilioConnectionSchema);
    const connection = await connectTwilio({ accountId, ...body }, deps);
    return json(200, {
      accountSid: connection.accountSid,
      webhookUrl: connection.webhookUrl,
      connectedAt: connection.connectedAt,
    });
  },
  'POST /v1/accounts/{accountId}/portability-checks': async (event, accountId) => {
    const body = parseJsonBody(event, portabilityCheckSchema);
    return json(200, { results: await checkPortability({ accountId, phoneNumbers: body.phoneNumbers }, deps) });
  },
  'POST /v1/accounts/{accountId}/documents': async (event, accountId) => {
    const body = parseJsonBody(event, documentUploadSchema);
    return json(201, await uploadUtilityBill({ accountId, ...body }, deps));
  },
  'POST /v1/accounts/{accountId}/document-uploads': async (event, accountId) => {
    const body = parseJsonBody(event, documentUploadRequestSchema);
    return json(201, await createDocumentUpload({ accountId, ...body }, deps));
  },
  'POST /v1/accounts/{accountId}/document-uploads/{uploadId}/complete': async (event, accountId) =>
    json(201, await completeDocumentUpload({ accountId, uploadId: pathId(event, 'uploadId') }, deps)),
  'POST /v1/accounts/{accountId}/port-orders': async (event, accountId) => {
    const idempotencyKey = parseParam('Idempotency-Key', header(event, 'Idempotency-Key'), idempotencyKeySchema);
    const request = parseJsonBody(event, portOrderSchema);
    const result = await createPortOrder({ accountId, idempotencyKey, request }, deps);
    return json(result.replayed ? 200 : 202, result.view);
  },
  'GET /v1/accounts/{accountId}/port-orders/{orderId}': async (event, accountId) =>
    json(200, await getPortOrder(accountId, pathId(event, 'orderId'), deps.repository)),
  'GET /v1/accounts/{accountId}/port-requests': async (event, accountId) => {
    const query = parseParam('query', event.queryStringParameters ?? {}, listPortRequestsQuerySchema);
    return json(200, await listPortRequests(accountId, query, deps.repository));
  },
  'GET /v1/accounts/{accountId}/port-requests/{portRequestId}': async (event, accountId) =>
    json(200, await getPortRequest(accountId, pathId(event, 'portRequestId'), deps.repository)),
  'GET /v1/accounts/{accountId}/port-requests/{portRequestId}/events': async (event, accountId) =>
    json(200, await getPortRequestEvents(accountId, pathId(event, 'portRequestId'), deps.repository)),
  'POST /v1/accounts/{accountId}/port-requests/{portRequestId}/corrections': async (event, accountId) => {
    const portRequestId = pathId(event, 'portRequestId');
    const correction = parseJsonBody(event, portCorrectionSchema);
    return json(202, toPortRequestView(await correctPortRequest({ accountId, portRequestId, correction }, deps)));
  },
  'POST /v1/accounts/{accountId}/port-requests/{portRequestId}/cancel': async (event, accountId) => {
    const portRequestId = pathId(event, 'portRequestId');
    return json(202, toPortRequestView(await cancelPortRequest({ accountId, portRequestId }, deps)));
  },
  'GET /v1/accounts/{accountId}/importable-numbers': async (_event, accountId) =>
    json(200, await listImportableNumbers(accountId, deps)),
  'POST /v1/accounts/{accountId}/imports': async (event, accountId) => {
    const body = parseJsonBody(event, importNumbersSchema);
    return json(200, await importSelectedNumbers({ accountId, phoneNumbers: body.phoneNumbers }, deps));
  },
  'GET /v1/accounts/{accountId}/inventory': async (_event, accountId) =>
    json(200, {
      items: (await deps.repository.listInventory(accountId)).map(({ accountId: _a, ...number }) => number),
    }),
};

/** Routes outside /v1/accounts: no accountId to parse. */
const unscopedRoutes: Record<string, (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>> = {
  'GET /v1/openapi.json': async () =>
    json(200, (await openApi()).buildOpenApiDocument({ serverUrl: config.PUBLIC_BASE_URL })),
};

/** The main product's API: one function behind every /v1/accounts route; API Gateway has already routed. */
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(observability<APIGatewayProxyEvent, APIGatewayProxyResult>(pathPortRequestId))
  .use(problemJsonErrors())
  .handler(async (event) => {
    const key = `${event.httpMethod} ${event.resource}`;
    const unscoped = unscopedRoutes[key];
    if (unscoped) return unscoped(event);
    const route = routes[key];
    if (!route) {
      throw new HttpProblem(501, 'Not Implemented', `${event.httpMethod} ${event.resource} is not available yet.`);
    }
    const accountId = parseParam('accountId', event.pathParameters?.accountId, accountIdSchema);
    logger.appendKeys({ accountId });
    return route(event, accountId);
  });
