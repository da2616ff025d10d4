import * as z from 'zod/mini';
import { retryAfterSeconds } from '../../shared/retry-after';
import { RESPONSE_COMPONENTS } from './response-schemas';
import {
  accountIdSchema,
  documentUploadRequestSchema,
  documentUploadSchema,
  idempotencyKeySchema,
  importNumbersSchema,
  listPortRequestsQuerySchema,
  losingCarrierSchema,
  portabilityCheckSchema,
  portCorrectionSchema,
  portOrderSchema,
  resourceIdSchema,
  twilioConnectionSchema,
} from './schemas';

// The OpenAPI 3.1 document of shared/api/CONTRACT.md, generated from the zod schemas that validate the requests
// (schemas.ts) and describe the answers (response-schemas.ts). Imports zod schemas only, so that serving it
// and testing it load no adapter.

type JsonObject = { [key: string]: unknown };
type ResponseId = keyof typeof RESPONSE_COMPONENTS;

/**
 * Twilio's porting event as the webhook reads it. Documentation only: the handler checks the signature and reads
 * the SID, and does not parse the rest, which Twilio may extend.
 */
const twilioPortingEventSchema = z
  .looseObject({
    port_in_request_sid: z
      .optional(z.string())
      .check(z.meta({ description: 'The Port In request (KW…) the event is about; `PortInRequestSid` is read too.' })),
    status: z.optional(z.string()),
  })
  .check(z.meta({ description: "Twilio's porting event; form-encoded or JSON, as Twilio sends it." }));

/** The request bodies, by component name. */
const REQUEST_COMPONENTS = {
  TwilioConnectionRequest: twilioConnectionSchema,
  PortabilityCheckRequest: portabilityCheckSchema,
  DocumentUpload: documentUploadSchema,
  DocumentUploadRequest: documentUploadRequestSchema,
  LosingCarrier: losingCarrierSchema,
  PortOrderRequest: portOrderSchema,
  PortCorrectionRequest: portCorrectionSchema,
  ImportNumbersRequest: importNumbersSchema,
  TwilioPortingEvent: twilioPortingEventSchema,
} as const satisfies Record<string, z.ZodMiniType>;
type RequestId = keyof typeof REQUEST_COMPONENTS;

const COMPONENT_REF = '#/components/schemas/';
const ref = (id: string) => ({ $ref: `${COMPONENT_REF}${id}` });

/**
 * Converts schemas to JSON Schema 2020-12 components that point at each other by `$ref`. Requests are converted as
 * input (defaults optional, coercions as sent), answers as output.
 */
function toComponents(schemas: Record<string, z.ZodMiniType>, io: 'input' | 'output'): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: converted } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    uri: (id) => `${COMPONENT_REF}${id}`,
  });
  const components: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(converted)) {
    // A schema with an id that is not listed above would land here, under refs OpenAPI cannot resolve.
    if (id === '__shared') throw new Error(`List every schema with an id in the components: ${JSON.stringify(schema)}`);
    // zod stamps each component as a document of its own; inside an OpenAPI document both would mislead resolvers.
    const { $schema: _s, $id: _i, ...body } = schema as JsonObject;
    components[id] = body;
  }
  return components;
}

/** A standalone JSON Schema for a parameter, without the `$schema` stamp. */
function parameterSchema(schema: z.ZodMiniType): JsonObject {
  const { $schema: _s, ...body } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as JsonObject;
  return body;
}

/** One route of CONTRACT.md and what it answers. */
interface RouteDoc {
  readonly method: 'get' | 'post' | 'put';
  readonly path: string;
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  /** The webhook is authenticated by Twilio's signature; every other route by SigV4. */
  readonly webhook?: true;
  readonly body?: RequestId;
  readonly idempotencyKey?: true;
  readonly query?: 'listPortRequests';
  /** The route needs the account's Twilio connection: 409 without it, 502 when Twilio refuses. */
  readonly twilio?: true;
  readonly ok: Readonly<Record<number, { readonly description: string; readonly schema: ResponseId }>>;
  /** Problems particular to the route; the common ones are added by {@link problemsOf}. */
  readonly problems?: Readonly<Record<number, string>>;
}

