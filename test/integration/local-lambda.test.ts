import { existsSync } from 'node:fs';
import path from 'node:path';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import {
  type FunctionLogLine,
  type InvokeRecord,
  type LambdaRuntime,
  type LocalFunction,
  startLambdaRuntime,
} from '../../local/lambda';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, type LocalStack } from '../../local/stack';
import { eventually } from '../support/eventually';
import { outcomesOf } from '../support/faults';
import { startTestStack, TestAccount } from '../support/harness';
import { Workflows } from '../support/paths';

// The local Lambda runtime (local/lambda, issue 10 item 3): functions in child processes as Lambda runs them. First
// on a probe function whose event says what to do, then on the local stack's own functions (the bundles of the
// synth) through the paths that call them: API Gateway and Step Functions.

type ProbeAnswer = {
  pid: number;
  invocations: number;
  tag?: string;
  env: Record<string, string>;
  context: Record<string, string>;
  remainingAtStart: number;
  remainingAtEnd: number;
};

const PROBE_ROOT = path.join(__dirname, '..', 'support', 'lambda-probe');
/** Set in this process only: no function may see it. */
const PARENT_ONLY = 'LOCAL_LAMBDA_TEST_PARENT_ONLY';

const probe = (name: string, timeoutSeconds: number, environment: Record<string, string>): LocalFunction => ({
  name,
  taskRoot: PROBE_ROOT,
  handler: 'index.handler',
  environment,
  memoryMb: 128,
  timeoutSeconds,
});

/** The Step Functions error and cause of each failed task attempt, whatever its details field is called. */
function failuresIn(history: readonly HistoryEvent[]): Array<{ error?: string; cause?: string }> {
  return history
    .filter((event) => event.type === 'TaskFailed' || event.type === 'LambdaFunctionFailed')
    .map((event) => (event.taskFailedEventDetails ?? event.lambdaFunctionFailedEventDetails ?? {}) as object);
}

/** Kills every instance of a function and waits for them to be gone. */
async function killAll(runtime: Pick<LambdaRuntime, 'faults' | 'instances'>, functionName: string): Promise<void> {
  runtime.faults.killInstances(functionName);
  await eventually(async () => (runtime.instances(functionName).length === 0 ? true : undefined), {
    what: `the instances of ${functionName} to exit`,
  });
}

/** The error a rejected invoke carries: Lambda's errorType as its name, errorMessage as its message. */
async function failureOf(call: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await call;
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error('the invoke succeeded');
}

