import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** What a DynamoDB fault answers. */
export type DynamoDbFaultError =
  /** 400, what a table or index past its throughput answers (the SDK retries it as throttling). */
  | 'ProvisionedThroughputExceededException'
  /** 400, the account's or the control plane's rate. */
  | 'ThrottlingException'
  /** 500, DynamoDB unavailable for a moment. */
  | 'InternalServerError';

/** One fault: which calls it covers, for how long, and what they answer. */
export interface DynamoDbFault {
  /** DynamoDB operations (`PutItem`, `Query`, …) it covers. @default every operation */
  readonly operations?: readonly string[];
  /** The next `times` calls it covers; or, with `forMs`, every call for that long. */
  readonly times?: number;
  readonly forMs?: number;
  /** @default 'ProvisionedThroughputExceededException' */
  readonly error?: DynamoDbFaultError;
}

/** Faults of the local DynamoDB, for tests of what the service does when DynamoDB throttles or fails. */
export interface DynamoDbFaults {
  /** Arms a fault (replacing the one armed before). */
  throttle(fault: DynamoDbFault): void;
  /** Ends the armed fault. */
  clear(): void;
  /** Calls answered by a fault so far, by operation. */
  refused(): Record<string, number>;
}

const MESSAGES: Record<DynamoDbFaultError, string> = {
  ProvisionedThroughputExceededException:
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  ThrottlingException: 'Rate of requests exceeds the allowed throughput.',
  InternalServerError: 'Internal server error',
};

/**
 * Puts the faults in front of dynalite's own request handling, in its server: a covered call is answered as
 * DynamoDB answers it (AWS JSON 1.0, `__type` naming the error) without reaching dynalite, and every other call
 * goes on as before, with no extra hop. The operation is read from `X-Amz-Target` (`DynamoDB_20120810.PutItem`).
 */
export function installDynamoDbFaults(server: Server, log: (line: string) => void = () => undefined): DynamoDbFaults {
  let armed: (DynamoDbFault & { until?: number; remaining?: number }) | undefined;
  const counts: Record<string, number> = {};
  const handlers = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');

  const covers = (operation: string): DynamoDbFaultError | undefined => {
    if (!armed) return undefined;
    if (armed.operations && !armed.operations.includes(operation)) return undefined;
    if (armed.remaining !== undefined) {
      if (armed.remaining <= 0) return undefined;
      armed.remaining -= 1;
    } else if (armed.until === undefined || Date.now() >= armed.until) {
      return undefined;
    }
    return armed.error ?? 'ProvisionedThroughputExceededException';
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const error = covers(operation);
    if (!error) {
      for (const handler of handlers) handler.call(server, req, res);
      return;
    }
    counts[operation] = (counts[operation] ?? 0) + 1;
    log(`${operation} -> ${error} (fault)`);
    // Read the request to its end first, so the connection stays usable for the client's retry.
    req.resume();
    req.once('end', () => {
      const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${error}`, message: MESSAGES[error] });
      res.writeHead(error === 'InternalServerError' ? 500 : 400, {
        'Content-Type': 'application/x-amz-json-1.0',
        'Content-Length': Buffer.byteLength(body),
        'x-amzn-RequestId': randomUUID(),
      });
      res.end(body);
    });
  });

  return {
    throttle(fault) {
      if (fault.times === undefined && fault.forMs === undefined) throw new Error('Give times or forMs');
      armed = {
        ...fault,
        ...(fault.times !== undefined ? { remaining: fault.times } : { until: Date.now() + (fault.forMs ?? 0) }),
      };
    },
    clear() {
      armed = undefined;
    },
    refused: () => ({ ...counts }),
  };
}