const ROUTES: readonly RouteDoc[] = [
  {
    method: 'put',
    path: '/v1/accounts/{accountId}/twilio-connection',
    operationId: 'connectTwilio',
    tag: 'Twilio connection',
    summary: "Connect the account's Twilio account",
    description:
      "Checks the credentials against Twilio, keeps the auth token as a secret (never returned, never logged) and points the Twilio account's porting webhook at this service.",
    body: 'TwilioConnectionRequest',
    ok: { 200: { description: 'Connected.', schema: 'TwilioConnection' } },
    problems: {
      400: 'Twilio refused the credentials.',
      502: 'Twilio refused to configure the porting webhook.',
    },
  },
  {
    method: 'post',
    path: '/v1/accounts/{accountId}/portability-checks',
    operationId: 'checkPortability',
    tag: 'Portability',
    summary: 'Check whether numbers can be ported',
    description:
      'One result per input, in input order. An unparseable number is a result with `portable: false` and reason code `INVALID_PHONE_NUMBER`, not a 400.',
    body: 'PortabilityCheckRequest',
    twilio: true,
    ok: { 200: { description: 'The portability of each number.', schema: 'PortabilityCheckResults' } },
  },
  {
    method: 'post',
    path: '/v1/accounts/{accountId}/documents',
    operationId: 'uploadUtilityBill',
    tag: 'Documents',
    summary: 'Upload a utility bill to Twilio',
    description:
      'At most 4 MB once decoded (API Gateway hands Lambda at most 6 MB, base64 included); larger files, up to 5 MB, go through `document-uploads`. The answer names the document for `utilityBillDocumentSid`.',
    body: 'DocumentUpload',
    twilio: true,
    ok: { 201: { description: 'Uploaded.', schema: 'UploadedDocument' } },
    problems: {
      400: 'The file does not start like the declared `contentType`.',
      413: 'The file is larger than 4 MB: `detail` names the upload routes (`document-uploads`) that take it.',
    },
  },
  {
    method: 'post',
    path: '/v1/accounts/{accountId}/document-uploads',
    operationId: 'createDocumentUpload',
    tag: 'Documents',
    summary: 'Start an upload of a utility bill of up to 5 MB',
    description:
      'Answers a presigned S3 URL, valid for 15 minutes, to PUT the file to with exactly the headers answered (`curl -X PUT -H … --data-binary @bill.pdf "$uploadUrl"`); the bytes never pass through API Gateway. Then complete the upload.',
    body: 'DocumentUploadRequest',
    twilio: true,
    ok: { 201: { description: 'Where to PUT the file.', schema: 'DocumentUploadTicket' } },
  },
  {
    method: 'post',
    path: '/v1/accounts/{accountId}/document-uploads/{uploadId}/complete',
    operationId: 'completeDocumentUpload',
    tag: 'Documents',
    summary: 'Send an uploaded utility bill to Twilio',
    description:
      'Checks the uploaded file (there, the size declared, its first bytes those of the declared type), uploads it to Twilio as POST documents does, and deletes it. Idempotent: completing again answers the same `documentSid`, with no second upload to Twilio.',
    twilio: true,
    ok: { 201: { description: 'Uploaded to Twilio.', schema: 'UploadedDocument' } },
    problems: {
      400: 'The uploaded file is not the size declared (`errors` names `sizeBytes`) or not of the declared type (`contentType`).',
      409: 'Nothing uploaded yet, or the upload URL expired with nothing uploaded (`errors` names `uploadId`); or another request is completing the upload.',
    },
  },
  {
    method: 'post',
    path: '/v1/accounts/{accountId}/port-orders',
    operationId: 'createPortOrder',
    tag: 'Port orders',
    summary: 'Order a port',
    description:
      'Splits the order into port requests: one per losing carrier, at most 1,000 numbers each; toll-free numbers go into MANUAL port requests. Numbers that are not portable are left out and listed. The same Idempotency-Key with the same body answers the same order (200).',
    body: 'PortOrderRequest',
    idempotencyKey: true,
    twilio: true,
    ok: {
      200: { description: 'A replay: the order this Idempotency-Key placed before.', schema: 'PortOrder' },
      202: { description: 'Accepted: the port requests are under way.', schema: 'PortOrder' },
    },
    problems: {
      400: 'Invalid or repeated numbers, a targetPortInDate less than 7 days ahead, or a missing utility bill.',
      409: 'The Idempotency-Key was used with another body or is still being placed, or numbers are already in an open port request (`errors` names them).',
    },
  },
  {
    method: 'get',
    path: '/v1/accounts/{accountId}/port-orders/{orderId}',
    operationId: 'getPortOrder',
    tag: 'Port orders',
    summary: 'Read an order with the current status of its port requests',
    ok: { 200: { description: 'The order.', schema: 'PortOrder' } },
  },
  {
    method: 'get',
    path: '/v1/accounts/{accountId}/port-requests',
    operationId: 'listPortRequests',
    tag: 'Port requests',
    summary: "List the account's port requests, newest first",
    query: 'listPortRequests',
    ok: { 200: { description: 'A page of port requests.', schema: 'PortRequestPage' } },
  },
  {
    method: 'get',
    path: '/v1/accounts/{accountId}/port-requests/{portRequestId}',
    operationId: 'getPortRequest',
    tag: 'Port requests',
    summary: 'Read a port request',
    ok: { 200: { description: 'The port request.', schema: 'PortRequest' } },
  },
  {
    method: 'get',
    path: '/v1/accounts/{accountId}/port-requests/{portRequestId}/events',
    operationId: 'getPortRequestEvents',
    tag: 'Port requests',
    summary: 'Read the timeline of a port request, oldest first',
    ok: { 200: { description: 'The timeline.', schema: 'PortRequestEvents' } },
  },
  {
    method: 'post',
    path: '/v1/accounts/{accountId}/port-requests/{portRequestId}/corrections',
    operationId: 'correctPortRequest',
    tag: 'Port requests',
    summary: 'Correct a port request that needs action',
    description:
      'Allowed in ACTION_REQUIRED only. The service resubmits the port request to Twilio and the workflow carries on.',
    body: 'PortCorrectionRequest',
    ok: { 202: { description: 'Accepted: the port request will be resubmitted.', schema: 'PortRequest' } },
    problems: {
      400: 'Nothing to correct, or numbers that are not in the port request.',
      409: 'The port request is not in ACTION_REQUIRED.',
    },
  },
  {
    method: 'post',
    path: '/v1/accounts/{accountId}/port-requests/{portRequestId}/cancel',
    operationId: 'cancelPortRequest',
    tag: 'Port requests',
    summary: 'Cancel a port request',
    description: 'Cancels the port in Twilio and ends the workflow; the customer is told to keep the old service.',
    twilio: true,
    ok: { 202: { description: 'Canceled.', schema: 'PortRequest' } },
    problems: { 409: 'The port request is over (COMPLETED, CANCELED, EXPIRED or FAILED).' },
  },
  {
    method: 'get',
    path: '/v1/accounts/{accountId}/importable-numbers',
    operationId: 'listImportableNumbers',
    tag: 'Imports and inventory',
    summary: "List the numbers in the account's Twilio account",
    twilio: true,
    ok: { 200: { description: 'The numbers.', schema: 'ImportableNumbers' } },
  },
  {
    method: 'post',
    path: '/v1/accounts/{accountId}/imports',
    operationId: 'importNumbers',
    tag: 'Imports and inventory',
    summary: 'Import numbers of the Twilio account into Ring Tonic',
    description:
      "Adds the numbers to the inventory and points their Twilio voice webhook at the product's call router. Idempotent.",
    body: 'ImportNumbersRequest',
    twilio: true,
    ok: { 200: { description: 'What became of each number.', schema: 'ImportResult' } },
    problems: { 400: 'Invalid or repeated numbers.' },
  },
  {
    method: 'get',
    path: '/v1/accounts/{accountId}/inventory',
    operationId: 'listInventory',
    tag: 'Imports and inventory',
    summary: "List the account's Ring Tonic inventory",
    ok: { 200: { description: 'The inventory.', schema: 'Inventory' } },
  },
  {
    method: 'post',
    path: '/v1/webhooks/twilio/{accountId}/port-in',
    operationId: 'receiveTwilioPortingWebhook',
    tag: 'Webhooks',
    summary: "Twilio's porting webhook",
    description:
      "Authenticated by `X-Twilio-Signature`, checked against the account's auth token and the public URL. Duplicate and out-of-order events never move a port request backwards.",
    webhook: true,
    body: 'TwilioPortingEvent',
    ok: { 200: { description: 'Received.', schema: 'WebhookReceipt' } },
    problems: { 403: 'The Twilio signature is missing or does not match; nothing changed.' },
  },
  {
    method: 'get',
    path: '/v1/openapi.json',
    operationId: 'getOpenApiDocument',
    tag: 'Meta',
    summary: 'This OpenAPI document',
    ok: { 200: { description: 'The OpenAPI 3.1 document of every route.', schema: 'OpenApiDocument' } },
  },
];

