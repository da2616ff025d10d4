import path from 'node:path';
import type { LocalStack } from '../../local/stack';
import {
  type CountingProxy,
  type DynamoCounts,
  emptyDynamoCounts,
  type ProxyExchange,
  startDynamoCountingProxy,
  startLabelCountingProxy,
} from './counting-proxy';
import type { HandlerTimings } from './workflow';

/** Counts of what the service asked of each stand-in, and its handlers' timings. */
export interface Instrumented {
  readonly dynamo: DynamoCounts;
  /** Port request writes that succeeded, seen by the proxy (to check it saw them all: the item's version). */
  readonly portRequestWrites: { count: number };
  readonly secretsManager: Record<string, number>;
  readonly stepFunctions: Record<string, number>;
  readonly twilio: Record<string, number>;
  readonly twilioInFlight: { now: number; max: number };
  /** Twilio answers by HTTP status (429: the concurrency limit refused the call). */
  readonly twilioStatuses: Record<string, number>;
  readonly timings: HandlerTimings;
  close(): Promise<void>;
}

const awsOperation = (exchange: ProxyExchange) =>
  String(exchange.headers['x-amz-target'] ?? '').split('.')[1] ?? exchange.path;

/** `GET /v1/Porting/PortIn/KW…`: the Twilio operation, sids and numbers left out. */
export function twilioOperation(exchange: ProxyExchange): string {
  const path = exchange.path
    .split('?')[0]
    ?.replace(/\b(KW|PU|PN|AC|RD)[0-9a-fA-F]{32}\b/g, '$1…')
    .replace(/\/PhoneNumber\/[^/]+$/, '/PhoneNumber/{number}');
  return `${exchange.method} ${path}`;
}

/** A function of the synthesized template: its logical id (the local stack's name for it) and its entry. */
export interface BenchFunction {
  readonly logicalId: string;
  readonly entry: string;
}

/** Counting proxies started before the local stack, attached to it once it runs. */
export interface Instruments {
  /** For `startLocalStack({ lambdaEnvironment })`: the functions reach the stand-ins through the proxies. */
  readonly lambdaEnvironment: Record<string, string>;
  /** Points the proxies at the stack's stand-ins and times each invocation; call right after startLocalStack(). */
  attach(stack: LocalStack): Instrumented;
}

/**
 * Puts counting proxies in front of DynamoDB, Secrets Manager, Step Functions and Twilio. The functions run in
 * their own processes with the environment the stack gives them, so the proxies start first and their URLs go in
 * as the functions' endpoints (`lambdaEnvironment`); until `attach` tells them where the stand-ins are, they
 * answer 503 (retried, as a throttle is). Each invocation is timed from the runtime's own record of it (Lambda's
 * Duration, measured by the bootstrap inside the function's process), by the entry's file name.
 */
export async function startInstruments(functions: readonly BenchFunction[]): Promise<Instruments> {
  const dynamo = emptyDynamoCounts();
  const portRequestWrites = { count: 0 };
  const secretsManager: Record<string, number> = {};
  const stepFunctions: Record<string, number> = {};
  const twilio: Record<string, number> = {};
  const twilioStatuses: Record<string, number> = {};
  let urls: LocalStack['urls'] | undefined;
  const proxies: CountingProxy[] = [];
  const dynamoProxy = await startDynamoCountingProxy(
    () => urls?.dynamoDb,
    dynamo,
    (exchange) => {
      const operation = String(exchange.headers['x-amz-target'] ?? '');
      if (exchange.status === 200 && operation.endsWith('.PutItem')) {
        const sk = (JSON.parse(exchange.requestBody.toString('utf8')) as { Item?: { SK?: { S?: string } } }).Item?.SK
          ?.S;
        if (sk?.startsWith('PORT_REQUEST#')) portRequestWrites.count += 1;
      }
    },
  );
  proxies.push(dynamoProxy);
  const secretsProxy = await startLabelCountingProxy(() => urls?.secretsManager, awsOperation, secretsManager);
  proxies.push(secretsProxy);
  const sfnProxy = await startLabelCountingProxy(() => urls?.stepFunctions, awsOperation, stepFunctions);
  proxies.push(sfnProxy);
  const twilioProxy = await startLabelCountingProxy(
    () => urls?.twilio,
    (exchange) => {
      twilioStatuses[exchange.status] = (twilioStatuses[exchange.status] ?? 0) + 1;
      return twilioOperation(exchange);
    },
    twilio,
  );
  proxies.push(twilioProxy);
  const close = async () => {
    for (const proxy of proxies) await proxy.close();
  };
  return {
    lambdaEnvironment: {
      AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsProxy.url,
      AWS_ENDPOINT_URL_SFN: sfnProxy.url,
      TWILIO_API_BASE_URL: twilioProxy.url,
    },
    attach(stack) {
      urls = stack.urls;
      const names = new Map(functions.map((f) => [f.logicalId, path.basename(f.entry, '.ts')]));
      const timings: HandlerTimings = { byModule: {}, startsByModule: {} };
      for (const name of names.values()) {
        timings.byModule[name] = [];
        timings.startsByModule[name] = [];
      }
      const unsubscribe = stack.lambdas.onInvoke((record) => {
        const name = names.get(record.functionName);
        if (!name || record.durationMs === undefined) return;
        timings.byModule[name]?.push(record.durationMs);
        timings.startsByModule[name]?.push(record.startedAt);
      });
      return {
        dynamo,
        portRequestWrites,
        secretsManager,
        stepFunctions,
        twilio,
        twilioInFlight: twilioProxy.inFlight,
        twilioStatuses,
        timings,
        close: async () => {
          unsubscribe();
          await close();
        },
      };
    },
  };
}

/** A deep copy of the counters, to subtract one moment from another. */
export function snapshot(instrumented: Instrumented) {
  return JSON.parse(
    JSON.stringify({
      dynamo: instrumented.dynamo,
      secretsManager: instrumented.secretsManager,
      stepFunctions: instrumented.stepFunctions,
      twilio: instrumented.twilio,
      invocations: Object.fromEntries(
        Object.entries(instrumented.timings.byModule).map(([name, durations]) => [name, durations.length]),
      ),
      handlerMs: Object.fromEntries(
        Object.entries(instrumented.timings.byModule).map(([name, durations]) => [
          name,
          durations.reduce((a, b) => a + b, 0),
        ]),
      ),
      // Lambda bills each invocation's duration rounded up to the millisecond.
      billedMs: Object.fromEntries(
        Object.entries(instrumented.timings.byModule).map(([name, durations]) => [
          name,
          durations.reduce((a, b) => a + Math.ceil(b), 0),
        ]),
      ),
      twilioStatuses: instrumented.twilioStatuses,
    }),
  ) as CounterSnapshot;
}

export interface CounterSnapshot {
  dynamo: DynamoCounts;
  secretsManager: Record<string, number>;
  stepFunctions: Record<string, number>;
  twilio: Record<string, number>;
  invocations: Record<string, number>;
  handlerMs: Record<string, number>;
  billedMs: Record<string, number>;
  twilioStatuses: Record<string, number>;
}

/** `after − before`, field by field (numbers and records of numbers, nested). */
export function difference<T>(after: T, before: T): T {
  if (typeof after === 'number') return (after - ((before as number) ?? 0)) as T;
  if (after && typeof after === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(after)) {
      out[key] = difference(value, (before as Record<string, unknown> | undefined)?.[key] as typeof value);
    }
    return out as T;
  }
  return after;
}
