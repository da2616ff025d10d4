import './polyfills';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { CrashPointName } from '../lambdas/shared/crash-points';
import { gatewayResponseHeaders, routesFromTemplate, startApiGateway } from './api-gateway';
import { resolveIntrinsics } from './cloudformation/resolve';
import { synthesizePortInTemplate } from './cloudformation/synthesize';
import { dynamoTables, lambdaFunctions, stateMachineDefinition } from './cloudformation/template';
import { CrashPointFaults } from './crash-points';
import { type DynamoDbFaults, installDynamoDbFaults } from './dynamodb/faults';
import { createOrUpgradeTable } from './dynamodb/tables';
import { resumeOpenPorts } from './resume';
import { type LocalScheduler, schedulesFromTemplate, startScheduler } from './scheduler';
import { startSecretsManager } from './secrets-manager';
import { startSes } from './ses';
import { type StepFunctionsFaults, startStepFunctions } from './stepfunctions';
import { startTwilioSimulator } from './twilio-simulator';

/** Credentials the local API Gateway checks SigV4 against (CONTRACT "Where it runs"). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'LOCALACCESSKEY', secretAccessKey: 'localsecretkey' } as const;
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';

export interface LocalStackOptions {
  /** Ports; 0 picks a free one. Defaults: API 3000, Twilio simulator 4010, SES 8005, others free. */
  readonly apiPort?: number;
  readonly twilioPort?: number;
  readonly sesPort?: number;
  readonly stepFunctionsPort?: number;
  readonly dynamoDbPort?: number;
  readonly secretsManagerPort?: number;
  /** How long the workflow waits for a webhook before it reads Twilio itself. */
  readonly pollIntervalSeconds?: number;
  /** How often a "do not cancel yet" reminder goes out. */
  readonly reminderIntervalSeconds?: number;
  /** The Twilio simulator moves every new port-in through its statuses by itself. */
  readonly simulatorAutoAdvance?: boolean;
  readonly simulatorStepMs?: number;
  /** Delay before each Twilio API answer of the simulator, plus a random 0..jitter (benchmarks). Default none. */
  readonly simulatorLatencyMs?: number;
  readonly simulatorLatencyJitterMs?: number;
  /** Twilio's per-account REST concurrency limit in the simulator (429, error 20429, beyond it). Default none. */
  readonly simulatorMaxConcurrentRequestsPerAccount?: number;
  readonly callRouterUrl?: string;
  /** Scales the state machine's Retry intervals (tests use small values). */
  readonly retryIntervalScale?: number;
  /**
   * Scales the template's schedules (the sweeper's minute) and, with them, the sweeper's grace before it starts a
   * pending execution itself (tests use small values: 0.02 runs it every 1.2 s). @default 1
   */
  readonly scheduleIntervalScale?: number;
  /**
   * Where DynamoDB's data, the secrets, the SES stand-in's record of sent emails and the Twilio simulator's state
   * are kept; in memory when absent. With data
   * from an earlier run, the port requests it left open are resumed at start (see local/resume.ts).
   */
  readonly dataDir?: string;
  /**
   * Use a Twilio simulator that is already running (an outside service that outlives this stack) instead of
   * starting one; the simulator options are then ignored.
   */
  readonly twilioUrl?: string;
  /** How long the Lambdas wait for a Twilio answer (TWILIO_TIMEOUT_MS); the function default when absent. */
  readonly twilioTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface LocalStack {
  readonly urls: {
    readonly api: string;
    readonly twilio: string;
    readonly ses: string;
    readonly stepFunctions: string;
    readonly dynamoDb: string;
    readonly secretsManager: string;
  };
  readonly stateMachineArn: string;
  readonly tableName: string;
  /** The port requests whose executions were started again at start, from the data an earlier run left. */
  readonly resumed: readonly string[];
  /** Faults of the SES stand-in. */
  readonly ses: { throttleSendEmail(times: number): void; readonly throttledCount: number };
  /** Faults of the Lambda runner. */
  readonly lambdaFaults: LambdaFaults;
  /** Faults of DynamoDB (throttling, unavailable): they cover every caller of `urls.dynamoDb` while armed. */
  readonly dynamoDbFaults: DynamoDbFaults;
  /** Faults of the Step Functions API (StartExecution throttled). */
  readonly stepFunctionsFaults: StepFunctionsFaults;
  /** The template's schedules, running (scaled by `scheduleIntervalScale`). */
  readonly scheduler: LocalScheduler;
  stop(): Promise<void>;
}

