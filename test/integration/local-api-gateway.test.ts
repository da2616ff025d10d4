import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  type ApiRoute,
  type CloudFormationTemplate,
  type RunningApiGateway,
  routesFromTemplate,
  startApiGateway,
} from '../../local/api-gateway';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'LOCALACCESSKEY', secretAccessKey: 'localsecretkey' };
const MAX_BODY_BYTES = 4096;
const INTEGRATION_TIMEOUT_MS = 300;
const REQUEST_TIMEOUT_MS = 5000;

interface Call {
  readonly route: string;
  readonly event: APIGatewayProxyEvent;
  readonly context: Context;
  readonly remainingMs: number;
}

let gateway: RunningApiGateway;
const calls: Call[] = [];
const logLines: string[] = [];

function echo(route: string): ApiRoute['invoke'] {
  return async (event, context) => {
    calls.push({ route, event, context, remainingMs: context.getRemainingTimeInMillis() });
    return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ route }) };
  };
}

const routes: ApiRoute[] = [
  {
    method: 'GET',
    resourcePath: '/v1/accounts/{accountId}/port-orders/{orderId}',
    authorization: 'AWS_IAM',
    invoke: echo('getOrder'),
    functionName: 'ProductApiFunction',
  },
  {
    method: 'POST',
    resourcePath: '/v1/accounts/{accountId}/port-orders',
    authorization: 'AWS_IAM',
    invoke: echo('createOrder'),
  },
  { method: 'GET', resourcePath: '/v1/things/special', authorization: 'AWS_IAM', invoke: echo('specialThing') },
  { method: 'GET', resourcePath: '/v1/things/{thingId}', authorization: 'AWS_IAM', invoke: echo('anyThing') },
  { method: 'ANY', resourcePath: '/v1/webhooks/{proxy+}', authorization: 'NONE', invoke: echo('webhook') },
  { method: 'GET', resourcePath: '/v1/health', authorization: 'NONE', invoke: echo('health') },
  {
    method: 'GET',
    resourcePath: '/v1/fail/throws',
    authorization: 'NONE',
    invoke: async () => {
      throw new Error('database password is hunter2');
    },
  },
  {
    method: 'GET',
    resourcePath: '/v1/fail/malformed',
    authorization: 'NONE',
    invoke: async () => ({ statusCode: 200, body: { not: 'a string' } }) as unknown as APIGatewayProxyResult,
  },
  {
    method: 'GET',
    resourcePath: '/v1/fail/slow',
    authorization: 'NONE',
    invoke: async () => {
      // unref: the abandoned handler must not keep jest alive after the gateway has answered 504.
      await new Promise((resolve) => setTimeout(resolve, 2000).unref());
      return { statusCode: 200, body: 'late' };
    },
  },
  {
    method: 'GET',
    resourcePath: '/v1/binary',
    authorization: 'NONE',
    invoke: async () => ({
      statusCode: 201,
      headers: { 'X-One': 1, 'Set-Cookie': 'dropped=1' },
      multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
      body: Buffer.from([0, 1, 2, 255]).toString('base64'),
      isBase64Encoded: true,
    }),
  },
];

beforeAll(async () => {
  gateway = await startApiGateway({
    region: REGION,
    credentials: CREDENTIALS,
    routes,
    maxBodyBytes: MAX_BODY_BYTES,
    integrationTimeoutMs: INTEGRATION_TIMEOUT_MS,
    logger: (line) => logLines.push(line),
  });
});

afterAll(async () => {
  await gateway?.close();
});

beforeEach(() => {
  calls.length = 0;
  logLines.length = 0;
});

interface SignOptions {
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
  readonly region?: string;
  readonly service?: string;
  readonly signingDate?: Date;
  readonly applyChecksum?: boolean;
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: () => Record<string, unknown>;
}