describe('the local Lambda runtime, on a probe function', () => {
  let runtime: LambdaRuntime;
  const records: InvokeRecord[] = [];
  const lines: FunctionLogLine[] = [];
  const invoke = (name: string, event: object) => runtime.invoke(name, event) as Promise<ProbeAnswer>;

  beforeAll(() => {
    process.env[PARENT_ONLY] = 'leaked';
    runtime = startLambdaRuntime({
      functions: [
        probe('ProbeA', 3, { ONLY_A: 'a', SHARED_NAME: 'as A has it' }),
        probe('ProbeB', 1, { ONLY_B: 'b', SHARED_NAME: 'as B has it' }),
      ],
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      defaultConcurrency: 2,
      warmSeconds: 60,
    });
    runtime.onInvoke((record) => records.push(record));
    runtime.onLog((line) => lines.push(line));
  });

  afterAll(async () => {
    delete process.env[PARENT_ONLY];
    await runtime?.stop();
  });

  it('serves the next event from the warm instance: one cold start, the same process, its state kept', async () => {
    const first = await invoke('ProbeA', { tag: 'first' });
    const second = await invoke('ProbeA', { tag: 'second' });
    expect(first.pid).not.toBe(process.pid);
    expect(second.pid).toBe(first.pid);
    expect([first.invocations, second.invocations]).toEqual([1, 2]);
    expect(records.filter((r) => r.functionName === 'ProbeA').map((r) => r.coldStart)).toEqual([true, false]);
    expect(records[0]?.initDurationMs).toBeGreaterThan(0);
    expect(runtime.stats().ProbeA).toMatchObject({ invocations: 2, coldStarts: 1, instances: 1, busy: 0 });
    // What the function prints reaches the runtime's log, line by line, named after the function.
    await eventually(
      async () =>
        lines.filter((l) => l.functionName === 'ProbeA' && l.line.startsWith('probe ProbeA echo')).length === 2
          ? true
          : undefined,
      { what: "the probe's two log lines" },
    );
  });

  it("gives each function only its own environment: not another function's, not the runtime's process.env", async () => {
    const a = await invoke('ProbeA', {});
    const b = await invoke('ProbeB', {});
    expect(a.env).toMatchObject({ ONLY_A: 'a', SHARED_NAME: 'as A has it' });
    expect(b.env).toMatchObject({ ONLY_B: 'b', SHARED_NAME: 'as B has it' });
    expect(a.env).not.toHaveProperty('ONLY_B');
    expect(b.env).not.toHaveProperty('ONLY_A');
    for (const env of [a.env, b.env]) {
      expect(env).not.toHaveProperty(PARENT_ONLY);
      expect(env).not.toHaveProperty('JEST_WORKER_ID');
      expect(env).not.toHaveProperty('HOME');
    }
    // Exactly the function's variables and the ones Lambda sets itself.
    expect(Object.keys(a.env).sort()).toEqual(
      [
        'ONLY_A',
        'SHARED_NAME',
        'AWS_REGION',
        'AWS_DEFAULT_REGION',
        'AWS_LAMBDA_FUNCTION_NAME',
        'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
        'AWS_LAMBDA_FUNCTION_VERSION',
        'AWS_LAMBDA_INITIALIZATION_TYPE',
        'AWS_LAMBDA_LOG_GROUP_NAME',
        'AWS_LAMBDA_LOG_STREAM_NAME',
        'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
        'LAMBDA_TASK_ROOT',
        '_HANDLER',
        'LANG',
        'PATH',
        'TZ',
      ].sort(),
    );
    expect(a.env).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: 'ProbeA',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_REGION: LOCAL_REGION,
      LAMBDA_TASK_ROOT: PROBE_ROOT,
      _HANDLER: 'index.handler',
    });
  });

  it("hands the handler Lambda's context, its remaining time counting down from the function's timeout", async () => {
    const answer = await invoke('ProbeA', { action: 'sleep', ms: 300 });
    const again = await invoke('ProbeA', {});
    expect(answer.context).toEqual({
      awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      functionName: 'ProbeA',
      functionVersion: '$LATEST',
      memoryLimitInMB: '128',
      invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:ProbeA`,
      logGroupName: '/aws/lambda/ProbeA',
      logStreamName: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/),
    });
    expect(again.context.awsRequestId).not.toBe(answer.context.awsRequestId);
    expect(again.context.logStreamName).toBe(answer.context.logStreamName);
    expect(answer.remainingAtStart).toBeLessThanOrEqual(3000);
    expect(answer.remainingAtStart).toBeGreaterThan(2000);
    expect(answer.remainingAtStart - answer.remainingAtEnd).toBeGreaterThanOrEqual(290);
    // Each event gets the whole timeout again.
    expect(again.remainingAtStart).toBeGreaterThan(answer.remainingAtEnd);
  });

  it('runs one event at a time per instance; beyond the limit, events wait in order for a free instance', async () => {
    const before = runtime.stats().ProbeA;
    const answers = await Promise.all(
      ['q1', 'q2', 'q3', 'q4', 'q5'].map((tag) => invoke('ProbeA', { action: 'sleep', ms: 250, tag })),
    );
    const after = runtime.stats().ProbeA;
    // Two instances (the limit): the warm one and one cold start; the three other events waited.
    expect(new Set(answers.map((a) => a.pid)).size).toBe(2);
    expect((after?.coldStarts ?? 0) - (before?.coldStarts ?? 0)).toBe(1);
    expect(after).toMatchObject({ peakConcurrency: 2, peakQueued: 3, queued: 0, busy: 0 });
    const recordOf = (answer: ProbeAnswer) => records.find((r) => r.requestId === answer.context.awsRequestId);
    const [q1, q2, q3, q4, q5] = answers.map(recordOf) as InvokeRecord[];
    for (const waited of [q3, q4, q5]) expect(waited?.queuedMs).toBeGreaterThanOrEqual(200);
    // First in, first served.
    const starts = [q1, q2, q3, q4, q5].map((r) => r?.startedAt ?? Number.NaN);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  it('answers a handler error as Lambda does (errorType = the error name) and keeps the instance warm', async () => {
    const warm = await invoke('ProbeB', {});
    const failure = await failureOf(invoke('ProbeB', { action: 'throw', name: 'PortInRejectedError', message: 'no' }));
    expect(failure).toEqual({ name: 'PortInRejectedError', message: 'no' });
    expect((await invoke('ProbeB', {})).pid).toBe(warm.pid);
  });

  it('kills an instance that runs past the timeout: Sandbox.Timedout, and the next event gets a new instance', async () => {
    const warm = await invoke('ProbeB', {});
    const before = runtime.stats().ProbeB;
    const started = Date.now();
    const failure = await failureOf(invoke('ProbeB', { action: 'sleep', ms: 5000 }));
    expect(Date.now() - started).toBeLessThan(2500);
    expect(failure.name).toBe('Sandbox.Timedout');
    expect(failure.message).toMatch(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/);
    expect(lines.some((l) => l.functionName === 'ProbeB' && / Task timed out after 1\.00 seconds$/.test(l.line))).toBe(
      true,
    );
    const next = await invoke('ProbeB', {});
    expect(next.pid).not.toBe(warm.pid);
    expect(next.invocations).toBe(1);
    expect(runtime.stats().ProbeB).toMatchObject({
      timeouts: (before?.timeouts ?? 0) + 1,
      coldStarts: (before?.coldStarts ?? 0) + 1,
      instances: 1,
    });
  });

  it('replaces an instance that exits mid-event: Runtime.ExitError, then a cold start', async () => {
    await killAll(runtime, 'ProbeA');
    const warm = await invoke('ProbeA', {});
    const failure = await failureOf(invoke('ProbeA', { action: 'exit', code: 3 }));
    expect(failure.name).toBe('Runtime.ExitError');
    expect(failure.message).toMatch(/^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 3$/);
    const next = await invoke('ProbeA', {});
    expect(next.pid).not.toBe(warm.pid);
    expect(next.invocations).toBe(1);
    expect(runtime.instances('ProbeA').map((i) => i.pid)).not.toContain(warm.pid);
  });

  it('kills an instance at an armed crash point (crashAt): nothing after it runs, Runtime.ExitError, a cold start', async () => {
    const warm = await invoke('ProbeA', { action: 'crash-point', point: 'order-written', tag: 'unarmed' });
    const crashedBefore = runtime.faults.crashed().ProbeA ?? 0;
    runtime.faults.crashAt('ProbeA', 'order-written', 1);
    // Another point, or no point at all, goes on.
    expect((await invoke('ProbeA', { action: 'crash-point', point: 'elsewhere', tag: 'other' })).pid).toBe(warm.pid);
    expect((await invoke('ProbeA', {})).pid).toBe(warm.pid);

    const failure = await failureOf(invoke('ProbeA', { action: 'crash-point', point: 'order-written', tag: 'dies' }));
    expect(failure.name).toBe('Runtime.ExitError');
    expect(failure.message).toMatch(/Runtime exited with error: signal: killed$/);
    expect(runtime.faults.crashed().ProbeA).toBe(crashedBefore + 1);
    expect(runtime.instances('ProbeA').map((i) => i.pid)).not.toContain(warm.pid);

    // Armed once: the next invocation passes the point, on a new instance.
    const next = await invoke('ProbeA', { action: 'crash-point', point: 'order-written', tag: 'passes' });
    expect(next.pid).not.toBe(warm.pid);
    const pastLines = () =>
      lines.filter((line) => line.functionName === 'ProbeA' && line.line.startsWith('probe past'));
    // A line reaches the log through the instance's stdout pipe, which may lag the invoke's answer.
    const past = await eventually(
      async () => {
        const seen = pastLines();
        return seen.some((line) => line.line === 'probe past order-written passes') ? seen : undefined;
      },
      { what: "the probe's line past order-written" },
    );
    expect(past.map((line) => line.line)).toEqual(
      expect.arrayContaining([
        'probe past order-written unarmed',
        'probe past elsewhere other',
        'probe past order-written passes',
      ]),
    );
    expect(past.map((line) => line.line)).not.toContain('probe past order-written dies');
  });

  it('fails the event of an uncaught exception with that error, and replaces the instance', async () => {
    const warm = await invoke('ProbeA', {});
    const failure = await failureOf(invoke('ProbeA', { action: 'throw-outside-the-handler' }));
    expect(failure).toEqual({ name: 'TypeError', message: 'thrown from a timer' });
    await eventually(async () => (runtime.instances('ProbeA').some((i) => i.pid === warm.pid) ? undefined : true), {
      what: 'the instance to exit',
    });
    expect((await invoke('ProbeA', {})).pid).not.toBe(warm.pid);
  });

  it('SIGKILLs an idle instance on demand (killRandomInstance); the next event cold-starts', async () => {
    const warm = await invoke('ProbeB', {});
    await killAll(runtime, 'ProbeA');
    const victim = runtime.faults.killRandomInstance();
    expect(victim).toMatchObject({ functionName: 'ProbeB', pid: warm.pid, state: 'idle' });
    await eventually(async () => (runtime.instances('ProbeB').length === 0 ? true : undefined), {
      what: 'the instance to exit',
    });
    expect((await invoke('ProbeB', {})).invocations).toBe(1);
  });
});

describe("the local Lambda runtime, running the local stack's functions", () => {
  let stack: LocalStack;
  let workflows: Workflows;
  const records: InvokeRecord[] = [];
  let numberSeq = 0;
  const nextNumber = () => `+1415555${String(900 + numberSeq++).padStart(4, '0')}`;
  const fullName = (fn: string) => Object.keys(stack.lambdaStats()).find((name) => name.includes(fn)) as string;
  const recordsOf = (fn: string) => records.filter((r) => r.functionName === fullName(fn));

  beforeAll(async () => {
    process.env[PARENT_ONLY] = 'leaked';
    stack = await startTestStack({
      lambdaConcurrency: 2,
      // A hung SubmitPortIn times out in 2 s rather than the template's 30.
      lambdaTimeoutSecondsForTests: { SubmitPortInFunction: 2 },
    });
    stack.lambdas.onInvoke((record) => records.push(record));
    workflows = new Workflows(stack);
  }, 60000);

  afterAll(async () => {
    delete process.env[PARENT_ONLY];
    workflows?.destroy();
    await stack?.stop();
  });

  it("runs each function's synthesized bundle with the template's environment and the local endpoints only", () => {
    const sync = stack.lambdas.environment('SyncPortStatusFunction');
    const markFailed = stack.lambdas.environment('MarkFailedFunction');
    // The asset `cdk synth` stages (ESM, minified), not the TypeScript source.
    expect(sync.LAMBDA_TASK_ROOT).toContain(`${path.sep}cdk.out.local${path.sep}`);
    expect(existsSync(path.join(sync.LAMBDA_TASK_ROOT as string, 'index.mjs'))).toBe(true);
    expect(sync.LAMBDA_TASK_ROOT).not.toBe(markFailed.LAMBDA_TASK_ROOT);
    // The template's variables, per function: only SyncPortStatus has PORT_MAX_AGE_DAYS.
    expect(sync).toMatchObject({
      TABLE_NAME: stack.tableName,
      PORT_MAX_AGE_DAYS: expect.any(String),
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(markFailed).not.toHaveProperty('PORT_MAX_AGE_DAYS');
    expect(markFailed).not.toHaveProperty('TWILIO_SECRET_PREFIX');
    // The stand-ins' endpoints, as a deployment's configuration would give them; nothing of this process.
    expect(sync).toMatchObject({
      AWS_ENDPOINT_URL_DYNAMODB: stack.urls.dynamoDb,
      AWS_ENDPOINT_URL_SFN: stack.urls.stepFunctions,
      TWILIO_API_BASE_URL: stack.urls.twilio,
    });
    expect(sync).not.toHaveProperty(PARENT_ONLY);
    expect(sync).not.toHaveProperty('JEST_WORKER_ID');
  });

  it('keeps a function warm between API calls, and holds calls beyond its concurrency in a queue', async () => {
    const account = new TestAccount(stack);
    await account.connect();
    await account.api.get(`${account.base}/inventory`);
    const api = recordsOf('ProductApiFunction');
    expect(api.map((r) => r.coldStart)).toEqual([true, false, false]);
    expect(new Set(api.map((r) => r.pid)).size).toBe(1);

    const answers = await Promise.all(
      Array.from({ length: 12 }, () => account.api.get(`${account.base}/port-requests`)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
    const stats = stack.lambdaStats()[fullName('ProductApiFunction')];
    // The limit (2 here) held: at most one more cold start, the rest waited for a warm instance.
    expect(stats?.coldStarts).toBeLessThanOrEqual(2);
    expect(stats?.peakConcurrency).toBeLessThanOrEqual(2);
    expect(stats?.peakQueued).toBeGreaterThan(0);
    expect(stats?.invocations).toBe(15);
  });

  it('a workflow step that times out (Sandbox.Timedout) is retried by Step Functions on a new instance', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    stack.lambdaFaults.timeOutNext('SubmitPortInFunction', 1);
    const [portRequestId] = (await account.order(bill, [nextNumber()])) as [string];
    await account.submitted(portRequestId);
    await workflows.settled(portRequestId);

    const history = await workflows.history(portRequestId);
    expect(outcomesOf(history, 'SubmitPortIn')).toEqual(['Sandbox.Timedout', 'ok']);
    expect(failuresIn(history)).toEqual([
      { error: 'Sandbox.Timedout', cause: expect.stringMatching(/Task timed out after 2\.00 seconds$/) },
    ]);
    const [timedOut, retried] = recordsOf('SubmitPortInFunction').slice(-2);
    expect(timedOut?.errorType).toBe('Sandbox.Timedout');
    expect(retried).toMatchObject({ coldStart: true });
    expect(retried?.pid).not.toBe(timedOut?.pid);
    expect(stack.lambdas.instances('SubmitPortInFunction').map((i) => i.pid)).not.toContain(timedOut?.pid);
    expect(stack.lambdaFaults.timedOut()[fullName('SubmitPortInFunction')]).toBe(1);
  });

  it('a workflow step whose instance crashes (Runtime.ExitError) is retried by Step Functions on a new instance', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    stack.lambdaFaults.crashNext('SubmitPortInFunction', 1);
    const [portRequestId] = (await account.order(bill, [nextNumber()])) as [string];
    await account.submitted(portRequestId);
    await workflows.settled(portRequestId);

    const history = await workflows.history(portRequestId);
    expect(outcomesOf(history, 'SubmitPortIn')).toEqual(['Runtime.ExitError', 'ok']);
    expect(failuresIn(history)).toEqual([
      { error: 'Runtime.ExitError', cause: expect.stringMatching(/Runtime exited with error: exit status 1$/) },
    ]);
    const [crashed, retried] = recordsOf('SubmitPortInFunction').slice(-2);
    expect(crashed?.errorType).toBe('Runtime.ExitError');
    expect(retried).toMatchObject({ coldStart: true });
    expect(retried?.pid).not.toBe(crashed?.pid);
    expect(stack.lambdaFaults.crashed()[fullName('SubmitPortInFunction')]).toBe(1);
  });

  it('an instance SIGKILLed while idle is replaced by a cold start on the next call', async () => {
    const account = new TestAccount(stack);
    await account.connect();
    const [idle] = stack.lambdas.instances('ProductApiFunction').filter((i) => i.state === 'idle');
    expect(idle).toBeDefined();
    await killAll({ faults: stack.lambdaFaults, instances: stack.lambdas.instances }, 'ProductApiFunction');
    const coldBefore = stack.lambdaStats()[fullName('ProductApiFunction')]?.coldStarts ?? 0;
    expect((await account.api.get(`${account.base}/inventory`)).status).toBe(200);
    expect(stack.lambdaStats()[fullName('ProductApiFunction')]?.coldStarts).toBe(coldBefore + 1);
  });
});