/** Every problem a route can answer: its own, plus those of the gateway, of the handler and of its inputs. */
function problemsOf(route: RouteDoc): Record<number, string> {
  const problems: Record<number, string[]> = {};
  const add = (status: number, description: string) => {
    problems[status] = [...(problems[status] ?? []), description];
  };
  const hasAccount = route.path.includes('{accountId}');
  const hasIds = /\{(orderId|portRequestId|uploadId)\}/.test(route.path);
  if (hasAccount || hasIds || route.idempotencyKey || route.query) {
    add(400, 'A path, header or query parameter is invalid (`errors` names it).');
  }
  if (route.body && !route.webhook) add(400, 'The body is not valid JSON or has invalid fields (`errors` names each).');
  // The webhook's 403 is its own (a bad Twilio signature), listed with the route.
  if (!route.webhook) {
    add(403, 'Not signed with SigV4, or signed by a role without `execute-api:Invoke` (from API Gateway).');
  }
  if (hasIds) add(404, 'No such record in this account (another account\u2019s record answers 404 too).');
  if (route.twilio) add(409, 'The account has not connected Twilio yet (PUT twilio-connection).');
  if (route.body && !route.webhook) {
    add(413, 'The body is too large.');
    add(415, 'The body is not `application/json`.');
  }
  add(429, 'Too many requests (API Gateway throttling).');
  add(500, 'Something went wrong on our side; it has been logged.');
  if (route.twilio) add(502, 'Twilio refused the request.');
  add(502, 'The function behind the route failed (from API Gateway).');
  add(503, 'A service we depend on was busy or did not answer (nothing was accepted); retry.');
  add(504, 'The service did not answer in time (from API Gateway).');
  for (const [status, description] of Object.entries(route.problems ?? {})) add(Number(status), description);
  return Object.fromEntries(Object.entries(problems).map(([status, list]) => [status, list.join(' ')]));
}

