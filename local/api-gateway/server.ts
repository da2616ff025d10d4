import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  type ApiIdentity,
  buildLambdaContext,
  buildProxyEvent,
  type HttpAnswer,
  mapProxyResult,
  newRequestIds,
} from './proxy-integration';
import { RouteTable } from './route-table';
import { SigV4Verifier } from './sigv4-verifier';

/** One method on one API Gateway resource, backed by a Lambda handler. */
export interface ApiRoute {
  /** GET, POST, ... or ANY. */
  readonly method: string;
  /** The API Gateway resource path, e.g. `/v1/accounts/{accountId}/port-orders/{orderId}`. */
  readonly resourcePath: string;
  readonly authorization: 'AWS_IAM' | 'NONE';
  /** The Lambda handler behind the route. */
  readonly invoke: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  /** Shown in the Lambda context; @default 'local-function' */
  readonly functionName?: string;
}

/** Options of the local REST API Gateway. */
export interface ApiGatewayOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly routes: readonly ApiRoute[];
  /** @default 10 MiB, API Gateway's payload limit */
  readonly maxBodyBytes?: number;
  /** How long the gateway waits for a handler before answering 504. @default 29000, API Gateway's limit */
  readonly integrationTimeoutMs?: number;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** @default 'local' */
  readonly stage?: string;
  /**
   * Headers the gateway adds to its own refusals of a status (the template's gateway responses: see
   * `gatewayResponseHeaders`). @default none
   */
  readonly gatewayResponseHeaders?: (status: number) => Readonly<Record<string, string>>;
  /** One line per request and every handler failure. @default console.log */
  readonly logger?: (line: string) => void;
}

/** A running local API Gateway. */
export interface RunningApiGateway {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  close(): Promise<void>;
}

const MIB = 1024 * 1024;

/** A refusal by the gateway itself, sent as problem+json with API Gateway's error type header. */
class GatewayProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errorType?: string,
  ) {
    super(detail);
  }
}

