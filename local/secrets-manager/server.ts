import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretStore, SecretsManagerError } from './secret-store';

/** Options of the local Secrets Manager. */
export interface SecretsManagerOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Used in ARNs. @default 'us-east-1' */
  readonly region?: string;
  /** Used in ARNs. @default '000000000000' */
  readonly accountId?: string;
  /** A JSON file the secrets are loaded from and written to (mode 0600); in memory only when absent. */
  readonly dataFile?: string;
}

/** A running local Secrets Manager. */
export interface RunningSecretsManager {
  /** Endpoint for `@aws-sdk/client-secrets-manager` (`endpoint` or `AWS_ENDPOINT_URL_SECRETS_MANAGER`). */
  readonly url: string;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'secretsmanager.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
// A secret is at most 64 KiB; a request much larger than that is not a Secrets Manager request.
const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * Starts a stand-in for AWS Secrets Manager speaking its JSON 1.1 protocol (`X-Amz-Target: secretsmanager.<Op>`):
 * CreateSecret, PutSecretValue, GetSecretValue, DescribeSecret, UpdateSecret and DeleteSecret. It does not check
 * signatures and never logs: requests carry secret values.
 */
export async function startSecretsManager(options: SecretsManagerOptions = {}): Promise<RunningSecretsManager> {
  const store = new SecretStore(options.region ?? 'us-east-1', options.accountId ?? '000000000000', options.dataFile);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader('x-amzn-RequestId', randomUUID());
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) {
        throw new SecretsManagerError(
          'UnknownOperationException',
          'Expected a POST with X-Amz-Target secretsmanager.<Operation>',
        );
      }
      const body = await readBody(req);
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new SecretsManagerError('SerializationException', 'The request body is not valid JSON');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new SecretsManagerError('SerializationException', 'The request body must be a JSON object');
      }
      const output = store.execute(target.slice(TARGET_PREFIX.length), input as Record<string, unknown>);
      reply(res, 200, output);
    } catch (error) {
      if (error instanceof SecretsManagerError) {
        reply(res, 400, { __type: error.type, message: error.message });
      } else {
        // Internals (file system errors and the like) stay out of the answer, as in AWS.
        reply(res, 500, { __type: 'InternalServiceError', message: 'An error occurred on the server side.' });
      }
    }
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
        // The SDK keeps sockets alive; without this close() waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.resume();
      reject(new SecretsManagerError('ValidationException', 'The request is larger than Secrets Manager accepts'));
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.statusCode = status;
  res.setHeader('Content-Type', CONTENT_TYPE);
  res.setHeader('Content-Length', payload.length);
  res.end(payload);
}
