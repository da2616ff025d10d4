import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { PortRequest } from '../../lambdas/domain/port-request';
import { buildOpenApiDocument } from '../../lambdas/handlers/api/openapi';
import { portOrderSchema } from '../../lambdas/handlers/api/schemas';
import { toPortRequestView } from '../../lambdas/use-cases/read-ports';
import { PRODUCT_API_ROUTES, TWILIO_WEBHOOK_ROUTE } from '../../lib/constructs/api';
import { attestations, losingCarrier } from '../support/fixtures';
import { documentedPath, expectMatchesOpenApi } from '../support/openapi-validation';

type Operation = {
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ $ref?: string; name?: string; in?: string }>;
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: { $ref?: string } }> }>;
};
type Document = {
  openapi: string;
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object>; parameters: Record<string, { schema: { pattern?: string } }> };
};

const CONTRACT = path.resolve(__dirname, '../../../shared/api/CONTRACT.md');
const PRODUCT_API = path.resolve(__dirname, '../../lambdas/handlers/api/product-api.ts');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

const document = buildOpenApiDocument() as Document;

/** `METHOD /path` of every operation of the document. */
const documented = Object.entries(document.paths).flatMap(([p, item]) =>
  Object.keys(item)
    .filter((m) => METHODS.includes(m))
    .map((m) => `${m.toUpperCase()} ${p}`),
);

