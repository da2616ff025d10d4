import './polyfills';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { gatewayResponseHeaders, routesFromTemplate, startApiGateway } from './api-gateway';
import { startCallRouter } from './call-router';
import { resolveIntrinsics } from './cloudformation/resolve';
import { dynamoTables, lambdaFunctions, stateMachineDefinition } from './cloudformation/template';
import { type DynamoDbFaults, installDynamoDbFaults } from './dynamodb/faults';
import { createOrUpgradeTable } from './dynamodb/tables';
import { eventRulesFromTemplate, type LocalEventBus, startEventBus } from './eventbridge';
import {
  bundledAssembly,
  DEFAULT_LAMBDA_CONCURRENCY,
  DEFAULT_LAMBDA_WARM_SECONDS,
  type FunctionStats,
  type LambdaFaults,
  type LambdaRuntime,
  type LocalFunction,
  startLambdaRuntime,
} from './lambda';
import { resumeOpenPorts } from './resume';
import { bucketsFromTemplate, type LocalS3, localBucketName, startS3 } from './s3';
import { type LocalScheduler, schedulesFromTemplate, startScheduler } from './scheduler';
import { startSecretsManager } from './secrets-manager';
import { configurationSetsFromTemplate, startSes } from './ses';
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
  readonly s3Port?: number;
  /** How long the workflow waits for a webhook before it reads Twilio itself. */
  readonly pollIntervalSeconds?: number;
  /** How often a "do not cancel yet" reminder goes out. */
  readonly reminderIntervalSeconds?: number;
  /**
   * The settle window of a burst of webhooks (the deployment's `webhookSettleSeconds`, 15 s); locally 1 s by
   * default, as the local poll is 30 s instead of 6 hours.
   */
  readonly webhookSettleSeconds?: number;
  /** The Twilio simulator moves every new port-in through its statuses by itself. */
  readonly simulatorAutoAdvance?: boolean;
  readonly simulatorStepMs?: number;
  /** Delay before each Twilio API answer of the simulator, plus a random 0..jitter (benchmarks). Default none. */
  readonly simulatorLatencyMs?: number;
  readonly simulatorLatencyJitterMs?: number;
  /** Twilio's per-account REST concurrency limit in the simulator (429, error 20429, beyond it). Default none. */
  readonly simulatorMaxConcurrentRequestsPerAccount?: number;
  /**
   * The product's call router URL (CALL_ROUTER_URL: the voice URL imports give the numbers); the template's when
   * absent. The local call router stand-in answers for it: the simulator sends the calls to that URL to the stand-in,
   * signed over this URL.
   */
  readonly callRouterUrl?: string;
  /** Where the local call router stand-in listens. Default: a free port (`npm start`: 4020). */
  readonly callRouterPort?: number;
  /** Scales the state machine's Retry intervals (tests use small values). */
  readonly retryIntervalScale?: number;
  /**
   * Scales VerifyNumbers' timing (the 2-minute answer window, the 15-minute re-checks, the 48 hours before it gives
   * up; each at least 1 s): with 0.005 an hour of re-checks takes 18 s. @default 1
   */
  readonly verificationTimeScale?: number;
  /** Synthesizes with the CDK context `verifyPortedNumbers` set so (false: numbers SKIPPED). @default cdk.json's */
  readonly verifyPortedNumbers?: boolean;
  /**
   * Scales the template's schedules (the sweeper's minute) and, with them, the sweeper's grace before it starts a
   * pending execution itself (tests use small values: 0.02 runs it every 1.2 s). @default 1
   */
  readonly scheduleIntervalScale?: number;
  /**
   * Where DynamoDB's data, the secrets, the SES stand-in's record of sent emails, the S3 objects and the Twilio
   * simulator's state are kept; in memory (S3: a temporary folder) when absent. With data
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
  /**
   * How many instances of a function may run at once when the template reserves no concurrency for it; events
   * beyond it wait in a FIFO queue. Default {@link DEFAULT_LAMBDA_CONCURRENCY}.
   */
  readonly lambdaConcurrency?: number;
  /** How long an idle function instance stays warm before it is killed. Default {@link DEFAULT_LAMBDA_WARM_SECONDS}. */
  readonly lambdaWarmSeconds?: number;
  /**
   * Variables added to every function's environment, as a deployment's configuration would add them (e.g.
   * `POWERTOOLS_LOG_LEVEL: 'DEBUG'`; the stack's default for it is WARN). They win over the template's.
   */
  readonly lambdaEnvironment?: Record<string, string>;
  /**
   * TESTS ONLY: replaces the template's Timeout (seconds) of the functions whose logical id contains a key, e.g.
   * `{ SyncPortStatusFunction: 2 }`, so that a test of a timeout does not wait out the real one.
   */
  readonly lambdaTimeoutSecondsForTests?: Record<string, number>;
  /**
   * Every line the stack and its stand-ins log, the functions' output included (prefixed `[lambda <function>]`).
   * Absent: nothing is printed (subscribe to one function's lines with `stack.lambdas.onLog`).
   */
  readonly log?: (line: string) => void;
}

