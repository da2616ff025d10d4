// aws-local-stepfunctions calls Promise.withResolvers, which Node 20 lacks.
import '../polyfills';

export type { StepFunctionsFaults, ThrottleLimit } from './faults';

import { stepFunctionsOperations } from './api';
import { prepareDefinition } from './definition';
import { InMemoryExecutionStore } from './executions';
import { OperationFaults, type StepFunctionsFaults } from './faults';
import { buildLocalStateMachine, ExecutionRunner, type LocalStateMachine } from './runner';
import { startJsonProtocolServer } from './server';
import { TaskTokenRegistry } from './tokens';

/** Settings of {@link startStepFunctions}. */
export interface StepFunctionsOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** The state machines served: plain, resolved ASL (JSONPath) definitions. */
  readonly stateMachines: ReadonlyArray<{ readonly name: string; readonly definition: object }>;
  /** Runs a Lambda function: the ARN or name as the definition gives it, and the payload. */
  readonly invokeFunction: (functionArn: string, payload: unknown) => Promise<unknown>;
  /** One line per execution start and end and per task failure. @default no logging */
  readonly logger?: (line: string) => void;
  /**
   * Multiplies every retrier's IntervalSeconds and MaxDelaySeconds (tests use e.g. 0.01); BackoffRate and
   * JitterStrategy are kept, so scaled retries back off and spread out as AWS's do, only faster.
   * @default 1 (the definition's retries as they are)
   */
  readonly retryIntervalScale?: number;
}

/** A running local Step Functions endpoint. */
export interface LocalStepFunctions {
  /** Endpoint for `new SFNClient({ endpoint })`. */
  readonly url: string;
  /** The ARN of a served state machine, by name. */
  stateMachineArn(name: string): string;
  /** Faults of the API (StartExecution throttled, say). */
  readonly faults: StepFunctionsFaults;
  /** Aborts the running executions and closes the server. */
  close(): Promise<void>;
}

/** Starts a Step Functions API endpoint (AWS JSON 1.0) that runs executions on aws-local-stepfunctions. */
export async function startStepFunctions(options: StepFunctionsOptions): Promise<LocalStepFunctions> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const log = options.logger ?? (() => undefined);
  const arnOf = (name: string) => `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;

  const machines = new Map<string, LocalStateMachine>();
  for (const { name, definition } of options.stateMachines) {
    const prepared = prepareDefinition(name, definition);
    const roleArn = `arn:aws:iam::${accountId}:role/${name}-role`;
    machines.set(arnOf(name), buildLocalStateMachine(name, arnOf(name), roleArn, prepared, options.retryIntervalScale));
    for (const warning of prepared.warnings) log(`${name}: ${warning}`);
  }

  const store = new InMemoryExecutionStore();
  const tokens = new TaskTokenRegistry();
  const runner = new ExecutionRunner({
    store,
    tokens,
    invokeFunction: options.invokeFunction,
    region,
    log,
  });
  const faults = new OperationFaults(log);
  const server = await startJsonProtocolServer({
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    targetPrefix: 'AWSStepFunctions',
    operations: faults.wrap(stepFunctionsOperations({ machines, store, runner, tokens, region, accountId })),
    log,
  });

  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    stateMachineArn: (name) => {
      const arn = arnOf(name);
      if (!machines.has(arn)) throw new Error(`No state machine named ${name}`);
      return arn;
    },
    faults,
    close: () => {
      closing ??= (async () => {
        await runner.stopAll('The local Step Functions endpoint closed');
        await server.close();
      })();
      return closing;
    },
  };
}