/** `METHOD /path` of every route heading of CONTRACT.md, without its query string. */
function contractRoutes(): string[] {
  const text = readFileSync(CONTRACT, 'utf8');
  return [...text.matchAll(/^### (GET|POST|PUT|PATCH|DELETE) (\/\S+)\s*$/gm)].map(
    ([, method, route]) => `${method} ${route?.split('?')[0]}`,
  );
}

/**
 * Runs @seriousme/openapi-schema-validator on each document in a child process: the package is ESM only, which
 * jest's CommonJS runtime cannot load, while Node runs it as it is.
 */
function validateWithOpenApiValidator(documents: readonly object[]): Array<{ valid: boolean; errors?: unknown }> {
  const entry = pathToFileURL(require.resolve('@seriousme/openapi-schema-validator')).href;
  const script = [
    `import { Validator } from ${JSON.stringify(entry)};`,
    `let input = '';`,
    'for await (const chunk of process.stdin) input += chunk;',
    'const results = [];',
    'for (const document of JSON.parse(input)) results.push(await new Validator().validate(document));',
    'process.stdout.write(JSON.stringify(results));',
  ].join('\n');
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    input: JSON.stringify(documents),
    encoding: 'utf8',
  });
  return JSON.parse(output) as Array<{ valid: boolean; errors?: unknown }>;
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document, by @seriousme/openapi-schema-validator', () => {
    const broken = structuredClone(document) as Document;
    // A response without its required description: proves the validator does look.
    Object.assign(broken.paths, { '/v1/openapi.json': { get: { responses: { 200: {} } } } });
    const [verdict, brokenVerdict] = validateWithOpenApiValidator([document, broken]);
    expect(document.openapi).toBe('3.1.0');
    expect(verdict).toEqual({ valid: true });
    expect(brokenVerdict?.valid).toBe(false);
  });

  it('documents every route of CONTRACT.md with its method', () => {
    const routes = contractRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(17);
    expect(documented).toEqual(expect.arrayContaining(routes));
  });

  it('documents exactly the routes API Gateway serves (PRODUCT_API_ROUTES and the webhook)', () => {
    const deployed = [...PRODUCT_API_ROUTES, TWILIO_WEBHOOK_ROUTE].map((r) => `${r.method} ${r.path}`);
    expect([...documented].sort()).toEqual([...deployed].sort());
  });

  it("documents every route of product-api.ts's route table", () => {
    const source = readFileSync(PRODUCT_API, 'utf8');
    const keys = [...source.matchAll(/^\s*'((?:GET|POST|PUT|PATCH|DELETE) \/v1\/[^']*)'/gm)].map(([, key]) => key);
    expect(keys.length).toBeGreaterThan(10);
    expect(documented).toEqual(expect.arrayContaining(keys));
  });

  it('documents the query parameters of the list as CONTRACT.md names them', () => {
    const parameters = document.paths['/v1/accounts/{accountId}/port-requests']?.get?.parameters ?? [];
    const query = parameters.filter((p) => p.in === 'query').map((p) => p.name);
    expect(query).toEqual(['status', 'limit', 'cursor']);
  });

  it('signs every route with SigV4 but the webhook, and types every error as problem+json', () => {
    for (const [p, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const webhook = p.startsWith('/v1/webhooks/');
        expect([`${method} ${p}`, operation.security]).toEqual([`${method} ${p}`, webhook ? [] : [{ sigv4: [] }]]);
        expect(Object.keys(operation.responses).some((s) => s.startsWith('2'))).toBe(true);
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue;
          expect([`${method} ${p} ${status}`, Object.keys(response.content ?? {})]).toEqual([
            `${method} ${p} ${status}`,
            ['application/problem+json'],
          ]);
        }
      }
    }
    expect(document.components.parameters.AccountId?.schema.pattern).toBe('^[A-Za-z0-9_-]{1,64}$');
  });

  it('lists the problems each route can answer', () => {
    const statuses = (method: string, p: string) => Object.keys(document.paths[p]?.[method]?.responses ?? {});
    expect(statuses('post', '/v1/accounts/{accountId}/port-orders')).toEqual(
      expect.arrayContaining(['200', '202', '400', '403', '409', '413', '415', '500', '502', '503']),
    );
    expect(statuses('post', '/v1/accounts/{accountId}/port-requests/{portRequestId}/corrections')).toEqual(
      expect.arrayContaining(['202', '400', '403', '404', '409', '413', '415']),
    );
    expect(statuses('get', '/v1/accounts/{accountId}/inventory')).not.toContain('404');
    expect(statuses('post', '/v1/webhooks/twilio/{accountId}/port-in')).toEqual(
      expect.arrayContaining(['200', '400', '403', '500']),
    );
    const portOrders = document.paths['/v1/accounts/{accountId}/port-orders']?.post;
    expect(portOrders?.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
  });

  it('takes its request bodies from the zod schemas that validate the requests', () => {
    const body = {
      losingCarriers: [
        losingCarrier('CallRail', `RD${'a'.repeat(32)}`, [
          '+14155550100',
          { phoneNumber: '+14155550101', pin: '1234' },
        ]),
      ],
      notificationEmails: ['owner@acme.example'],
      attestations,
    };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ ...document, $id: 'openapi' });
    const validate = ajv.compile({ $ref: 'openapi#/components/schemas/PortOrderRequest' });
    expect(portOrderSchema.safeParse(body).success).toBe(true);
    expect(validate(body)).toBe(true);
    const withoutAttestation = { ...body, attestations: { ...attestations, currentServiceActiveAndPaid: false } };
    expect(portOrderSchema.safeParse(withoutAttestation).success).toBe(false);
    expect(validate(withoutAttestation)).toBe(false);
    const requestBody = document.paths['/v1/accounts/{accountId}/port-orders']?.post?.requestBody;
    expect(requestBody?.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/PortOrderRequest' });
  });

  it('documents the presigned upload routes: the declared file, the ticket, the upload id and their problems', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ ...document, $id: 'openapi' });
    const validate = ajv.compile({ $ref: 'openapi#/components/schemas/DocumentUploadRequest' });
    expect(validate({ fileName: 'bill.pdf', contentType: 'application/pdf', sizeBytes: 5 * 1024 * 1024 })).toBe(true);
    expect(validate({ fileName: 'bill.pdf', contentType: 'application/pdf', sizeBytes: 5 * 1024 * 1024 + 1 })).toBe(
      false,
    );
    const create = document.paths['/v1/accounts/{accountId}/document-uploads']?.post;
    expect(create?.requestBody?.content['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/DocumentUploadRequest',
    });
    expect(create?.responses['201']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/DocumentUploadTicket',
    });
    const complete = document.paths['/v1/accounts/{accountId}/document-uploads/{uploadId}/complete']?.post;
    expect(complete?.requestBody).toBeUndefined();
    expect(complete?.parameters).toEqual([
      { $ref: '#/components/parameters/AccountId' },
      { $ref: '#/components/parameters/UploadId' },
    ]);
    expect(Object.keys(complete?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '404', '409']));
    const documents = document.paths['/v1/accounts/{accountId}/documents']?.post;
    expect(documents?.responses['413']?.description).toMatch(/document-uploads/);
  });

  it('is built once, and names the server when asked', () => {
    expect(buildOpenApiDocument()).toBe(document);
    const served = buildOpenApiDocument({ serverUrl: 'https://api.example/live' }) as Document;
    expect(served.servers).toEqual([{ url: 'https://api.example/live' }]);
    expect(buildOpenApiDocument({ serverUrl: 'https://api.example/live' })).toBe(served);
    expect(Object.isFrozen(document.paths)).toBe(true);
  });
});

