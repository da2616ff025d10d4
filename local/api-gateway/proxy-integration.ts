import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayEventIdentity, APIGatewayProxyEvent, Context } from 'aws-lambda';
import { parseQuery, type Query } from './sigv4-verifier';

/** What the gateway knows about a request once it has matched a route and read the body. */
export interface IntegrationRequest {
  readonly method: string;
  readonly rawPath: string;
  readonly rawQuery: string;
  /** Node's `rawHeaders`: names in the case the client sent, duplicates kept. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly localPort: number;
  readonly resourcePath: string;
  readonly pathParameters: Record<string, string>;
  /** Set when the route uses AWS_IAM and the signature checked out. */
  readonly accessKeyId: string | undefined;
}

/** Fixed facts about the emulated API that show up in every event. */
export interface ApiIdentity {
  readonly accountId: string;
  readonly apiId: string;
  readonly stage: string;
  readonly region: string;
}

/** Builds the REST API (payload format 1.0) proxy event that API Gateway hands to Lambda. */
export function buildProxyEvent(
  request: IntegrationRequest,
  api: ApiIdentity,
  ids: { requestId: string; extendedRequestId: string; at: Date },
): APIGatewayProxyEvent {
  // No prototype: a header named "constructor" or "__proto__" is just a header.
  const headers: Record<string, string> = Object.create(null);
  const multiValueHeaders: Record<string, string[]> = Object.create(null);
  const addHeader = (name: string, value: string): void => {
    headers[name] = value;
    const values = multiValueHeaders[name];
    if (values) values.push(value);
    else multiValueHeaders[name] = [value];
  };
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    addHeader(request.rawHeaders[i] as string, request.rawHeaders[i + 1] as string);
  }
  // API Gateway adds these; handlers that build URLs or log callers read them.
  const present = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  if (!present.has('x-forwarded-for')) addHeader('X-Forwarded-For', request.sourceIp);
  if (!present.has('x-forwarded-port')) addHeader('X-Forwarded-Port', String(request.localPort));
  if (!present.has('x-forwarded-proto')) addHeader('X-Forwarded-Proto', 'http');
  if (!present.has('x-amzn-trace-id')) addHeader('X-Amzn-Trace-Id', traceId(ids.at));

  const query = parseQuery(request.rawQuery);
  const host = lookup(headers, 'host') ?? `127.0.0.1:${request.localPort}`;
  const domainName = host.replace(/:\d+$/, '');
  const iam = request.accessKeyId !== undefined;
  const identity: APIGatewayEventIdentity = {
    accessKey: request.accessKeyId ?? null,
    accountId: iam ? api.accountId : null,
    apiKey: null,
    apiKeyId: null,
    caller: request.accessKeyId ?? null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: request.sourceIp,
    user: request.accessKeyId ?? null,
    userAgent: lookup(headers, 'user-agent') ?? null,
    userArn: iam ? `arn:aws:iam::${api.accountId}:user/local` : null,
  };
  const { body, isBase64Encoded } = encodeBody(request.body, lookup(headers, 'content-type'));
  return {
    resource: request.resourcePath,
    path: request.rawPath,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length > 0 ? lastValues(query) : null,
    multiValueQueryStringParameters: Object.keys(query).length > 0 ? allValues(query) : null,
    pathParameters: Object.keys(request.pathParameters).length > 0 ? { ...request.pathParameters } : null,
    stageVariables: null,
    requestContext: {
      accountId: api.accountId,
      apiId: api.apiId,
      authorizer: null,
      domainName,
      domainPrefix: domainName.split('.')[0],
      extendedRequestId: ids.extendedRequestId,
      httpMethod: request.method,
      identity,
      path: `/${api.stage}${request.rawPath}`,
      protocol: 'HTTP/1.1',
      requestId: ids.requestId,
      requestTime: formatRequestTime(ids.at),
      requestTimeEpoch: ids.at.getTime(),
      resourceId: resourceId(request.resourcePath),
      resourcePath: request.resourcePath,
      stage: api.stage,
    },
    body,
    isBase64Encoded,
  };
}

