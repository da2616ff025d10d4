import { Agent, createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of one stand-in, so the bench can count what the service asks of it without
 * touching production code: the handlers read AWS_ENDPOINT_URL_<SERVICE> and TWILIO_API_BASE_URL at their cold
 * start, which the local stack delays to their first call, so pointing those variables at a proxy after
 * startLocalStack() returns routes every handler's calls through it.
 */

export interface ProxyExchange {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly requestBody: Buffer;
  readonly status: number;
  readonly responseBody: Buffer;
}

export interface ProxyOptions {
  /** Where requests go; a function when the target is known only later (503 until it is). */
  readonly target: string | (() => string | undefined);
  /** May replace the request body before it is forwarded. */
  readonly rewriteRequest?: (method: string, path: string, headers: IncomingMessage['headers'], body: Buffer) => Buffer;
  /** Called once per answered request. */
  readonly observe: (exchange: ProxyExchange) => void;
}

export interface CountingProxy {
  readonly url: string;
  /** Requests being forwarded right now, and the most at once so far. */
  readonly inFlight: { now: number; max: number };
  close(): Promise<void>;
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export async function startCountingProxy(options: ProxyOptions): Promise<CountingProxy> {
  const targetOf = typeof options.target === 'string' ? () => options.target as string : options.target;
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const inFlight = { now: 0, max: 0 };
  const server: Server = createServer((req, res) => {
    inFlight.now += 1;
    inFlight.max = Math.max(inFlight.max, inFlight.now);
    res.on('close', () => {
      inFlight.now -= 1;
    });
    void (async () => {
      try {
        const to = targetOf();
        if (!to) {
          res.writeHead(503).end();
          return;
        }
        const target = new URL(to);
        const method = req.method ?? 'GET';
        const path = req.url ?? '/';
        const original = await readAll(req);
        const body = options.rewriteRequest ? options.rewriteRequest(method, path, req.headers, original) : original;
        const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
        const upstream = request(
          { host: target.hostname, port: target.port, method, path, headers, agent },
          (answer) => {
            readAll(answer)
              .then((responseBody) => {
                options.observe({
                  method,
                  path,
                  headers: req.headers,
                  requestBody: body,
                  status: answer.statusCode ?? 0,
                  responseBody,
                });
                const { 'content-length': _length, 'transfer-encoding': _encoding, ...rest } = answer.headers;
                res.writeHead(answer.statusCode ?? 502, { ...rest, 'content-length': String(responseBody.length) });
                res.end(responseBody);
              })
              .catch(() => res.destroy());
          },
        );
        upstream.on('error', () => {
          if (!res.headersSent) res.writeHead(502).end();
          else res.destroy();
        });
        upstream.end(body);
      } catch {
        if (!res.headersSent) res.writeHead(502).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    inFlight,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const DYNAMO_READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** DynamoDB requests seen by a proxy, with the capacity units they consumed. */
export interface DynamoCounts {
  readonly byOperation: Record<string, number>;
  reads: number;
  writes: number;
  /** Read request units as on-demand bills them (dynalite's ConsumedCapacity: 4 KB per unit, strong reads). */
  readRequestUnits: number;
  /** Write request units (1 KB per unit, the larger of old and new item). */
  writeRequestUnits: number;
  /** Conditional writes refused; billed too (AWS charges the write), estimated from the request's size. */
  conditionalCheckFailures: number;
  otherErrors: number;
}

export function emptyDynamoCounts(): DynamoCounts {
  return {
    byOperation: {},
    reads: 0,
    writes: 0,
    readRequestUnits: 0,
    writeRequestUnits: 0,
    conditionalCheckFailures: 0,
    otherErrors: 0,
  };
}

/**
 * A proxy in front of dynalite that asks for ReturnConsumedCapacity on every request (dynalite computes it from
 * item sizes as DynamoDB does) and adds up reads, writes and their request units into `counts`.
 */
export function startDynamoCountingProxy(
  target: ProxyOptions['target'],
  counts: DynamoCounts,
  alsoObserve?: (exchange: ProxyExchange) => void,
): Promise<CountingProxy> {
  const operationOf = (headers: IncomingMessage['headers']) =>
    String(headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
  return startCountingProxy({
    target,
    rewriteRequest: (_method, _path, headers, body) => {
      const operation = operationOf(headers);
      if (!DYNAMO_READS.has(operation) && !DYNAMO_WRITES.has(operation)) return body;
      // dynalite checks that a signature is present, not what it signed: the body may change under it.
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      parsed.ReturnConsumedCapacity ??= 'TOTAL';
      return Buffer.from(JSON.stringify(parsed));
    },
    observe: (exchange) => {
      alsoObserve?.(exchange);
      const { headers, status, requestBody, responseBody } = exchange;
      const operation = operationOf(headers);
      counts.byOperation[operation] = (counts.byOperation[operation] ?? 0) + 1;
      const isRead = DYNAMO_READS.has(operation);
      const isWrite = DYNAMO_WRITES.has(operation);
      if (isRead) counts.reads += 1;
      if (isWrite) counts.writes += 1;
      const answer = JSON.parse(responseBody.toString('utf8') || '{}') as {
        __type?: string;
        ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }>;
      };
      if (status >= 400) {
        if (answer.__type?.includes('ConditionalCheckFailed')) {
          counts.conditionalCheckFailures += 1;
          // DynamoDB bills a refused conditional write as the write it would have been.
          counts.writeRequestUnits += Math.max(1, Math.ceil(requestBody.length / 1024));
        } else counts.otherErrors += 1;
        return;
      }
      const consumed = Array.isArray(answer.ConsumedCapacity) ? answer.ConsumedCapacity : [answer.ConsumedCapacity];
      const units = consumed.reduce((total, c) => total + (c?.CapacityUnits ?? 0), 0);
      if (isRead) counts.readRequestUnits += units;
      if (isWrite) counts.writeRequestUnits += units;
    },
  });
}

/** Requests seen by a proxy, keyed by a label the caller derives from each exchange. */
export function startLabelCountingProxy(
  target: ProxyOptions['target'],
  label: (exchange: ProxyExchange) => string,
  counts: Record<string, number>,
): Promise<CountingProxy> {
  return startCountingProxy({
    target,
    observe: (exchange) => {
      const key = label(exchange);
      counts[key] = (counts[key] ?? 0) + 1;
    },
  });
}