/** Starts a local stand-in for an API Gateway REST API with Lambda proxy integrations. */
export async function startApiGateway(options: ApiGatewayOptions): Promise<RunningApiGateway> {
  const logger = options.logger ?? ((line: string) => console.log(line));
  const maxBodyBytes = options.maxBodyBytes ?? 10 * MIB;
  const integrationTimeoutMs = options.integrationTimeoutMs ?? 29_000;
  const table = new RouteTable(options.routes);
  const verifier = new SigV4Verifier({
    region: options.region,
    service: 'execute-api',
    credentials: options.credentials,
  });
  const api: ApiIdentity = {
    accountId: options.accountId ?? '000000000000',
    apiId: 'local00api',
    stage: options.stage ?? 'local',
    region: options.region,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const ids = newRequestIds();
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? '' : target.slice(queryAt + 1);
    res.setHeader('x-amzn-RequestId', ids.requestId);
    res.setHeader('x-amz-apigw-id', ids.extendedRequestId);
    let status = 500;
    try {
      const answer = await answerRequest(req, method, rawPath, rawQuery, ids);
      status = answer.statusCode;
      send(res, answer);
    } catch (error) {
      const problem =
        error instanceof GatewayProblem ? error : new GatewayProblem(500, 'The gateway failed to handle the request.');
      if (!(error instanceof GatewayProblem)) logger(`gateway error ${ids.requestId}: ${describe(error)}`);
      status = problem.status;
      send(res, problemAnswer(problem, options.gatewayResponseHeaders?.(problem.status)));
    } finally {
      logger(`${method} ${rawPath} ${status} ${Math.round(performance.now() - started)}ms ${ids.requestId}`);
    }
  };

  const answerRequest = async (
    req: IncomingMessage,
    method: string,
    rawPath: string,
    rawQuery: string,
    ids: ReturnType<typeof newRequestIds>,
  ): Promise<HttpAnswer> => {
    const match = table.match(method, rawPath);
    if (match.kind === 'not-found') {
      // API Gateway answers an unknown path with 403, not 404, so that it does not reveal which paths exist.
      throw new GatewayProblem(
        403,
        `Missing Authentication Token: no resource matches ${rawPath}.`,
        'MissingAuthenticationTokenException',
      );
    }
    if (match.kind === 'method-not-allowed') {
      throw new GatewayProblem(
        403,
        `Missing Authentication Token: ${match.resourcePath} has no ${method} method (it has ${match.allowedMethods.join(', ')}).`,
        'MissingAuthenticationTokenException',
      );
    }
    const body = await readBody(req, maxBodyBytes);
    let accessKeyId: string | undefined;
    if (match.route.authorization === 'AWS_IAM') {
      const verdict = await verifier.verify({
        method,
        rawPath,
        rawQuery,
        headers: headersFromRaw(req.rawHeaders),
        body,
      });
      if (!verdict.ok) throw new GatewayProblem(403, verdict.message, verdict.errorType);
      accessKeyId = verdict.accessKeyId;
    }
    const event = buildProxyEvent(
      {
        method,
        rawPath,
        rawQuery,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: normalizeIp(req.socket.remoteAddress),
        localPort: req.socket.localPort ?? 0,
        resourcePath: match.resourcePath,
        pathParameters: match.pathParameters,
        accessKeyId,
      },
      api,
      ids,
    );
    const deadline = Date.now() + integrationTimeoutMs;
    const functionName = match.route.functionName ?? 'local-function';
    const context = buildLambdaContext(functionName, api, ids.requestId, deadline);
    const outcome = await invokeWithTimeout(() => match.route.invoke(event, context), integrationTimeoutMs);
    if (outcome.kind === 'timeout') {
      logger(`${functionName} did not answer within ${integrationTimeoutMs} ms (${ids.requestId})`);
      throw new GatewayProblem(504, 'Endpoint request timed out.', 'IntegrationTimeout');
    }
    if (outcome.kind === 'error') {
      logger(`${functionName} failed (${ids.requestId}): ${describe(outcome.error)}`);
      throw new GatewayProblem(502, 'Internal server error.', 'InternalServerErrorException');
    }
    const answer = mapProxyResult(outcome.value);
    if ('malformed' in answer) {
      logger(`${functionName} returned a malformed Lambda proxy response (${ids.requestId}): ${answer.malformed}`);
      throw new GatewayProblem(502, 'Internal server error.', 'InternalServerErrorException');
    }
    return answer;
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets of finished clients would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

/** Reads the whole body, refusing with 413 as soon as it is known to be too large. */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  const tooLarge = () => new GatewayProblem(413, `The request body is larger than ${maxBytes} bytes.`);
  if (declared > maxBytes) throw tooLarge();
  // Events rather than for-await: leaving a for-await loop early destroys the socket, and the 413 with it.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      // Stop keeping chunks but go on reading, so the client finishes sending and can read the 413.
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume();
      reject(tooLarge());
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.on('end', onEnd);
    req.once('error', reject);
  });
}

type InvokeOutcome = { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

async function invokeWithTimeout(invoke: () => Promise<unknown>, timeoutMs: number): Promise<InvokeOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<InvokeOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
  });
  // A handler that throws synchronously instead of rejecting is still a function error.
  const run = (async () => invoke())().then(
    (value): InvokeOutcome => ({ kind: 'value', value }),
    (error: unknown): InvokeOutcome => ({ kind: 'error', error }),
  );
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function problemAnswer(problem: GatewayProblem, extraHeaders: Readonly<Record<string, string>> = {}): HttpAnswer {
  const title = STATUS_CODES[problem.status] ?? 'Error';
  const headers: Record<string, string[]> = { 'Content-Type': ['application/problem+json'] };
  for (const [name, value] of Object.entries(extraHeaders)) headers[name] = [value];
  if (problem.errorType) headers['x-amzn-ErrorType'] = [problem.errorType];
  const body = { type: 'about:blank', title, status: problem.status, detail: problem.detail };
  return { statusCode: problem.status, headers, body: Buffer.from(JSON.stringify(body), 'utf8') };
}

function send(res: ServerResponse, answer: HttpAnswer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [name, values] of Object.entries(answer.headers)) res.setHeader(name, values);
  res.setHeader('Content-Length', answer.body.length);
  res.statusCode = answer.statusCode;
  res.end(answer.body);
}

function normalizeIp(address: string | undefined): string {
  if (!address) return '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

/**
 * The request's headers by lower-case name, from the raw list: Node's own `req.headers` is a plain object that
 * silently drops a header named "__proto__", which a client may still have signed.
 */
function headersFromRaw(raw: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = Object.create(null);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return headers;
}