const PARAMETERS = {
  AccountId: {
    name: 'accountId',
    in: 'path',
    required: true,
    description: 'The Ring Tonic customer account.',
    schema: parameterSchema(accountIdSchema),
  },
  OrderId: {
    name: 'orderId',
    in: 'path',
    required: true,
    description: 'The order, as POST port-orders answered it.',
    schema: parameterSchema(resourceIdSchema),
  },
  PortRequestId: {
    name: 'portRequestId',
    in: 'path',
    required: true,
    description: 'The port request.',
    schema: parameterSchema(resourceIdSchema),
  },
  UploadId: {
    name: 'uploadId',
    in: 'path',
    required: true,
    description: 'The document upload, as POST document-uploads answered it.',
    schema: parameterSchema(resourceIdSchema),
  },
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: true,
    description:
      'The same key with the same body answers the same order (200); the same key with another body answers 409.',
    schema: parameterSchema(idempotencyKeySchema),
  },
  TwilioSignature: {
    name: 'X-Twilio-Signature',
    in: 'header',
    required: true,
    description: "Twilio's signature of the public URL and the body, with the account's auth token.",
    schema: { type: 'string', minLength: 1 },
  },
  BodySha256: {
    name: 'bodySHA256',
    in: 'query',
    required: false,
    description: 'On JSON events: the SHA-256 of the body (hex), which Twilio adds to the URL it signs.',
    schema: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
  },
} as const;