/** Makes the local Lambda runner fail functions, as a bug or a dependency's hiccup would. */
export interface LambdaFaults {
  /**
   * The next `times` invocations of the function whose logical id contains `functionName` (e.g.
   * `SubmitPortInFunction`) throw an unexpected Error before the handler runs.
   */
  throwNext(functionName: string, times: number): void;
  /** Errors thrown so far, by function logical id. */
  thrown(): Record<string, number>;
  /**
   * The next `times` invocations of the function that reach the crash point `point` (lambdas/shared/crash-points.ts)
   * die there, as a Lambda instance killed at that moment would: nothing after it runs, and the invoke fails with
   * Runtime.ExitError (API Gateway answers 502).
   */
  crashAt(functionName: string, point: CrashPointName, times: number): void;
  /** Invocations that died at a crash point so far, by function logical id. */
  crashed(): Record<string, number>;
}

/** The name of the errors {@link LambdaFaults} throws (what Step Functions sees as the error). */
export const INJECTED_LAMBDA_ERROR = 'Error';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const REPO_ROOT = path.resolve(__dirname, '..');

function listen(server: import('node:http').Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      resolve(`http://${host}:${address.port}`);
    });
  });
}

function closeServer(server: import('node:http').Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

function lambdaContext(functionName: string, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function waitForTableActive(client: DynamoDBClient, TableName: string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    const table = await client.send(new DescribeTableCommand({ TableName }));
    if (table.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Table ${TableName} did not become ACTIVE`);
}

/**
 * Starts the whole service on this machine: dynalite, the SES stand-in, a Secrets Manager stand-in, the Twilio
 * simulator, the Step Functions endpoint running the state machine that the CDK app synthesizes, and the API
 * Gateway stand-in routing to the same Lambda handlers the CDK app deploys. Nothing is copied by hand from the
 * template: tables, routes, function environments and the state machine are read from it.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = '127.0.0.1';
  const log = options.log ?? (() => undefined);
  const stops: Array<() => Promise<void>> = [];
  // Handler calls still running when the stack stops (an aborted execution's step, say) must finish before dynalite
  // closes: dynalite throws from a callback, uncatchably, when written to after close.
  const inFlight = new Set<Promise<unknown>>();
  const drain = async () => {
    const deadline = Date.now() + 10_000;
    while (inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => setTimeout(resolve, 100))]);
    }
  };
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };

  try {
    // aws-local-stepfunctions cannot hold an execution timeout above 2,147,483 s (about 24.8 days).
    const template = synthesizePortInTemplate({ workflowTimeoutSeconds: 2_000_000 });

    // DynamoDB: dynalite, with the tables the template declares.
    const dynamoDbPath = options.dataDir ? path.join(options.dataDir, 'dynamodb') : undefined;
    if (dynamoDbPath) mkdirSync(dynamoDbPath, { recursive: true });
    const dynalite = require('dynalite')({
      createTableMs: 0,
      deleteTableMs: 0,
      updateTableMs: 0,
      ...(dynamoDbPath ? { path: dynamoDbPath } : {}),
    });
    const dynamoDbFaults = installDynamoDbFaults(dynalite, (line) => log(`[dynamodb] ${line}`));
    const dynamoDbUrl = await listen(dynalite, options.dynamoDbPort ?? 0, host);
    stops.push(async () => {
      await drain();
      await closeServer(dynalite);
    });

    // SES v2: aws-ses-v2-local (its page lists the emails; GET /store answers them as JSON) behind a faulting proxy.
    const ses = await startSes({
      host,
      port: options.sesPort ?? 8005,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      log: (line) => log(`[ses] ${line}`),
    });
    const sesUrl = ses.url;
    stops.push(() => ses.close());

    const secrets = await startSecretsManager({
      port: options.secretsManagerPort ?? 0,
      host,
      region: LOCAL_REGION,
      ...(options.dataDir ? { dataFile: path.join(options.dataDir, 'secrets.json') } : {}),
    });
    stops.push(() => secrets.close());

    let twilio: { url: string };
    if (options.twilioUrl) {
      twilio = { url: options.twilioUrl.replace(/\/$/, '') };
    } else {
      const simulator = await startTwilioSimulator({
        port: options.twilioPort ?? 4010,
        host,
        autoAdvance: options.simulatorAutoAdvance ?? false,
        ...(options.simulatorStepMs ? { autoAdvanceStepMs: options.simulatorStepMs } : {}),
        latencyMs: options.simulatorLatencyMs ?? 0,
        latencyJitterMs: options.simulatorLatencyJitterMs ?? 0,
        ...(options.simulatorMaxConcurrentRequestsPerAccount !== undefined
          ? { maxConcurrentRequestsPerAccount: options.simulatorMaxConcurrentRequestsPerAccount }
          : {}),
        logger: (line) => log(`[twilio] ${line}`),
        ...(options.dataDir ? { stateFile: path.join(options.dataDir, 'twilio-simulator.json') } : {}),
      });
      stops.push(() => simulator.close());
      twilio = simulator;
    }

    // Names the template's Refs and ARNs resolve to locally.
    const functionArn = (logicalId: string) =>
      `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${logicalId}`;
    const resources = (template.Resources ?? {}) as Record<string, { Type: string }>;
    const stateMachineLogicalId = Object.keys(resources).find(
      (id) => resources[id]?.Type === 'AWS::StepFunctions::StateMachine',
    );
    if (!stateMachineLogicalId) throw new Error('The template has no state machine');
    const stateMachineName = 'PortInWorkflow';
    const stateMachineArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${stateMachineName}`;
    const resolver = {
      ref(logicalId: string): string {
        const type = resources[logicalId]?.Type;
        if (type === 'AWS::StepFunctions::StateMachine') return stateMachineArn;
        if (type === 'AWS::Lambda::Function') return logicalId;
        return logicalId;
      },
      getAtt(logicalId: string, attribute: string): string {
        const type = resources[logicalId]?.Type;
        if (type === 'AWS::Lambda::Function' && attribute === 'Arn') return functionArn(logicalId);
        if (type === 'AWS::StepFunctions::StateMachine') return stateMachineArn;
        if (type === 'AWS::DynamoDB::Table' && attribute === 'Arn') {
          return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:table/${logicalId}`;
        }
        return `${logicalId}.${attribute}`;
      },
    };
    const pseudo = { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID, partition: 'aws' };

    const dynamo = new DynamoDBClient({
      endpoint: dynamoDbUrl,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const tables = dynamoTables(template);
    for (const table of tables) {
      const TableName = resolver.ref(table.logicalId);
      // Kept on disk by an earlier run, and made again if it lacks an index the template declares now.
      const made = await createOrUpgradeTable(dynamo, { ...table.createTableInput, TableName });
      if (made === 'upgraded') log(`[dynamodb] ${TableName} made again with the template's indexes, items kept`);
      await waitForTableActive(dynamo, TableName);
    }
    dynamo.destroy();
    const tableName = tables[0] ? resolver.ref(tables[0].logicalId) : '';

    // The Lambda functions: the same modules, with the environment the template gives them plus local overrides.
    const functions = lambdaFunctions(template);
    const scheduleScale = options.scheduleIntervalScale ?? 1;
    const graceSeconds = functions.map((f) => f.environment.WORKFLOW_START_GRACE_SECONDS).find(Boolean);
    const overrides: Record<string, string> = {
      // The sweeper's grace runs on the schedules' clock.
      ...(graceSeconds !== undefined && scheduleScale !== 1
        ? { WORKFLOW_START_GRACE_SECONDS: String(Math.max(1, Math.round(Number(graceSeconds) * scheduleScale))) }
        : {}),
      POLL_INTERVAL_SECONDS: String(options.pollIntervalSeconds ?? 30),
      REMINDER_INTERVAL_SECONDS: String(options.reminderIntervalSeconds ?? 3 * 24 * 3600),
      TWILIO_API_BASE_URL: twilio.url,
      ...(options.twilioTimeoutMs !== undefined ? { TWILIO_TIMEOUT_MS: String(options.twilioTimeoutMs) } : {}),
      ...(options.callRouterUrl ? { CALL_ROUTER_URL: options.callRouterUrl } : {}),
    };
    const environment: Record<string, string> = {};
    for (const fn of functions) {
      const resolved = resolveIntrinsics(fn.environment, resolver, pseudo) as Record<string, unknown>;
      for (const [key, value] of Object.entries(resolved ?? {})) {
        const text = String(value);
        if (key in environment && environment[key] !== text && !(key in overrides) && key !== 'PUBLIC_BASE_URL') {
          throw new Error(`Functions disagree on ${key}: ${environment[key]} vs ${text}`);
        }
        environment[key] = text;
      }
    }

    const handlers = new Map<string, Handler>();
    const loadHandler = (logicalId: string): Handler => {
      const cached = handlers.get(logicalId);
      if (cached) return cached;
      const fn = functions.find((f) => f.logicalId === logicalId);
      if (!fn) throw new Error(`No function ${logicalId} in the template`);
      const module = require(path.join(REPO_ROOT, fn.entry)) as { handler: Handler };
      handlers.set(logicalId, module.handler);
      return module.handler;
    };
    const armedFaults = new Map<string, number>();
    const thrown: Record<string, number> = {};
    const crashFaults = new CrashPointFaults(log);
    stops.push(async () => crashFaults.close());
    const functionNamed = (functionName: string): string => {
      const matching = functions.filter((f) => f.logicalId.includes(functionName));
      if (matching.length !== 1) {
        throw new Error(`${matching.length} functions match ${functionName}: name exactly one`);
      }
      return (matching[0] as { logicalId: string }).logicalId;
    };
    const lambdaFaults: LambdaFaults = {
      throwNext(functionName, times) {
        armedFaults.set(functionNamed(functionName), times);
      },
      thrown: () => ({ ...thrown }),
      crashAt(functionName, point, times) {
        crashFaults.arm(functionNamed(functionName), point, times);
      },
      crashed: () => crashFaults.crashed(),
    };
    const invoke = async (logicalId: string, event: unknown): Promise<unknown> => {
      const fn = functions.find((f) => f.logicalId === logicalId);
      const handler = loadHandler(logicalId);
      const armed = armedFaults.get(logicalId) ?? 0;
      if (armed > 0) {
        armedFaults.set(logicalId, armed - 1);
        thrown[logicalId] = (thrown[logicalId] ?? 0) + 1;
        log(`[lambda] ${logicalId} throws (fault, ${armed - 1} left)`);
        throw new Error(`Injected failure of ${logicalId}`);
      }
      // Lambda passes JSON, not object references: a round trip keeps local behaviour honest.
      const payload = JSON.parse(JSON.stringify(event ?? null));
      const call = crashFaults.run(logicalId, () =>
        handler(payload, lambdaContext(logicalId, fn?.timeoutSeconds ?? 30)),
      );
      inFlight.add(call);
      try {
        const result = await call;
        return result === undefined ? null : JSON.parse(JSON.stringify(result));
      } finally {
        inFlight.delete(call);
      }
    };

    const stepFunctions = await startStepFunctions({
      port: options.stepFunctionsPort ?? 0,
      host,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      stateMachines: [
        { name: stateMachineName, definition: stateMachineDefinition(template, resolver, pseudo) as object },
      ],
      invokeFunction: (arn, payload) => invoke(arn.split(':').at(-1) ?? arn, payload),
      ...(options.retryIntervalScale !== undefined ? { retryIntervalScale: options.retryIntervalScale } : {}),
      logger: (line) => log(`[sfn] ${line}`),
    });
    stops.push(() => stepFunctions.close());

    const routes = routesFromTemplate(template).map((route) => ({
      method: route.method,
      resourcePath: route.resourcePath,
      authorization: route.authorization,
      invoke: (event: APIGatewayProxyEvent) => invoke(route.functionLogicalId, event) as Promise<APIGatewayProxyResult>,
    }));

    const api = await startApiGateway({
      port: options.apiPort ?? 3000,
      host,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      routes,
      gatewayResponseHeaders: gatewayResponseHeaders(template),
      logger: (line) => log(`[api] ${line}`),
    });
    stops.push(() => api.close());
    const apiUrl = api.url.replace(/\/$/, '');

    // Handlers load on their first call, after this: PUBLIC_BASE_URL (what Twilio signs) is the API's real URL.
    Object.assign(environment, overrides, {
      PUBLIC_BASE_URL: apiUrl,
      STATE_MACHINE_ARN: stepFunctions.stateMachineArn(stateMachineName),
    });
    Object.assign(process.env, environment, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoDbUrl,
      AWS_ENDPOINT_URL_SFN: stepFunctions.url,
      AWS_ENDPOINT_URL_SESV2: sesUrl,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    });

    // EventBridge: the template's schedules (the sweeper of pending workflow starts), on the scaled clock.
    const scheduler = startScheduler({
      schedules: schedulesFromTemplate(template),
      invoke,
      intervalScale: scheduleScale,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      log: (line) => log(`[scheduler] ${line}`),
    });
    stops.push(() => scheduler.close());

    // Executions do not outlive the process: start again those of the port requests an earlier run left open.
    const resumed = await resumeOpenPorts({
      dynamoDbUrl,
      stepFunctionsUrl: stepFunctions.url,
      tableName,
      stateMachineArn: stepFunctions.stateMachineArn(stateMachineName),
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      cadence: {
        pollIntervalSeconds: Number(environment.POLL_INTERVAL_SECONDS),
        reminderIntervalSeconds: Number(environment.REMINDER_INTERVAL_SECONDS),
      },
    });
    if (resumed.length > 0) log(`[resume] started the executions of ${resumed.length} open port requests again`);

    return {
      urls: {
        api: apiUrl,
        twilio: twilio.url,
        ses: sesUrl,
        stepFunctions: stepFunctions.url,
        dynamoDb: dynamoDbUrl,
        secretsManager: secrets.url,
      },
      stateMachineArn: stepFunctions.stateMachineArn(stateMachineName),
      tableName,
      resumed,
      ses,
      lambdaFaults,
      dynamoDbFaults,
      stepFunctionsFaults: stepFunctions.faults,
      scheduler,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