/** What the stack shows of its Lambda runtime (see local/lambda/README.md). */
export type LocalLambdas = Omit<LambdaRuntime, 'faults' | 'stop' | 'drain'>;

export interface LocalStack {
  readonly urls: {
    readonly api: string;
    readonly twilio: string;
    readonly ses: string;
    readonly stepFunctions: string;
    readonly dynamoDb: string;
    readonly secretsManager: string;
    readonly s3: string;
    /** The local call router stand-in (its `/_router` control routes); Twilio is given `callRouterPublic`. */
    readonly callRouter: string;
    /** The URL the numbers' voice webhooks point to (CALL_ROUTER_URL), answered by the stand-in. */
    readonly callRouterPublic: string;
  };
  readonly stateMachineArn: string;
  readonly tableName: string;
  /** The S3 bucket of presigned document uploads, as the functions name it. */
  readonly uploadsBucketName: string;
  /** The S3 stand-in (its lifecycle sweep, for tests). */
  readonly s3: Pick<LocalS3, 'sweepExpired'>;
  /** The port requests whose executions were started again at start, from the data an earlier run left. */
  readonly resumed: readonly string[];
  /** Faults of the SES stand-in. */
  readonly ses: { throttleSendEmail(times: number): void; readonly throttledCount: number };
  /** Faults of the Lambda runtime. */
  readonly lambdaFaults: LambdaFaults;
  /** Faults of DynamoDB (throttling, unavailable): they cover every caller of `urls.dynamoDb` while armed. */
  readonly dynamoDbFaults: DynamoDbFaults;
  /** Faults of the Step Functions API (StartExecution throttled). */
  readonly stepFunctionsFaults: StepFunctionsFaults;
  /** The template's schedules, running (scaled by `scheduleIntervalScale`). */
  readonly scheduler: LocalScheduler;
  /** EventBridge's default bus with the template's event rules (SES's Send events, say). */
  readonly eventBus: Pick<LocalEventBus, 'stats'>;
  /** The Lambda runtime: its counters, instances, the functions' environments and output. */
  readonly lambdas: LocalLambdas;
  /** Invocations, cold starts, instances, queue and failures by function logical id (`lambdas.stats()`). */
  lambdaStats(): Record<string, FunctionStats>;
  stop(): Promise<void>;
}

export type { LambdaFaults } from './lambda';

/** The name of the errors {@link LambdaFaults} throws (what Step Functions sees as the error). */
export const INJECTED_LAMBDA_ERROR = 'Error';

/**
 * The context the local stack synthesizes with. aws-local-stepfunctions cannot hold an execution timeout above
 * 2,147,483 s (about 24.8 days).
 */
const SYNTH_CONTEXT = { workflowTimeoutSeconds: 2_000_000 };