function signerFor(options: SignOptions): SignatureV4 {
  return new SignatureV4({
    credentials: options.credentials ?? CREDENTIALS,
    region: options.region ?? REGION,
    service: options.service ?? 'execute-api',
    sha256: Sha256,
    applyChecksum: options.applyChecksum ?? true,
  });
}

function toSmithyRequest(method: string, url: URL, headers: Record<string, string>, body?: string | Buffer) {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return new HttpRequest({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query,
    headers: { host: url.host, ...headers },
    ...(body !== undefined ? { body } : {}),
  });
}

/** Signs a request as an AWS SDK would; `send` lets a test change what goes on the wire after signing. */
async function signed(
  method: string,
  path: string,
  options: SignOptions = {},
  send: (signed: { url: URL; headers: Record<string, string>; body?: string | Buffer }) => {
    url: URL;
    headers: Record<string, string>;
    body?: string | Buffer;
  } = (s) => s,
): Promise<Answer> {
  const url = new URL(path, gateway.url);
  const signedRequest = await signerFor(options).sign(
    toSmithyRequest(method, url, options.headers ?? {}, options.body),
    {
      ...(options.signingDate ? { signingDate: options.signingDate } : {}),
    },
  );
  const { host: _host, ...headers } = signedRequest.headers;
  const wire = send({ url, headers, ...(options.body !== undefined ? { body: options.body } : {}) });
  return call(method, wire.url, wire.headers, wire.body);
}