const QUERY_DESCRIPTIONS: Readonly<Record<string, string>> = {
  status: 'Only port requests in this status.',
  limit: 'How many port requests a page holds.',
  cursor: '`nextCursor` of the previous page.',
};

/** The list's query parameters, one per property of its zod schema. */
function listQueryParameters(): JsonObject[] {
  const schema = parameterSchema(listPortRequestsQuerySchema) as {
    properties?: Record<string, JsonObject>;
    required?: string[];
  };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    ...(QUERY_DESCRIPTIONS[name] ? { description: QUERY_DESCRIPTIONS[name] } : {}),
    schema: property,
  }));
}

function operationOf(route: RouteDoc): JsonObject {
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => {
    const component = {
      accountId: 'AccountId',
      orderId: 'OrderId',
      portRequestId: 'PortRequestId',
      uploadId: 'UploadId',
    }[name ?? ''];
    if (!component) throw new Error(`No parameter documents {${name}} of ${route.path}`);
    return { $ref: `#/components/parameters/${component}` };
  });
  const parameters = [
    ...pathParameters,
    ...(route.idempotencyKey ? [{ $ref: '#/components/parameters/IdempotencyKey' }] : []),
    ...(route.query === 'listPortRequests' ? listQueryParameters() : []),
    ...(route.webhook
      ? [{ $ref: '#/components/parameters/TwilioSignature' }, { $ref: '#/components/parameters/BodySha256' }]
      : []),
  ];
  const requestBody = route.body
    ? {
        required: true,
        content: route.webhook
          ? {
              'application/x-www-form-urlencoded': { schema: ref(route.body) },
              'application/json': { schema: ref(route.body) },
            }
          : { 'application/json': { schema: ref(route.body) } },
      }
    : undefined;
  const responses: Record<string, JsonObject> = {};
  for (const [status, answer] of Object.entries(route.ok)) {
    responses[status] = {
      description: answer.description,
      content: { 'application/json': { schema: ref(answer.schema) } },
    };
  }
  for (const [status, description] of Object.entries(problemsOf(route))) {
    const retryable = retryAfterSeconds(Number(status)) !== undefined;
    responses[status] = {
      description,
      ...(retryable ? { headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } } : {}),
      content: { 'application/problem+json': { schema: ref('Problem') } },
    };
  }
  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    // The webhook has no IAM auth: Twilio's signature, a header parameter, authenticates it.
    security: route.webhook ? [] : [{ sigv4: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
  };
}

function build(serverUrl: string | undefined): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of ROUTES) {
    const item = paths[route.path] ?? {};
    item[route.method] = operationOf(route);
    paths[route.path] = item;
  }
  const responses = toComponents(RESPONSE_COMPONENTS, 'output');
  const requests = toComponents(REQUEST_COMPONENTS, 'input');
  const clash = Object.keys(requests).find((id) => id in responses);
  if (clash) throw new Error(`Component ${clash} is both a request and a response schema`);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ring Tonic port-in service',
      version: '1.0.0',
      description:
        "Ports a Ring Tonic customer's tracking numbers into their own Twilio account and imports them. Every 4xx and 5xx answer is `application/problem+json`.",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    tags: [...new Set(ROUTES.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { ...requests, ...responses },
      parameters: PARAMETERS,
      headers: {
        RetryAfter: {
          description:
            'Seconds to wait before sending the request again (with the same Idempotency-Key, where the route takes one). Every 429 and 5xx carries it.',
          required: true,
          schema: { type: 'integer', minimum: 1 },
        },
      },
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'AWS Signature Version 4 (service `execute-api`); the role needs `execute-api:Invoke`.',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
    },
  };
}

/** Freezes the document all the way down: every caller shares the one built. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const built = new Map<string, JsonObject>();

/** The OpenAPI 3.1 document of every route; built once per server URL, since the schemas never change. */
export function buildOpenApiDocument(options: { serverUrl?: string } = {}): object {
  const key = options.serverUrl ?? '';
  const cached = built.get(key);
  if (cached) return cached;
  const document = deepFreeze(build(options.serverUrl));
  built.set(key, document);
  return document;
}
