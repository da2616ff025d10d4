import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { type LocalStepFunctions, startStepFunctions } from '../../local/stepfunctions';
import { encodeTaskToken } from '../../local/stepfunctions/tokens';
import { eventually } from '../support/eventually';

jest.setTimeout(15000);

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const fn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

/** lambda:invoke, then a Choice on what the function answered. */
const choiceFlow = {
  StartAt: 'Classify',
  States: {
    Classify: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: fn('classify'), 'Payload.$': '$' },
      ResultSelector: { 'kind.$': '$.Payload.kind', 'statusCode.$': '$.StatusCode' },
      ResultPath: '$.classified',
      TimeoutSeconds: 5,
      Next: 'IsBig',
    },
    IsBig: {
      Type: 'Choice',
      Choices: [{ Variable: '$.classified.kind', StringEquals: 'big', Next: 'Big' }],
      Default: 'Small',
    },
    Big: { Type: 'Pass', Result: 'big', ResultPath: '$.route', End: true },
    Small: { Type: 'Pass', Result: 'small', ResultPath: '$.route', End: true },
  },
};

/** A callback task whose timeout comes from the state input, as the port workflow's WaitForPortUpdate. */
const callbackFlow = {
  StartAt: 'WaitForWake',
  States: {
    WaitForWake: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: fn('park'),
        Payload: { 'token.$': '$$.Task.Token', 'id.$': '$.id', 'executionId.$': '$$.Execution.Id' },
      },
      TimeoutSecondsPath: '$.cadence.waitSeconds',
      ResultPath: '$.wake',
      Catch: [
        { ErrorEquals: ['PortRejected'], ResultPath: '$.failure', Next: 'Rejected' },
        // Before States.Timeout: a timeout must reach TimedOut, as States.TaskFailed does not match it on AWS.
        { ErrorEquals: ['States.TaskFailed'], ResultPath: '$.failure', Next: 'OtherFailure' },
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.failure', Next: 'TimedOut' },
      ],
      Next: 'Woken',
    },
    Woken: { Type: 'Pass', Result: 'woken', ResultPath: '$.outcome', End: true },
    Rejected: { Type: 'Pass', Result: 'rejected', ResultPath: '$.outcome', End: true },
    TimedOut: { Type: 'Pass', Result: 'timed-out', ResultPath: '$.outcome', End: true },
    OtherFailure: { Type: 'Pass', Result: 'other-failure', ResultPath: '$.outcome', End: true },
  },
};

/** A Map whose iterations run a lambda:invoke task: local handlers apply at any depth. */
const mapFlow = {
  StartAt: 'ClassifyAll',
  States: {
    ClassifyAll: {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'ClassifyItem',
        States: {
          ClassifyItem: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: fn('classify'), Payload: { 'n.$': '$' } },
            OutputPath: '$.Payload.kind',
            TimeoutSeconds: 5,
            End: true,
          },
        },
      },
      ResultPath: '$.kinds',
      End: true,
    },
  },
};

/** A callback task that needs heartbeats every second. */
const heartbeatFlow = {
  StartAt: 'Watch',
  States: {
    Watch: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: fn('park'), Payload: { 'token.$': '$$.Task.Token', 'id.$': '$.id' } },
      TimeoutSeconds: 10,
      HeartbeatSeconds: 1,
      ResultPath: '$.wake',
      Catch: [{ ErrorEquals: ['States.HeartbeatTimeout'], ResultPath: '$.failure', Next: 'Silent' }],
      End: true,
    },
    Silent: { Type: 'Pass', Result: 'silent', ResultPath: '$.outcome', End: true },
  },
};

/** A Lambda function ARN as Resource, retried on its own error name; the definition's interval is 2 s. */
const retryFlow = {
  StartAt: 'Flaky',
  States: {
    Flaky: {
      Type: 'Task',
      Resource: fn('flaky'),
      TimeoutSeconds: 5,
      Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
      End: true,
    },
  },
};