async function call(method: string, url: URL | string, headers: Record<string, string> = {}, body?: string | Buffer) {
  const response = await fetch(url, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

/** A request through node:http, for what fetch cannot send: repeated headers and chunked bodies. */
function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  chunks: readonly Buffer[] = [],
): Promise<{ status: number; contentType: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, gateway.url), { method, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          text: Buffer.concat(parts).toString('utf8'),
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

function expectProblem(answer: Answer, status: number): Record<string, unknown> {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  const problem = answer.json();
  expect(problem).toEqual({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
  });
  return problem;
}

function onlyCall(): Call {
  expect(calls).toHaveLength(1);
  return calls[0] as Call;
}

describe('local API Gateway: SigV4 on AWS_IAM routes', () => {
  it('passes a request signed by @smithy/signature-v4 and tells the handler who called', async () => {
    const answer = await signed('GET', '/v1/accounts/acc_1/port-orders/ord-1');
    expect(answer.status).toBe(200);
    expect(onlyCall().event.requestContext.identity.accessKey).toBe('LOCALACCESSKEY');
  });

  it('passes a signed POST whose body is covered by the signature, with and without x-amz-content-sha256', async () => {
    const body = JSON.stringify({ phoneNumbers: ['+14155550100'] });
    const headers = { 'content-type': 'application/json' };
    expect((await signed('POST', '/v1/accounts/acc_1/port-orders', { body, headers })).status).toBe(200);
    const unchecked = await signed('POST', '/v1/accounts/acc_1/port-orders', { body, headers, applyChecksum: false });
    expect(unchecked.status).toBe(200);
    expect(calls.map((c) => c.event.body)).toEqual([body, body]);
  });

  it('answers 403 problem+json to an unsigned request without calling the handler', async () => {
    const answer = await call('GET', `${gateway.url}/v1/accounts/acc_1/port-orders/ord-1`);
    const problem = expectProblem(answer, 403);
    expect(problem.title).toBe('Forbidden');
    expect(problem.detail).toMatch(/Missing Authentication Token/);
    expect(answer.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(calls).toHaveLength(0);
  });

  it.each([
    ['a wrong secret key', { credentials: { ...CREDENTIALS, secretAccessKey: 'wrong' } }, /signature/i],
    ['an unknown access key', { credentials: { ...CREDENTIALS, accessKeyId: 'OTHERKEY' } }, /security token/i],
    ['another region', { region: 'eu-west-1' }, /region/i],
    ['another service', { service: 'lambda' }, /service/i],
    ['a date 20 minutes old', { signingDate: new Date(Date.now() - 20 * 60_000) }, /expired/i],
    ['a date 20 minutes ahead', { signingDate: new Date(Date.now() + 20 * 60_000) }, /expired/i],
  ])('answers 403 to a request signed with %s', async (_name, options: SignOptions, detail) => {
    const answer = await signed('GET', '/v1/accounts/acc_1/port-orders/ord-1', options);
    expect(expectProblem(answer, 403).detail).toMatch(detail);
    expect(calls).toHaveLength(0);
  });

  it('hints at alphabetical order when a signature fails on an unsorted query, as curl 7.x signs it', async () => {
    const answer = await signed('GET', '/v1/accounts/acc_1/port-orders/ord-1?status=A&limit=5', {
      credentials: { ...CREDENTIALS, secretAccessKey: 'wrong' },
    });
    expect(expectProblem(answer, 403).detail).toMatch(/alphabetical order/);
  });

  it('accepts a date 10 minutes off, inside the 15 minutes AWS allows', async () => {
    const answer = await signed('GET', '/v1/accounts/acc_1/port-orders/ord-1', {
      signingDate: new Date(Date.now() - 10 * 60_000),
    });
    expect(answer.status).toBe(200);
  });

  it.each([true, false])(
    'answers 403 when the body changed after signing (applyChecksum %s)',
    async (applyChecksum) => {
      const answer = await signed(
        'POST',
        '/v1/accounts/acc_1/port-orders',
        { body: '{"amount":1}', headers: { 'content-type': 'application/json' }, applyChecksum },
        (s) => ({ ...s, body: '{"amount":9}' }),
      );
      expectProblem(answer, 403);
      expect(calls).toHaveLength(0);
    },
  );

  it('answers 403 when a signed header is missing from the request', async () => {
    const answer = await signed(
      'GET',
      '/v1/accounts/acc_1/port-orders/ord-1',
      { headers: { 'x-ringtonic-tenant': 'acc_1' } },
      ({ headers: { 'x-ringtonic-tenant': _dropped, ...headers }, ...rest }) => ({ ...rest, headers }),
    );
    expect(expectProblem(answer, 403).detail).toMatch(/x-ringtonic-tenant/);
  });

  it('answers 403 when the query or path changed after signing', async () => {
    const query = await signed('GET', '/v1/accounts/acc_1/port-orders/ord-1?limit=5', {}, (s) => ({
      ...s,
      url: new URL('/v1/accounts/acc_1/port-orders/ord-1?limit=6', gateway.url),
    }));
    expectProblem(query, 403);
    const path = await signed('GET', '/v1/accounts/acc_1/port-orders/ord-1', {}, (s) => ({
      ...s,
      url: new URL('/v1/accounts/acc_2/port-orders/ord-1', gateway.url),
    }));
    expectProblem(path, 403);
    expect(calls).toHaveLength(0);
  });

  it('answers 403 to a malformed Authorization header', async () => {
    const answer = await call('GET', `${gateway.url}/v1/accounts/acc_1/port-orders/ord-1`, {
      authorization: 'AWS4-HMAC-SHA256 Credential=LOCALACCESSKEY/20250101/us-east-1/execute-api/aws4_request',
    });
    expect(expectProblem(answer, 403).detail).toMatch(/SignedHeaders/);
  });

  it('verifies a path with percent-encoded characters as the SDK signs it (encoded twice)', async () => {
    const answer = await signed('GET', '/v1/accounts/acc_1/port-orders/ord%201%2Fb');
    expect(answer.status).toBe(200);
    expect(onlyCall().event.pathParameters).toEqual({ accountId: 'acc_1', orderId: 'ord 1/b' });
  });

  it('accepts a presigned URL and refuses it once expired', async () => {
    const presignedUrl = async (signingDate: Date, expiresIn: number) => {
      const url = new URL('/v1/accounts/acc_1/port-orders/ord-1?view=full', gateway.url);
      const presigned = await signerFor({}).presign(toSmithyRequest('GET', url, {}), { signingDate, expiresIn });
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(presigned.query ?? {})) search.append(key, String(value));
      return `${gateway.url}${url.pathname}?${search}`;
    };
    expect((await call('GET', await presignedUrl(new Date(), 60))).status).toBe(200);
    expect(onlyCall().event.queryStringParameters).toMatchObject({ view: 'full' });
    const expired = await call('GET', await presignedUrl(new Date(Date.now() - 120_000), 60));
    expect(expectProblem(expired, 403).detail).toMatch(/expired/i);
  });

  const curlAvailable = () =>
    new Promise<boolean>((resolve) => execFile('curl', ['--version'], (error) => resolve(!error)));
  const curl = (args: string[]) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      execFile(
        'curl',
        ['-sS', '--max-time', '5', '-o', '-', '-w', '\n%{http_code}', ...args],
        { timeout: 10_000 },
        (error, stdout) => {
          if (error) return reject(error);
          const cut = stdout.lastIndexOf('\n');
          resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) });
        },
      );
    });

  it('passes curl --aws-sigv4 requests (GET with a query, POST with a JSON body) and refuses a wrong secret', async () => {
    if (!(await curlAvailable())) {
      console.warn('curl is not installed: skipping the curl --aws-sigv4 check');
      return;
    }
    const sigv4 = ['--aws-sigv4', 'aws:amz:us-east-1:execute-api', '--user', 'LOCALACCESSKEY:localsecretkey'];
    // Alphabetical: curl 7.x signs the query as typed, and AWS (so this gateway) wants the canonical, sorted one.
    const get = await curl([...sigv4, `${gateway.url}/v1/accounts/acc_1/port-orders/ord-1?limit=5&status=A`]);
    expect(get).toEqual({ status: 200, body: '{"route":"getOrder"}' });
    const body = '{"losingCarriers":[]}';
    const post = await curl([
      ...sigv4,
      '-H',
      'content-type: application/json',
      '--data-raw',
      body,
      `${gateway.url}/v1/accounts/acc_1/port-orders`,
    ]);
    expect(post.status).toBe(200);
    expect(calls.map((c) => c.event.body)).toEqual([null, body]);
    const wrong = await curl([
      '--aws-sigv4',
      'aws:amz:us-east-1:execute-api',
      '--user',
      'LOCALACCESSKEY:wrongsecret',
      `${gateway.url}/v1/accounts/acc_1/port-orders/ord-1`,
    ]);
    expect(wrong.status).toBe(403);
    expect(JSON.parse(wrong.body)).toMatchObject({ status: 403, title: 'Forbidden' });
  });
});