const portRequest: PortRequest = {
  accountId: 'acme',
  portRequestId: 'pr_01',
  orderId: 'ord_01',
  status: 'FOC_RECEIVED',
  route: 'API',
  losingCarrier: {
    name: 'CallRail',
    customerName: 'Acme',
    accountNumber: '5551234',
    authorizedRepresentative: 'Jane',
    authorizedRepresentativeEmail: 'jane@acme.example',
    address: { street: '1 Main', city: 'SF', state: 'CA', zip: '94105', country: 'US' },
    utilityBillDocumentSid: `RD${'0'.repeat(32)}`,
  },
  pins: { '+14155550100': '1234' },
  phoneNumbers: [
    {
      phoneNumber: '+14155550100',
      numberType: 'LOCAL',
      status: 'FOC_RECEIVED',
      focDate: '2026-11-12',
      imported: false,
    },
    { phoneNumber: '+14155550101', numberType: 'LOCAL', status: 'REJECTED', rejectionReason: 'PIN', imported: false },
  ],
  targetPortInDate: '2026-11-12',
  focDate: '2026-11-12',
  notificationEmails: ['owner@acme.example'],
  twilioAccountSid: `AC${'0'.repeat(32)}`,
  twilioPortInRequestSid: `KW${'0'.repeat(32)}`,
  events: [{ at: '2026-11-02T10:00:00.000Z', type: 'ORDER_ACCEPTED', status: 'SUBMITTING' }],
  outbox: [],
  createdAt: '2026-11-02T10:00:00.000Z',
  updatedAt: '2026-11-03T10:00:00.000Z',
  version: 3,
};

describe('expectMatchesOpenApi', () => {
  const view = toPortRequestView(portRequest);

  it('accepts an answer the document describes, by resource path or real path', () => {
    expectMatchesOpenApi('GET', '/v1/accounts/{accountId}/port-requests/{portRequestId}', 200, view);
    expectMatchesOpenApi('get', '/v1/accounts/acme/port-requests/pr_01', 200, view, 'application/json');
    expectMatchesOpenApi('GET', '/v1/accounts/acme/port-requests?limit=1', 200, { items: [view], nextCursor: 'x' });
    expectMatchesOpenApi('GET', '/v1/accounts/acme/port-requests/pr_01/events', 200, { items: portRequest.events });
    expectMatchesOpenApi(
      'POST',
      '/v1/accounts/acme/port-orders',
      409,
      {
        type: 'https://ringtonic.example/problems/409',
        title: 'Conflict',
        status: 409,
        detail: 'This Idempotency-Key was used with another body.',
        errors: [{ path: 'Idempotency-Key', message: 'already used with a different body' }],
      },
      'application/problem+json; charset=utf-8',
    );
    expect(documentedPath('/v1/accounts/acme/port-requests/pr_01/events')).toBe(
      '/v1/accounts/{accountId}/port-requests/{portRequestId}/events',
    );
  });

  it('fails naming each difference of an answer the document does not describe', () => {
    const wrong = { ...view, status: 'DONE', pins: portRequest.pins };
    const check = () => expectMatchesOpenApi('GET', '/v1/accounts/acme/port-requests/pr_01', 200, wrong);
    expect(check).toThrow(/port-requests\/pr_01 200 does not match the OpenAPI document/);
    expect(check).toThrow(/\(body\) must NOT have additional properties \(pins\)/);
    expect(check).toThrow(/\/status must be equal to one of the allowed values \(SUBMITTING, IN_REVIEW/);
  });

  it('fails on a status, a content type or a path the document does not list', () => {
    expect(() => expectMatchesOpenApi('GET', '/v1/accounts/acme/inventory', 418, {})).toThrow(/answered 418/);
    expect(() => expectMatchesOpenApi('GET', '/v1/accounts/acme/inventory', 200, { items: [] }, 'text/html')).toThrow(
      /as text\/html/,
    );
    expect(() => expectMatchesOpenApi('GET', '/v1/nowhere', 200, {})).toThrow(/no path/);
    expect(() => expectMatchesOpenApi('DELETE', '/v1/accounts/acme/inventory', 200, {})).toThrow(/no DELETE/);
  });
});