/**
 * A Lambda step that reads $$.State (which the engine lacks and the endpoint fills in per attempt), retried with a
 * backoff rate that only MaxDelaySeconds keeps short: 1 s, then capped at 3 s (30 ms at scale 0.01), full jitter.
 * Caught into a Wait and run again, it is entered anew.
 */
const attemptFlow = {
  StartAt: 'Attempted',
  States: {
    Attempted: {
      Type: 'Task',
      Resource: fn('attempted'),
      TimeoutSeconds: 5,
      Parameters: {
        'key.$': '$.key',
        'failures.$': '$.failures',
        attempt: {
          'state.$': '$$.State.Name',
          'retryCount.$': '$$.State.RetryCount',
          'enteredTime.$': '$$.State.EnteredTime',
        },
      },
      Retry: [
        {
          ErrorEquals: ['States.ALL'],
          IntervalSeconds: 1,
          BackoffRate: 1000,
          MaxDelaySeconds: 3,
          MaxAttempts: 4,
          JitterStrategy: 'FULL',
        },
      ],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'AgainLater' }],
      End: true,
    },
    AgainLater: { Type: 'Wait', Seconds: 1, Next: 'Attempted' },
  },
};

class TransientError extends Error {
  override readonly name = 'TransientError';
}

interface Parked {
  readonly token: string;
  readonly executionId?: string;
}

let sfn: LocalStepFunctions;
let client: SFNClient;
const logLines: string[] = [];
const invocations: Array<{ functionArn: string; payload: unknown }> = [];
const parked = new Map<string, Parked>();
const flakyCalls = new Map<string, number>();
const attempts = new Map<string, Array<{ state: string; retryCount: number; enteredTime: string }>>();

async function invokeFunction(functionArn: string, payload: unknown): Promise<unknown> {
  invocations.push({ functionArn, payload });
  const event = payload as Record<string, unknown>;
  switch (functionArn) {
    case fn('classify'):
      return { kind: (event.n as number) > 10 ? 'big' : 'small' };
    case fn('park'):
      parked.set(event.id as string, {
        token: event.token as string,
        ...(event.executionId ? { executionId: event.executionId as string } : {}),
      });
      // As WaitForPortUpdate does when a wake came first: the function answers its own token before returning.
      if (String(event.id).startsWith('self-')) {
        await client.send(new SendTaskSuccessCommand({ taskToken: event.token as string, output: '{"early":true}' }));
      }
      return { parked: true };
    case fn('flaky'): {
      const key = event.key as string;
      const calls = (flakyCalls.get(key) ?? 0) + 1;
      flakyCalls.set(key, calls);
      if (calls <= (event.failures as number)) throw new TransientError(`attempt ${calls} failed`);
      return { calls };
    }
    case fn('attempted'): {
      const seen = attempts.get(event.key as string) ?? [];
      seen.push(event.attempt as { state: string; retryCount: number; enteredTime: string });
      attempts.set(event.key as string, seen);
      if (seen.length <= (event.failures as number)) throw new TransientError(`attempt ${seen.length} failed`);
      return { attempts: seen.length };
    }
    default:
      throw new Error(`no function ${functionArn}`);
  }
}

function parkedToken(id: string): Promise<string> {
  return eventually(async () => parked.get(id)?.token, { timeoutMs: 3000, intervalMs: 10, what: `token ${id}` });
}

async function start(machine: string, input: unknown, name?: string): Promise<string> {
  const { executionArn } = await client.send(
    new StartExecutionCommand({
      stateMachineArn: sfn.stateMachineArn(machine),
      input: JSON.stringify(input),
      ...(name ? { name } : {}),
    }),
  );
  return executionArn as string;
}

function describeExecution(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  return client.send(new DescribeExecutionCommand({ executionArn }));
}

function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  return eventually(
    async () => {
      const execution = await describeExecution(executionArn);
      return execution.status === 'RUNNING' ? undefined : execution;
    },
    { timeoutMs: 5000, intervalMs: 10, what: `end of ${executionArn}` },
  );
}