describe('local API Gateway: routing', () => {
  it('answers 403 problem+json to a path no resource matches, as API Gateway does', async () => {
    const answer = await call('GET', `${gateway.url}/v2/nothing-here`);
    expect(expectProblem(answer, 403).detail).toMatch(/Missing Authentication Token/);
  });

  it('answers 403 problem+json to a method the resource does not have', async () => {
    const answer = await signed('DELETE', '/v1/accounts/acc_1/port-orders/ord-1');
    expect(expectProblem(answer, 403).detail).toMatch(/has no DELETE method \(it has GET\)/);
    expect(calls).toHaveLength(0);
  });

  it('prefers a literal path part over a {param}', async () => {
    await signed('GET', '/v1/things/special');
    await signed('GET', '/v1/things/other');
    expect(calls.map((c) => [c.route, c.event.resource, c.event.pathParameters])).toEqual([
      ['specialThing', '/v1/things/special', null],
      ['anyThing', '/v1/things/{thingId}', { thingId: 'other' }],
    ]);
  });

  it('matches {proxy+} greedily and ANY to every method, without a signature on a NONE route', async () => {
    const answer = await call('PUT', `${gateway.url}/v1/webhooks/twilio/acc_1/port-in`, {}, 'x=1');
    expect(answer.status).toBe(200);
    const { event } = onlyCall();
    expect(event.resource).toBe('/v1/webhooks/{proxy+}');
    expect(event.httpMethod).toBe('PUT');
    expect(event.pathParameters).toEqual({ proxy: 'twilio/acc_1/port-in' });
    expect(event.requestContext.identity.accessKey).toBeNull();
  });

  it('logs one line per request with method, path, status and duration', async () => {
    await call('GET', `${gateway.url}/v1/health?secret=not-logged`);
    await call('GET', `${gateway.url}/v2/nothing-here`);
    expect(logLines).toEqual([
      expect.stringMatching(/^GET \/v1\/health 200 \d+ms [0-9a-f-]{36}$/),
      expect.stringMatching(/^GET \/v2\/nothing-here 403 \d+ms [0-9a-f-]{36}$/),
    ]);
  });
});