/** Which of `overrides` (by logical id substring) applies to a function. */
function overrideFor(logicalId: string, overrides: Record<string, number> | undefined): number | undefined {
  const keys = Object.keys(overrides ?? {}).filter((key) => logicalId.includes(key));
  if (keys.length > 1) throw new Error(`Several timeout overrides match ${logicalId}: ${keys.join(', ')}`);
  return keys[0] === undefined ? undefined : overrides?.[keys[0]];
}

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
 * simulator, the call router stand-in (at the numbers' voice URL), the Step Functions endpoint running the state machine that the CDK app synthesizes, the API Gateway
 * stand-in, and a Lambda runtime running each function's bundle from the same synth in child processes
 * (local/lambda). Nothing is copied by hand from the template: tables, routes, function environments, timeouts
 * and the state machine are read from it.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = '127.0.0.1';
  const log = options.log ?? (() => undefined);
  const stops: Array<() => Promise<void>> = [];
  // The functions run in child processes that exist once the API's URL is known (their PUBLIC_BASE_URL); the
  // Step Functions and API stand-ins, started before, reach them through this.
  let runtimeStarted: (runtime: LambdaRuntime) => void = () => undefined;
  const lambdaRuntime = new Promise<LambdaRuntime>((resolve) => {
    runtimeStarted = resolve;
  });
  let runtime: LambdaRuntime | undefined;
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
    // Started but not yet wired into the stops (a failure during start).
    await runtime?.stop();
  };

  try {
    // The template and the function bundles of one synth with bundling, cached in cdk.out.local/.
    const context =
      options.verifyPortedNumbers === undefined
        ? SYNTH_CONTEXT
        : { ...SYNTH_CONTEXT, verifyPortedNumbers: options.verifyPortedNumbers };
    const assembly = await bundledAssembly({ context, log });
    const { template } = assembly;

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
      // Events still running when the stack stops (an aborted execution's step, say) finish before dynalite
      // closes (dynalite throws from a callback, uncatchably, when written to after close); then every instance
      // is killed.
      await runtime?.stop();
      await closeServer(dynalite);
    });

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
        if (type === 'AWS::S3::Bucket') return localBucketName(logicalId);
        return logicalId;
      },
      getAtt(logicalId: string, attribute: string): string {
        const type = resources[logicalId]?.Type;
        if (type === 'AWS::Lambda::Function' && attribute === 'Arn') return functionArn(logicalId);
        if (type === 'AWS::StepFunctions::StateMachine') return stateMachineArn;
        if (type === 'AWS::S3::Bucket' && attribute === 'Arn') return `arn:aws:s3:::${localBucketName(logicalId)}`;
        if (type === 'AWS::DynamoDB::Table' && attribute === 'Arn') {
          return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:table/${logicalId}`;
        }
        return `${logicalId}.${attribute}`;
      },
    };
    const pseudo = { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID, partition: 'aws' };

    // S3: s3rver's storage behind a SigV4 check (local/s3), with the template's buckets and their lifecycle.
    const buckets = bucketsFromTemplate(template, localBucketName);
    const s3 = await startS3({
      host,
      port: options.s3Port ?? 0,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      buckets,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      log: (line) => log(`[s3] ${line}`),
    });
    stops.push(() => s3.close());

    const invoke = async (logicalId: string, event: unknown): Promise<unknown> =>
      (await lambdaRuntime).invoke(logicalId, event);

    // EventBridge's default bus: the template's event rules (SES's Send events to ConfirmEmailSentFunction), their
    // targets invoked as Lambda's asynchronous invoke would, retries on the retry clock.
    const eventBus = startEventBus({
      rules: eventRulesFromTemplate(template, resolver, pseudo),
      invoke: (logicalId, event) => invoke(logicalId, event),
      ...(options.retryIntervalScale !== undefined ? { retryDelayScale: options.retryIntervalScale } : {}),
      log: (line) => log(`[events] ${line}`),
    });
    stops.push(() => eventBus.close());

    // SES v2: aws-ses-v2-local (its page lists the emails; GET /store answers them as JSON) behind a proxy that
    // faults on demand and publishes the configuration set's events as the template configures them.
    const ses = await startSes({
      host,
      port: options.sesPort ?? 8005,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      eventPublishing: {
        configurationSets: configurationSetsFromTemplate(template, resolver, pseudo),
        publish: (event) => eventBus.putEvent(event),
        region: LOCAL_REGION,
        accountId: LOCAL_ACCOUNT_ID,
      },
      log: (line) => log(`[ses] ${line}`),
    });
    const sesUrl = ses.url;
    stops.push(() => ses.close());

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

    const functions = lambdaFunctions(template);
    const scheduleScale = options.scheduleIntervalScale ?? 1;

    // Ring Tonic's call router: a stand-in at the URL the imports give the numbers' voice webhooks. It checks Twilio's
    // signatures with the account's auth token as the simulator knows it.
    const callRouterPublic =
      options.callRouterUrl ??
      functions.map((fn) => fn.environment.CALL_ROUTER_URL).find((value): value is string => typeof value === 'string');
    if (!callRouterPublic) throw new Error('No CALL_ROUTER_URL in the template and no callRouterUrl given');
    const callRouter = await startCallRouter({
      port: options.callRouterPort ?? 0,
      host,
      publicUrl: callRouterPublic,
      authTokenOf: async (accountSid) => {
        const answer = await fetch(`${twilio.url}/_sim/accounts/${accountSid}/auth-token`);
        return answer.ok ? ((await answer.json()) as { authToken: string }).authToken : undefined;
      },
      logger: (line) => log(`[call-router] ${line}`),
    });
    stops.push(() => callRouter.close());
    const rewrite = await fetch(`${twilio.url}/_sim/url-rewrites`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ publicUrl: callRouter.publicUrl, localUrl: callRouter.voiceUrl }),
    });
    if (rewrite.status !== 204) {
      throw new Error(`The Twilio simulator at ${twilio.url} refused the call router's URL: ${rewrite.status}`);
    }

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

    // The functions' environments: the template's, resolved to the local names, with the local settings. Settings
    // of the template (the poll cadence, the public URL…) replace its values only in the functions that have them;
    // the endpoints of the stand-ins and the credentials go to every function, as a deployment's would.
    const stateMachineRunArn = stepFunctions.stateMachineArn(stateMachineName);
    const templateSettings: Record<string, string> = {
      POLL_INTERVAL_SECONDS: String(options.pollIntervalSeconds ?? 30),
      REMINDER_INTERVAL_SECONDS: String(options.reminderIntervalSeconds ?? 3 * 24 * 3600),
      WEBHOOK_SETTLE_SECONDS: String(options.webhookSettleSeconds ?? 1),
      ...(options.callRouterUrl ? { CALL_ROUTER_URL: options.callRouterUrl } : {}),
      // What Twilio signs: the API's real URL.
      PUBLIC_BASE_URL: apiUrl,
      STATE_MACHINE_ARN: stateMachineRunArn,
    };
    const localSettings: Record<string, string> = {
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoDbUrl,
      AWS_ENDPOINT_URL_SFN: stepFunctions.url,
      AWS_ENDPOINT_URL_SESV2: sesUrl,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_ENDPOINT_URL_S3: s3.url,
      TWILIO_API_BASE_URL: twilio.url,
      ...(options.twilioTimeoutMs !== undefined ? { TWILIO_TIMEOUT_MS: String(options.twilioTimeoutMs) } : {}),
      POWERTOOLS_LOG_LEVEL: 'WARN',
      ...options.lambdaEnvironment,
    };
    const localFunctions = functions.map((fn): LocalFunction => {
      const taskRoot = assembly.bundleDirs.get(fn.logicalId);
      if (!taskRoot) throw new Error(`No bundle for ${fn.logicalId} in ${assembly.dir}`);
      const resolved = resolveIntrinsics(fn.environment, resolver, pseudo) as Record<string, unknown>;
      const environment: Record<string, string> = {};
      for (const [key, value] of Object.entries(resolved ?? {})) {
        environment[key] = templateSettings[key] ?? String(value);
      }
      // Retries run retryIntervalScale times faster; so does the time after which a delay counts PortsDelayed.
      // So does the window in which DeliverEmails waits for SES to confirm an email (Lambda's retries of the
      // confirmation, run on the same clock, fall within it).
      for (const key of ['DELAY_ALERT_AFTER_SECONDS', 'EMAIL_CONFIRMATION_WINDOW_SECONDS']) {
        if (options.retryIntervalScale === undefined || !environment[key]) continue;
        const scaled = Number(environment[key]) * options.retryIntervalScale;
        environment[key] = String(Math.max(1, Math.round(scaled)));
      }
      // Verification's clock: the state machine waits what VerifyNumbers answers, so its timing is all there is.
      for (const key of ['VERIFY_ANSWER_WINDOW_SECONDS', 'VERIFY_RECHECK_SECONDS', 'VERIFY_GIVE_UP_AFTER_SECONDS']) {
        if (options.verificationTimeScale === undefined || !environment[key]) continue;
        const scaled = Number(environment[key]) * options.verificationTimeScale;
        environment[key] = String(Math.max(1, Math.round(scaled)));
      }
      // The sweeper's grace runs on the schedules' clock.
      if (scheduleScale !== 1 && environment.WORKFLOW_START_GRACE_SECONDS) {
        const scaled = Number(environment.WORKFLOW_START_GRACE_SECONDS) * scheduleScale;
        environment.WORKFLOW_START_GRACE_SECONDS = String(Math.max(1, Math.round(scaled)));
      }
      const timeoutOverride = overrideFor(fn.logicalId, options.lambdaTimeoutSecondsForTests);
      return {
        name: fn.logicalId,
        taskRoot,
        handler: fn.handler,
        environment: { ...environment, ...localSettings },
        memoryMb: fn.memorySize,
        timeoutSeconds: timeoutOverride ?? fn.timeoutSeconds,
        ...(fn.reservedConcurrency !== undefined ? { reservedConcurrency: fn.reservedConcurrency } : {}),
      };
    });
    runtime = startLambdaRuntime({
      functions: localFunctions,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      defaultConcurrency: options.lambdaConcurrency ?? DEFAULT_LAMBDA_CONCURRENCY,
      warmSeconds: options.lambdaWarmSeconds ?? DEFAULT_LAMBDA_WARM_SECONDS,
      log,
    });
    runtimeStarted(runtime);
    const cadence = {
      pollIntervalSeconds: Number(templateSettings.POLL_INTERVAL_SECONDS),
      reminderIntervalSeconds: Number(templateSettings.REMINDER_INTERVAL_SECONDS),
    };

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
      stateMachineArn: stateMachineRunArn,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      cadence,
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
        s3: s3.url,
        callRouter: callRouter.url,
        callRouterPublic: callRouter.publicUrl,
      },
      stateMachineArn: stepFunctions.stateMachineArn(stateMachineName),
      tableName,
      uploadsBucketName: buckets[0]?.name ?? '',
      s3,
      resumed,
      ses,
      lambdaFaults: runtime.faults,
      lambdas: runtime,
      lambdaStats: () => (runtime as LambdaRuntime).stats(),
      dynamoDbFaults,
      stepFunctionsFaults: stepFunctions.faults,
      scheduler,
      eventBus,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