async function historyTypes(executionArn: string): Promise<string[]> {
  const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
  return (events ?? []).map((event) => event.type as string);
}

beforeAll(async () => {
  sfn = await startStepFunctions({
    port: 0,
    region: REGION,
    accountId: ACCOUNT,
    stateMachines: [
      { name: 'ChoiceFlow', definition: choiceFlow },
      { name: 'CallbackFlow', definition: callbackFlow },
      { name: 'HeartbeatFlow', definition: heartbeatFlow },
      { name: 'RetryFlow', definition: retryFlow },
      { name: 'MapFlow', definition: mapFlow },
      { name: 'AttemptFlow', definition: attemptFlow },
    ],
    invokeFunction,
    logger: (line) => logLines.push(line),
    retryIntervalScale: 0.01,
  });
  client = new SFNClient({
    endpoint: sfn.url,
    region: REGION,
    credentials: { accessKeyId: 'LOCALACCESSKEY', secretAccessKey: 'localsecretkey' },
    // Without throwOnRequestTimeout a stuck call only logs a warning and the test hangs.
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client?.destroy();
  await sfn?.close();
});

describe('local Step Functions endpoint', () => {
  it('runs a lambda:invoke task and a Choice, answering Lambda invoke responses', async () => {
    const executionArn = await start('ChoiceFlow', { n: 42 });
    const execution = await finished(executionArn);

    expect(execution).toMatchObject({ status: 'SUCCEEDED', stateMachineArn: sfn.stateMachineArn('ChoiceFlow') });
    expect(execution.startDate).toBeInstanceOf(Date);
    expect(execution.stopDate).toBeInstanceOf(Date);
    expect(JSON.parse(execution.output as string)).toEqual({
      n: 42,
      classified: { kind: 'big', statusCode: 200 },
      route: 'big',
    });
    expect(invocations).toContainEqual({ functionArn: fn('classify'), payload: { n: 42 } });

    const small = await finished(await start('ChoiceFlow', { n: 1 }));
    expect(JSON.parse(small.output as string)).toMatchObject({ route: 'small' });
  });

  it('records the history in AWS event types, numbered', async () => {
    const executionArn = await start('ChoiceFlow', { n: 3 });
    await finished(executionArn);
    const { events = [] } = await client.send(new GetExecutionHistoryCommand({ executionArn }));

    expect(events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    events.forEach((event, index) => {
      expect(event.id).toBe(index + 1);
      expect(event.previousEventId).toBe(index);
      expect(event.timestamp).toBeInstanceOf(Date);
    });
    expect(events[2]?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      region: REGION,
      timeoutInSeconds: 5,
    });
    expect(JSON.parse(events[2]?.taskScheduledEventDetails?.parameters as string)).toEqual({
      FunctionName: fn('classify'),
      Payload: { n: 3 },
    });
    expect(events[1]?.stateEnteredEventDetails).toMatchObject({ name: 'Classify', input: '{"n":3}' });

    const reversed = await client.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 2, includeExecutionData: false }),
    );
    expect(reversed.events?.map((event) => event.type)).toEqual(['ExecutionSucceeded', 'PassStateExited']);
    expect(reversed.events?.[0]?.executionSucceededEventDetails?.output).toBeUndefined();
    expect(reversed.nextToken).toEqual(expect.any(String));
  });

  it('completes a waitForTaskToken task with SendTaskSuccess, then answers TaskDoesNotExist for its token', async () => {
    const executionArn = await start('CallbackFlow', { id: 'wake-1', cadence: { waitSeconds: 10 } });
    const token = await parkedToken('wake-1');
    expect(parked.get('wake-1')?.executionId).toBe(executionArn);
    expect((await describeExecution(executionArn)).status).toBe('RUNNING');

    await client.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ status: 'COMPLETED' }) }),
    );
    const execution = await finished(executionArn);

    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output as string)).toMatchObject({ wake: { status: 'COMPLETED' }, outcome: 'woken' });
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(
      TaskDoesNotExist,
    );
    const types = await historyTypes(executionArn);
    expect(types.slice(0, 8)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'PassStateEntered',
    ]);
  });

  it('accepts SendTaskSuccess from the Lambda itself before its invocation returns', async () => {
    const execution = await finished(await start('CallbackFlow', { id: 'self-1', cadence: { waitSeconds: 10 } }));

    expect(JSON.parse(execution.output as string)).toMatchObject({ wake: { early: true }, outcome: 'woken' });
  });

  it('runs Task states inside Map iterations', async () => {
    const executionArn = await start('MapFlow', { items: [1, 50, 7] });
    const execution = await finished(executionArn);

    expect(JSON.parse(execution.output as string)).toEqual({ items: [1, 50, 7], kinds: ['small', 'big', 'small'] });
    const types = await historyTypes(executionArn);
    expect(types.filter((type) => type === 'MapIterationSucceeded')).toHaveLength(3);
    expect(types.filter((type) => type === 'TaskSucceeded')).toHaveLength(3);
    expect(types.slice(-3)).toEqual(['MapStateSucceeded', 'MapStateExited', 'ExecutionSucceeded']);
  });

  it('fails a waitForTaskToken task with SendTaskFailure so that Catch matches the error name', async () => {
    const executionArn = await start('CallbackFlow', { id: 'reject-1', cadence: { waitSeconds: 10 } });
    const token = await parkedToken('reject-1');

    await client.send(new SendTaskFailureCommand({ taskToken: token, error: 'PortRejected', cause: 'LOA refused' }));
    const execution = await finished(executionArn);

    expect(JSON.parse(execution.output as string)).toMatchObject({
      outcome: 'rejected',
      failure: { Error: 'PortRejected', Cause: 'LOA refused' },
    });
    expect(await historyTypes(executionArn)).toContain('TaskFailed');
    expect(logLines).toContainEqual(expect.stringContaining('PortRejected: LOA refused'));
  });

  it('times the task out at TimeoutSecondsPath (States.Timeout caught); the dead token answers TaskTimedOut', async () => {
    const startedAt = Date.now();
    const executionArn = await start('CallbackFlow', { id: 'late-1', cadence: { waitSeconds: 1 } });
    const token = await parkedToken('late-1');
    const execution = await finished(executionArn);

    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(950);
    expect(JSON.parse(execution.output as string)).toMatchObject({
      outcome: 'timed-out',
      failure: { Error: 'States.Timeout' },
    });
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"late":true}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
    const { events = [] } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(events.find((event) => event.type === 'TaskTimedOut')?.taskTimedOutEventDetails).toMatchObject({
      error: 'States.Timeout',
    });
    expect(events.find((event) => event.type === 'TaskScheduled')?.taskScheduledEventDetails).toMatchObject({
      resource: 'invoke.waitForTaskToken',
      timeoutInSeconds: 1,
    });
  });

  it('keeps a callback task alive with heartbeats and fails it with States.HeartbeatTimeout without them', async () => {
    const beating = await start('HeartbeatFlow', { id: 'beat-1' });
    const silent = await start('HeartbeatFlow', { id: 'silent-1' });
    const token = await parkedToken('beat-1');
    for (let beat = 0; beat < 3; beat += 1) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await client.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    }
    await client.send(new SendTaskSuccessCommand({ taskToken: token, output: '"alive"' }));

    expect(JSON.parse((await finished(beating)).output as string)).toMatchObject({ wake: 'alive' });
    expect(JSON.parse((await finished(silent)).output as string)).toMatchObject({
      outcome: 'silent',
      failure: { Error: 'States.HeartbeatTimeout' },
    });
  });

  it('answers InvalidToken for a malformed token and TaskDoesNotExist for one it never issued', async () => {
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: 'not a token!', output: '{}' })),
    ).rejects.toMatchObject({
      name: 'InvalidToken',
    });
    const stranger = encodeTaskToken({ executionArn: 'arn:aws:states:x', stateName: 'WaitForWake', id: 'nope' });
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: stranger }))).rejects.toBeInstanceOf(
      TaskDoesNotExist,
    );
  });

  it('retries a Lambda error by its name with scaled intervals, then succeeds', async () => {
    const startedAt = Date.now();
    const executionArn = await start('RetryFlow', { key: 'twice', failures: 2 });
    const execution = await finished(executionArn);

    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output as string)).toEqual({ calls: 3 });
    // 2 s and 4 s in the definition; 20 ms each at scale 0.01.
    expect(Date.now() - startedAt).toBeLessThan(1500);
    const types = await historyTypes(executionArn);
    expect(types.filter((type) => type === 'LambdaFunctionFailed')).toHaveLength(2);
    expect(types).toContain('LambdaFunctionSucceeded');
  });

  it('fails the execution with the Lambda error name once the retries are spent', async () => {
    const execution = await finished(await start('RetryFlow', { key: 'always', failures: 10 }));

    expect(execution).toMatchObject({ status: 'FAILED', error: 'TransientError', cause: 'attempt 4 failed' });
    expect(flakyCalls.get('always')).toBe(4);
  });

  it('gives each attempt $$.State: its name, retry count and the time the state was entered', async () => {
    // Five failures: four retries, caught, entered again after the Wait, then the sixth attempt succeeds.
    const startedAt = Date.now();
    const execution = await finished(await start('AttemptFlow', { key: 'six', failures: 5 }));

    expect(execution.status).toBe('SUCCEEDED');
    const seen = attempts.get('six') ?? [];
    expect(seen.map(({ state, retryCount }) => [state, retryCount])).toEqual([
      ['Attempted', 0],
      ['Attempted', 1],
      ['Attempted', 2],
      ['Attempted', 3],
      ['Attempted', 4],
      ['Attempted', 0],
    ]);
    const entered = seen.map(({ enteredTime }) => Date.parse(enteredTime));
    // Retries stay in the state it entered; the Catch and Wait enter it anew.
    expect(new Set(entered.slice(0, 5)).size).toBe(1);
    expect(entered[5]).toBeGreaterThan(entered[0] as number);
    expect(entered[0]).toBeGreaterThanOrEqual(startedAt - 1000);
    // Backoff rate 1,000 with no cap would wait 1,000 s × 0.01 = 10 s before the third attempt: MaxDelaySeconds holds.
    expect(Date.now() - startedAt).toBeLessThan(2500);
  });

  it('refuses $$.State where it cannot tell which attempt reads it (Map, Parallel, non-Task states)', async () => {
    const inMap = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'Inner',
            States: {
              Inner: {
                Type: 'Task',
                Resource: fn('classify'),
                TimeoutSeconds: 5,
                Parameters: { 'n.$': '$$.State.RetryCount' },
                End: true,
              },
            },
          },
          End: true,
        },
      },
    };
    const inPass = {
      StartAt: 'P',
      States: { P: { Type: 'Pass', Parameters: { 'name.$': '$$.State.Name' }, End: true } },
    };
    for (const definition of [inMap, inPass]) {
      await expect(
        startStepFunctions({ stateMachines: [{ name: 'Refused', definition }], invokeFunction }),
      ).rejects.toThrow(/reads \$\$\.State/);
    }
  });

  it('answers a repeated StartExecution of a running execution with it, and ExecutionAlreadyExists otherwise', async () => {
    const input = { id: 'same-1', cadence: { waitSeconds: 10 } };
    const first = await client.send(
      new StartExecutionCommand({
        stateMachineArn: sfn.stateMachineArn('CallbackFlow'),
        name: 'same-name',
        input: JSON.stringify(input),
      }),
    );
    const again = await client.send(
      new StartExecutionCommand({
        stateMachineArn: sfn.stateMachineArn('CallbackFlow'),
        name: 'same-name',
        input: JSON.stringify(input),
      }),
    );
    expect(again).toMatchObject({ executionArn: first.executionArn, startDate: first.startDate });

    await expect(
      client.send(
        new StartExecutionCommand({
          stateMachineArn: sfn.stateMachineArn('CallbackFlow'),
          name: 'same-name',
          input: JSON.stringify({ ...input, id: 'other' }),
        }),
      ),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);

    await client.send(new StopExecutionCommand({ executionArn: first.executionArn }));
    // A closed execution's name is taken, whatever the input.
    await expect(start('CallbackFlow', input, 'same-name')).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('stops an execution: ABORTED with the given error and cause, its token dead, listed as ABORTED', async () => {
    const executionArn = await start('CallbackFlow', { id: 'stop-1', cadence: { waitSeconds: 10 } });
    const token = await parkedToken('stop-1');

    const { stopDate } = await client.send(
      new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'customer withdrew' }),
    );
    expect(stopDate).toBeInstanceOf(Date);
    const execution = await describeExecution(executionArn);
    expect(execution).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'customer withdrew' });

    await expect(client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(
      TaskDoesNotExist,
    );
    const types = await eventually(
      async () => {
        const all = await historyTypes(executionArn);
        return all.at(-1) === 'ExecutionAborted' ? all : undefined;
      },
      { timeoutMs: 2000, intervalMs: 10, what: 'ExecutionAborted' },
    );
    expect(types).not.toContain('TaskSucceeded');

    const aborted = await client.send(
      new ListExecutionsCommand({ stateMachineArn: sfn.stateMachineArn('CallbackFlow'), statusFilter: 'ABORTED' }),
    );
    expect(aborted.executions?.map((summary) => summary.executionArn)).toContain(executionArn);
    const running = await client.send(
      new ListExecutionsCommand({ stateMachineArn: sfn.stateMachineArn('CallbackFlow'), statusFilter: 'RUNNING' }),
    );
    expect(running.executions?.map((summary) => summary.executionArn)).not.toContain(executionArn);
  });

  it('answers AWS errors for unknown executions and state machines and for bad input', async () => {
    await expect(
      describeExecution(`arn:aws:states:${REGION}:${ACCOUNT}:execution:ChoiceFlow:missing`),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    await expect(
      client.send(
        new StartExecutionCommand({ stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:Nope` }),
      ),
    ).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn: sfn.stateMachineArn('ChoiceFlow'), input: '{oops' })),
    ).rejects.toMatchObject({ name: 'InvalidExecutionInput' });
    await expect(start('ChoiceFlow', {}, 'has space')).rejects.toMatchObject({ name: 'InvalidName' });
  });

  it('refuses definitions whose timeouts the engine would fire at once', async () => {
    await expect(
      startStepFunctions({
        stateMachines: [{ name: 'Long', definition: { ...choiceFlow, TimeoutSeconds: 120 * 24 * 3600 } }],
        invokeFunction,
      }),
    ).rejects.toThrow(/TimeoutSeconds 10368000 is above 2147483/);
  });

  it('aborts running executions on close, leaving no timers behind', async () => {
    const lines: string[] = [];
    const timersBefore = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const local = await startStepFunctions({
      stateMachines: [{ name: 'CallbackFlow', definition: callbackFlow }],
      invokeFunction,
      logger: (line) => lines.push(line),
    });
    const localClient = new SFNClient({
      endpoint: local.url,
      region: REGION,
      credentials: { accessKeyId: 'LOCALACCESSKEY', secretAccessKey: 'localsecretkey' },
      requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
      maxAttempts: 1,
    });
    await localClient.send(
      new StartExecutionCommand({
        stateMachineArn: local.stateMachineArn('CallbackFlow'),
        input: JSON.stringify({ id: 'close-1', cadence: { waitSeconds: 600 } }),
      }),
    );
    await parkedToken('close-1');
    localClient.destroy();

    await local.close();

    expect(lines).toContainEqual(expect.stringMatching(/execution \S+ ABORTED/));
    // The execution's 600 s wait is gone; a socket's timer of the client just destroyed may take a moment.
    await eventually(
      async () => {
        const timersAfter = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
        return timersAfter <= timersBefore ? true : undefined;
      },
      { timeoutMs: 2000, intervalMs: 20, what: 'no timers left behind' },
    );
  });
});