describe('local API Gateway: the proxy event and context', () => {
  it('builds the REST API proxy event API Gateway gives Lambda', async () => {
    const before = Date.now();
    const answer = await signed('GET', '/v1/accounts/acc_1/port-orders/ord-1?status=A&status=B&limit=5', {
      headers: { 'X-Custom': 'one' },
    });
    expect(answer.status).toBe(200);
    const { event, context, remainingMs } = onlyCall();
    expect(event).toMatchObject({
      resource: '/v1/accounts/{accountId}/port-orders/{orderId}',
      path: '/v1/accounts/acc_1/port-orders/ord-1',
      httpMethod: 'GET',
      pathParameters: { accountId: 'acc_1', orderId: 'ord-1' },
      queryStringParameters: { status: 'B', limit: '5' },
      multiValueQueryStringParameters: { status: ['A', 'B'], limit: ['5'] },
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
    });
    expect(event.headers['X-Custom'] ?? event.headers['x-custom']).toBe('one');
    const headerNames = Object.keys(event.headers).map((name) => name.toLowerCase());
    expect(headerNames).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'authorization', 'x-forwarded-for']));
    expect(Object.values(event.multiValueHeaders).every((values) => Array.isArray(values))).toBe(true);
    const { requestContext } = event;
    expect(requestContext).toMatchObject({
      accountId: '000000000000',
      resourcePath: '/v1/accounts/{accountId}/port-orders/{orderId}',
      httpMethod: 'GET',
      path: '/local/v1/accounts/acc_1/port-orders/ord-1',
      stage: 'local',
      protocol: 'HTTP/1.1',
      domainName: '127.0.0.1',
      authorizer: null,
      identity: {
        accessKey: 'LOCALACCESSKEY',
        accountId: '000000000000',
        sourceIp: '127.0.0.1',
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        cognitoAuthenticationType: null,
      },
    });
    expect(requestContext.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(requestContext.requestTimeEpoch).toBeGreaterThanOrEqual(before - 1000);
    expect(requestContext.requestTime).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(requestContext.resourceId).toMatch(/^[0-9a-f]{6}$/);
    expect(answer.headers.get('x-amzn-requestid')).toBe(requestContext.requestId);
    expect(context).toMatchObject({
      awsRequestId: requestContext.requestId,
      functionName: 'ProductApiFunction',
      functionVersion: '$LATEST',
    });
    expect(remainingMs).toBeGreaterThan(0);
    expect(remainingMs).toBeLessThanOrEqual(INTEGRATION_TIMEOUT_MS);
  });

  it('keeps repeated headers in multiValueHeaders, the last one in headers, and nulls what is absent', async () => {
    const answer = await rawRequest('GET', '/v1/health', { 'X-Multi': ['a', 'b'] });
    expect(answer.status).toBe(200);
    const { event } = onlyCall();
    expect(event.headers['X-Multi']).toBe('b');
    expect(event.multiValueHeaders['X-Multi']).toEqual(['a', 'b']);
    expect(event.pathParameters).toBeNull();
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
    expect(event.requestContext.identity).toMatchObject({ accessKey: null, caller: null, userArn: null });
  });

  it('passes text bodies as strings and binary bodies base64-encoded', async () => {
    const binary = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    await call('POST', `${gateway.url}/v1/webhooks/a`, { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1');
    await call('POST', `${gateway.url}/v1/webhooks/b`, { 'content-type': 'application/octet-stream' }, binary);
    expect(calls.map((c) => [c.event.body, c.event.isBase64Encoded])).toEqual([
      ['a=1', false],
      [binary.toString('base64'), true],
    ]);
  });
});

