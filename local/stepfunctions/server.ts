import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An error answered as AWS JSON 1.0 does: status 400 (or `status`), body `{ "__type": code, "message" }`. The SDK
 * takes the code from `__type` (after any `#`) and throws its exception class of that name.
 */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

/** One operation: the parsed JSON request in, the JSON response out. */
export type Operation = (input: Record<string, unknown>) => unknown;

/** Settings of {@link startJsonProtocolServer}. */
export interface JsonProtocolServerOptions {
  readonly port: number;
  readonly host: string;
  /** The X-Amz-Target prefix, e.g. `AWSStepFunctions`. */
  readonly targetPrefix: string;
  readonly operations: Readonly<Record<string, Operation>>;
  readonly log: (line: string) => void;
}

/** A listening server. */
export interface JsonProtocolServer {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const CONTENT_TYPE = 'application/x-amz-json-1.0';

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ServiceError('ValidationException', 'Request body too large', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** AWS JSON carries timestamps as epoch seconds. */
function serialize(body: unknown): string {
  return JSON.stringify(body, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : value;
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = serialize(body);
  response.writeHead(status, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
  });
  response.end(text);
}

/** Serves an AWS JSON 1.0 protocol (POST /, X-Amz-Target: `<prefix>.<Operation>`) on node:http. */
export async function startJsonProtocolServer(options: JsonProtocolServerOptions): Promise<JsonProtocolServer> {
  const { targetPrefix, operations, log } = options;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    try {
      if (request.method !== 'POST') throw new ServiceError('UnknownOperationException', 'Only POST is served', 405);
      const target = String(request.headers['x-amz-target'] ?? '');
      const [prefix, operationName] = target.split('.', 2);
      const operation = prefix === targetPrefix && operationName ? operations[operationName] : undefined;
      if (!operation) throw new ServiceError('UnknownOperationException', `Unknown operation ${target || '(none)'}`);
      const text = await readBody(request);
      let input: unknown;
      try {
        input = text.trim() === '' ? {} : JSON.parse(text);
      } catch {
        throw new ServiceError('SerializationException', 'The request body is not JSON');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new ServiceError('SerializationException', 'The request body is not a JSON object');
      }
      send(response, 200, (await operation(input as Record<string, unknown>)) ?? {});
    } catch (error) {
      if (error instanceof ServiceError) {
        send(response, error.status, { __type: error.code, message: error.message });
        return;
      }
      log(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      send(response, 500, { __type: 'InternalFailure', message: String(error) });
    }
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // A wildcard bind is reached through loopback.
  const reachable = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  const host = reachable.includes(':') ? `[${reachable}]` : reachable;

  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; without this close() waits for them to time out.
        server.closeAllConnections();
      }),
  };
}