/** Builds a Lambda context whose remaining time runs out when the gateway stops waiting. */
export function buildLambdaContext(
  functionName: string,
  api: ApiIdentity,
  awsRequestId: string,
  deadline: number,
): Context {
  const unsupported = (): never => {
    throw new Error('done/fail/succeed are not supported: return a result from an async handler');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${api.region}:${api.accountId}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/** A Lambda proxy result turned into what goes on the wire. */
export interface HttpAnswer {
  readonly statusCode: number;
  readonly headers: Record<string, string[]>;
  readonly body: Buffer;
}

// Node computes these itself; API Gateway renames a handler's own to x-amzn-Remapped-*.
const REMAPPED_HEADERS = new Set(['connection', 'content-length', 'transfer-encoding', 'date', 'server']);

/** Maps a handler's result as API Gateway does, or answers why it is malformed (API Gateway then answers 502). */
export function mapProxyResult(result: unknown): HttpAnswer | { readonly malformed: string } {
  if (typeof result !== 'object' || result === null) return { malformed: 'the result is not an object' };
  const r = result as Record<string, unknown>;
  const { statusCode } = r;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    return { malformed: 'statusCode is not an integer HTTP status' };
  }
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') {
    return { malformed: 'body is not a string' };
  }
  if (r.isBase64Encoded !== undefined && typeof r.isBase64Encoded !== 'boolean') {
    return { malformed: 'isBase64Encoded is not a boolean' };
  }
  const merged = new Map<string, { name: string; values: string[] }>();
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object' || Array.isArray(r.headers)) return { malformed: 'headers is not an object' };
    for (const [name, value] of Object.entries(r.headers)) {
      if (!isScalar(value)) return { malformed: `header '${name}' is not a string, number or boolean` };
      merged.set(name.toLowerCase(), { name, values: [String(value)] });
    }
  }
  if (r.multiValueHeaders !== undefined && r.multiValueHeaders !== null) {
    if (typeof r.multiValueHeaders !== 'object' || Array.isArray(r.multiValueHeaders)) {
      return { malformed: 'multiValueHeaders is not an object' };
    }
    for (const [name, values] of Object.entries(r.multiValueHeaders)) {
      if (!Array.isArray(values) || !values.every(isScalar)) {
        return { malformed: `multiValueHeaders '${name}' is not an array of strings, numbers or booleans` };
      }
      // API Gateway lets multiValueHeaders win over headers for the same name.
      merged.set(name.toLowerCase(), { name, values: values.map(String) });
    }
  }
  const headers: Record<string, string[]> = {};
  for (const [lower, { name, values }] of merged) {
    headers[REMAPPED_HEADERS.has(lower) ? `x-amzn-Remapped-${name}` : name] = values;
  }
  if (!merged.has('content-type')) headers['Content-Type'] = ['application/json'];
  const text = typeof r.body === 'string' ? r.body : '';
  const body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { statusCode, headers, body };
}

/** Fresh ids for one request, shaped like API Gateway's. */
export function newRequestIds(): { requestId: string; extendedRequestId: string; at: Date } {
  return { requestId: randomUUID(), extendedRequestId: `${randomBytes(11).toString('base64url')}=`, at: new Date() };
}

function encodeBody(body: Buffer, contentType: string | undefined): { body: string | null; isBase64Encoded: boolean } {
  if (body.length === 0) return { body: null, isBase64Encoded: false };
  // Without binaryMediaTypes API Gateway passes text through; binary types arrive base64-encoded.
  if (contentType === undefined || isTextContentType(contentType)) {
    return { body: body.toString('utf8'), isBase64Encoded: false };
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

function isTextContentType(contentType: string): boolean {
  const mime = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    mime.startsWith('text/') ||
    mime.startsWith('multipart/') ||
    mime === 'application/json' ||
    mime.endsWith('+json') ||
    mime === 'application/xml' ||
    mime.endsWith('+xml') ||
    mime === 'application/x-www-form-urlencoded' ||
    mime === 'application/javascript'
  );
}

function lastValues(query: Query): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) out[key] = Array.isArray(value) ? (value.at(-1) ?? '') : value;
  return out;
}

function allValues(query: Query): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(query)) out[key] = Array.isArray(value) ? [...value] : [value];
  return out;
}

function lookup(headers: Record<string, string>, lowerName: string): string | undefined {
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === lowerName) return value;
  return undefined;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** A stable 6-character id per resource path, like API Gateway's resource ids. */
function resourceId(resourcePath: string): string {
  return createHash('sha256').update(resourcePath).digest('hex').slice(0, 6);
}

function traceId(at: Date): string {
  return `Root=1-${Math.floor(at.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's `requestTime`: `09/Apr/2015:12:34:56 +0000`. */
function formatRequestTime(at: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${pad(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()}:` +
    `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())} +0000`
  );
}