describe('local API Gateway: body limit', () => {
  it('accepts a body of exactly maxBodyBytes', async () => {
    const answer = await call('POST', `${gateway.url}/v1/webhooks/x`, {}, 'a'.repeat(MAX_BODY_BYTES));
    expect(answer.status).toBe(200);
  });

  it('answers 413 problem+json to a larger body without calling the handler', async () => {
    const answer = await call('POST', `${gateway.url}/v1/webhooks/x`, {}, 'a'.repeat(MAX_BODY_BYTES + 1));
    expect(expectProblem(answer, 413).detail).toMatch(/larger than 4096 bytes/);
    expect(calls).toHaveLength(0);
  });

  it('answers 413 to a chunked body that grows past the limit', async () => {
    const chunk = Buffer.alloc(2000, 'a');
    const answer = await rawRequest('POST', '/v1/webhooks/x', { 'content-type': 'text/plain' }, [chunk, chunk, chunk]);
    expect(answer.status).toBe(413);
    expect(answer.contentType).toBe('application/problem+json');
    expect(calls).toHaveLength(0);
  });
});

describe('local API Gateway: handler results', () => {
  it('maps status, headers, multiValueHeaders and a base64 body, defaulting Content-Type to JSON', async () => {
    const response = await fetch(`${gateway.url}/v1/binary`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    expect(response.status).toBe(201);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(response.headers.get('x-one')).toBe('1');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(response.headers.get('content-type')).toBe('application/json');
  });

  it('answers 502 problem+json without internals when the handler throws, and logs the error', async () => {
    const answer = await call('GET', `${gateway.url}/v1/fail/throws`);
    expect(expectProblem(answer, 502).title).toBe('Bad Gateway');
    expect(answer.text).not.toMatch(/hunter2/);
    expect(logLines.some((line) => line.includes('database password is hunter2'))).toBe(true);
  });

  it('answers 502 when the handler returns a malformed result', async () => {
    const answer = await call('GET', `${gateway.url}/v1/fail/malformed`);
    expectProblem(answer, 502);
    expect(logLines.some((line) => line.includes('body is not a string'))).toBe(true);
  });

  it('answers 504 when the handler outlives the integration timeout', async () => {
    const started = Date.now();
    const answer = await call('GET', `${gateway.url}/v1/fail/slow`);
    expect(expectProblem(answer, 504).title).toBe('Gateway Timeout');
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

describe('routesFromTemplate', () => {
  it('reads methods, full resource paths, authorization and function logical ids from a CDK template', () => {
    // Required here, not imported: only this test pays for loading aws-cdk-lib.
    const cdk = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    const lambda = require('aws-cdk-lib/aws-lambda') as typeof import('aws-cdk-lib/aws-lambda');
    const apigw = require('aws-cdk-lib/aws-apigateway') as typeof import('aws-cdk-lib/aws-apigateway');
    const app = new cdk.App();
    const stack = new cdk.Stack(app, 'RoutesProbe');
    const fn = (id: string) =>
      new lambda.Function(stack, id, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "" })'),
      });
    const productApi = new apigw.LambdaIntegration(fn('ProductApiFunction'));
    const webhook = new apigw.LambdaIntegration(fn('TwilioWebhookFunction'));
    const api = new apigw.RestApi(stack, 'Api', {
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
    });
    const v1 = api.root.addResource('v1');
    const orders = v1.addResource('accounts').addResource('{accountId}').addResource('port-orders');
    orders.addMethod('POST', productApi);
    orders.addResource('{orderId}').addMethod('GET', productApi);
    // A CORS preflight is a MOCK integration: no Lambda, no route.
    orders.addCorsPreflight({ allowOrigins: ['https://app.example'] });
    v1.addResource('webhooks')
      .addResource('{proxy+}')
      .addMethod('ANY', webhook, { authorizationType: apigw.AuthorizationType.NONE });
    api.root.addMethod('GET', productApi, { authorizationType: apigw.AuthorizationType.NONE });
    const template = app.synth().getStackByName('RoutesProbe').template as CloudFormationTemplate;

    const logicalIdOf = (prefix: string) =>
      Object.keys(template.Resources ?? {}).find(
        (id) => id.startsWith(prefix) && template.Resources?.[id]?.Type === 'AWS::Lambda::Function',
      );
    const productApiId = logicalIdOf('ProductApiFunction');
    const webhookId = logicalIdOf('TwilioWebhookFunction');
    expect(routesFromTemplate(template)).toEqual([
      { method: 'GET', resourcePath: '/', authorization: 'NONE', functionLogicalId: productApiId },
      {
        method: 'POST',
        resourcePath: '/v1/accounts/{accountId}/port-orders',
        authorization: 'AWS_IAM',
        functionLogicalId: productApiId,
      },
      {
        method: 'GET',
        resourcePath: '/v1/accounts/{accountId}/port-orders/{orderId}',
        authorization: 'AWS_IAM',
        functionLogicalId: productApiId,
      },
      { method: 'ANY', resourcePath: '/v1/webhooks/{proxy+}', authorization: 'NONE', functionLogicalId: webhookId },
    ]);
  });

  const fixture = (method: Record<string, unknown>): CloudFormationTemplate => ({
    Resources: {
      Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'Api' } },
      Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
      FnAlias: { Type: 'AWS::Lambda::Alias', Properties: { FunctionName: { Ref: 'Fn' }, Name: 'live' } },
      Things: {
        Type: 'AWS::ApiGateway::Resource',
        Properties: {
          ParentId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] },
          PathPart: 'things',
          RestApiId: { Ref: 'Api' },
        },
      },
      ThingsGet: {
        Type: 'AWS::ApiGateway::Method',
        Properties: { HttpMethod: 'GET', ResourceId: { Ref: 'Things' }, RestApiId: { Ref: 'Api' }, ...method },
      },
    },
  });
  const lambdaUri = (target: unknown) => ({
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':apigateway:us-east-1:lambda:path/2015-03-31/functions/',
        target,
        '/invocations',
      ],
    ],
  });

  it('follows an alias to its function and treats a missing AuthorizationType as NONE', () => {
    const routes = routesFromTemplate(
      fixture({ Integration: { Type: 'AWS_PROXY', Uri: lambdaUri({ Ref: 'FnAlias' }) } }),
    );
    expect(routes).toEqual([
      { method: 'GET', resourcePath: '/things', authorization: 'NONE', functionLogicalId: 'Fn' },
    ]);
  });

  it('refuses an authorization type the local gateway cannot enforce', () => {
    const template = fixture({
      AuthorizationType: 'COGNITO_USER_POOLS',
      Integration: { Type: 'AWS_PROXY', Uri: lambdaUri({ 'Fn::GetAtt': ['Fn', 'Arn'] }) },
    });
    expect(() => routesFromTemplate(template)).toThrow(/cannot enforce AuthorizationType "COGNITO_USER_POOLS"/);
  });

  it('refuses a template whose integration Uri was already resolved to a string', () => {
    const template = fixture({
      Integration: {
        Type: 'AWS_PROXY',
        Uri: 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/x/invocations',
      },
    });
    expect(() => routesFromTemplate(template)).toThrow(/before intrinsics are resolved/);
  });
});
