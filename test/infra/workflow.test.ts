import aslValidator from 'asl-validator';
import type { Template } from 'aws-cdk-lib/assertions';
import { LambdaServiceErrorNames, WorkflowErrorNames } from '../../lambdas/shared/error-names';
import { PortWorkflowStates } from '../../lib/constructs/workflow';
import type { PortInStack } from '../../lib/port-in-stack';
import type { StateMachineDefinition } from '../../local/cloudformation/template';
import { logicalIdOf, resolvedDefinition, synthesizeStack } from './synth';

type State = Record<string, unknown> & {
  Type: string;
  Retry?: Array<{ ErrorEquals: string[]; MaxAttempts?: number; IntervalSeconds?: number; BackoffRate?: number }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }>;
};

let stack: PortInStack;
let template: Template;
let definition: StateMachineDefinition;

beforeAll(() => {
  ({ stack, template } = synthesizeStack());
  definition = resolvedDefinition(template);
});

function state(name: string): State {
  const found = definition.States[name] as State | undefined;
  if (!found) throw new Error(`no state ${name}`);
  return found;
}

function tasks(): Array<[string, State]> {
  return Object.entries(definition.States as Record<string, State>).filter(([, s]) => s.Type === 'Task');
}

function retried(name: string): string[] {
  return (state(name).Retry ?? []).flatMap((r) => r.ErrorEquals);
}

/**
 * The retrier Step Functions applies to `error` thrown by a Task state: the first whose ErrorEquals names it, or
 * holds States.ALL, or States.TaskFailed (which matches every error but States.Timeout). Undefined: not retried.
 */
function retrierFor(name: string, error: string) {
  return (state(name).Retry ?? []).find((r) =>
    r.ErrorEquals.some(
      (e) => e === error || e === 'States.ALL' || (e === 'States.TaskFailed' && error !== 'States.Timeout'),
    ),
  );
}

/** Every key anywhere in a JSON value. */
function keysDeep(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysDeep);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => [key, ...keysDeep(item)]);
  }
  return [];
}

it('is a Standard state machine with tracing, logging without execution data, and a 120-day timeout', () => {
  template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
    StateMachineType: 'STANDARD',
    TracingConfiguration: { Enabled: true },
    LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
  });
  expect(definition.TimeoutSeconds).toBe(120 * 24 * 3600);
  // The local stack's engine needs a shorter one, which context gives.
  const shorter = resolvedDefinition(synthesizeStack({ workflowTimeoutSeconds: 3600 }).template);
  expect(shorter.TimeoutSeconds).toBe(3600);
  expect(definition.StartAt).toBe('RouteByKind');
});

it('has exactly the state names of the architecture', () => {
  expect(Object.keys(definition.States).sort()).toEqual(Object.values(PortWorkflowStates).sort());
});

it('wires the states as docs/ARCHITECTURE.md draws them', () => {
  const edges: string[] = [];
  for (const [name, s] of Object.entries(definition.States as Record<string, State>)) {
    if (typeof s.Next === 'string') edges.push(`${name} -> ${s.Next}`);
    if (typeof s.Default === 'string') edges.push(`${name} -default-> ${s.Default}`);
    for (const choice of (s.Choices as Array<{ Next: string }>) ?? []) edges.push(`${name} -choice-> ${choice.Next}`);
    for (const c of s.Catch ?? []) edges.push(`${name} -${c.ErrorEquals.join('|')}-> ${c.Next}`);
  }
  expect(edges.sort()).toEqual(
    [
      'RouteByKind -choice-> DeliverEmails',
      'RouteByKind -default-> SubmitPortIn',
      'SubmitPortIn -> IsPortFinished',
      'SubmitPortIn -States.ALL-> MarkFailed',
      'IsPortFinished -choice-> ImportNumbers',
      'IsPortFinished -choice-> DeliverClosingEmails',
      'IsPortFinished -choice-> DeliverEmails',
      'IsPortFinished -default-> WaitForPortUpdate',
      'DeliverEmails -> WaitForPortUpdate',
      'WaitForPortUpdate -> SyncPortStatus',
      'WaitForPortUpdate -States.Timeout-> SyncPortStatus',
      // No DeliverEmails in between: a poll cycle owing no email is three transitions.
      'SyncPortStatus -> IsPortFinished',
      'ImportNumbers -> DeliverCompletionEmails',
      'DeliverCompletionEmails -> PortCompleted',
      'DeliverClosingEmails -> PortEnded',
      'MarkFailed -> DeliverFailureEmails',
      'DeliverFailureEmails -> PortFailed',
      // Past their retries, these go back to waiting rather than end an open port.
      'SyncPortStatus -States.ALL-> WaitForPortUpdate',
      'DeliverEmails -States.ALL-> WaitForPortUpdate',
      'ImportNumbers -States.ALL-> WaitForPortUpdate',
      'DeliverCompletionEmails -States.ALL-> WaitForPortUpdate',
      'DeliverClosingEmails -States.ALL-> WaitForPortUpdate',
    ].sort(),
  );
  expect(state('PortCompleted').Type).toBe('Succeed');
  expect(state('PortEnded').Type).toBe('Succeed');
  expect(state('PortFailed').Type).toBe('Fail');
});

it('routes MANUAL ports straight to DeliverEmails', () => {
  expect(state('RouteByKind').Choices).toEqual([
    { Variable: '$.route', StringEquals: 'MANUAL', Next: 'DeliverEmails' },
  ]);
});

it('decides on $.sync.status, guarded so a MANUAL port without a sync yet goes on waiting', () => {
  const choices = state('IsPortFinished').Choices as Array<Record<string, unknown>>;
  const completed = choices.find((c) => c.Next === 'ImportNumbers');
  expect(completed).toEqual({
    And: [
      { Variable: '$.sync.status', IsPresent: true },
      { Variable: '$.sync.status', StringEquals: 'COMPLETED' },
    ],
    Next: 'ImportNumbers',
  });
  const ended = JSON.stringify(choices.find((c) => c.Next === 'DeliverClosingEmails'));
  expect(ended).toContain('"IsPresent":true');
  for (const status of ['CANCELED', 'EXPIRED', 'FAILED']) expect(ended).toContain(`"StringEquals":"${status}"`);
  expect(ended).not.toContain('COMPLETED');
  // Emails owed send the workflow through DeliverEmails; the status rules come first, so a finishing port's
  // emails go out on its way to the end.
  expect(choices.map((c) => c.Next)).toEqual(['ImportNumbers', 'DeliverClosingEmails', 'DeliverEmails']);
  expect(choices[2]).toEqual({
    And: [
      { Variable: '$.sync.emailsPending', IsPresent: true },
      { Variable: '$.sync.emailsPending', BooleanEquals: true },
    ],
    Next: 'DeliverEmails',
  });
  expect(state('IsPortFinished').Default).toBe('WaitForPortUpdate');
});

it('waits for a webhook with a task token, timing out after the poll interval into SyncPortStatus', () => {
  const waitFunction = logicalIdOf(stack, stack.workflow.functions.waitForPortUpdate);
  expect(state('WaitForPortUpdate')).toEqual({
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: {
      FunctionName: `arn:aws:lambda:us-east-1:123456789012:function:${waitFunction}`,
      Payload: { 'token.$': '$$.Task.Token', 'accountId.$': '$.accountId', 'portRequestId.$': '$.portRequestId' },
    },
    TimeoutSecondsPath: '$.cadence.pollIntervalSeconds',
    ResultPath: '$.wake',
    Retry: expect.any(Array),
    Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.wake', Next: 'SyncPortStatus' }],
    Next: 'SyncPortStatus',
  });
});

it('calls the other Lambda steps directly by function ARN, the whole state as payload', () => {
  const fnArn = (fn: Parameters<typeof logicalIdOf>[1]) =>
    `arn:aws:lambda:us-east-1:123456789012:function:${logicalIdOf(stack, fn)}`;
  const f = stack.workflow.functions;
  const expected: Record<string, [string, string | null]> = {
    SubmitPortIn: [fnArn(f.submitPortIn), '$.sync'],
    SyncPortStatus: [fnArn(f.syncPortStatus), '$.sync'],
    ImportNumbers: [fnArn(f.importNumbers), '$.import'],
    MarkFailed: [fnArn(f.markFailed), '$.sync'],
    DeliverEmails: [fnArn(f.deliverEmails), null],
    DeliverCompletionEmails: [fnArn(f.deliverEmails), null],
    DeliverFailureEmails: [fnArn(f.deliverEmails), null],
    DeliverClosingEmails: [fnArn(f.deliverEmails), null],
  };
  for (const [name, [resource, resultPath]] of Object.entries(expected)) {
    const s = state(name);
    expect({ name, Resource: s.Resource, ResultPath: s.ResultPath, Parameters: s.Parameters }).toEqual({
      name,
      Resource: resource,
      ResultPath: resultPath,
      Parameters: undefined,
    });
  }
});

it('gives every Task an explicit timeout', () => {
  expect(tasks()).toHaveLength(9);
  for (const [name, s] of tasks()) {
    const timeouts = ['TimeoutSeconds', 'TimeoutSecondsPath'].filter((key) => key in s);
    expect({ name, timeouts }).toEqual({ name, timeouts: [expect.any(String)] });
  }
});

it('times a Lambda step out only after its function would have', () => {
  for (const [name, fn] of [
    ['SubmitPortIn', stack.workflow.functions.submitPortIn],
    ['ImportNumbers', stack.workflow.functions.importNumbers],
  ] as const) {
    expect(state(name).TimeoutSeconds).toBeGreaterThan(fn.timeout?.toSeconds() ?? Number.POSITIVE_INFINITY);
  }
});

it('retries with the shared error names: Twilio hiccups, lost races, email failures and the Lambda service', () => {
  for (const name of ['SubmitPortIn', 'SyncPortStatus', 'ImportNumbers']) {
    expect(retried(name)).toContain(WorkflowErrorNames.TwilioTransient);
  }
  for (const name of ['DeliverEmails', 'DeliverCompletionEmails', 'DeliverClosingEmails', 'DeliverFailureEmails']) {
    expect(retried(name)).toContain(WorkflowErrorNames.EmailDeliveryFailed);
    expect(retried(name)).not.toContain(WorkflowErrorNames.TwilioTransient);
  }
  for (const [name] of tasks()) {
    expect({ name, retried: retried(name) }).toEqual({
      name,
      retried: expect.arrayContaining([WorkflowErrorNames.ConcurrentUpdate, ...LambdaServiceErrorNames]),
    });
    // A refused port-in must reach MarkFailed at once, not after retries: the first retrier that matches it
    // allows no attempt (States.TaskFailed, further down, would match it too).
    expect({ name, retrier: retrierFor(name, WorkflowErrorNames.PortInRejected) }).toEqual({
      name,
      retrier: { ErrorEquals: [WorkflowErrorNames.PortInRejected], MaxAttempts: 0 },
    });
    // States.ALL would have to come last and would retry the poll's States.Timeout too.
    expect(retried(name)).not.toContain('States.ALL');
  }
  const twilioRetry = (state('SubmitPortIn').Retry ?? []).find((r) =>
    r.ErrorEquals.includes(WorkflowErrorNames.TwilioTransient),
  );
  expect(twilioRetry).toMatchObject({ BackoffRate: 2, MaxAttempts: expect.any(Number) });
});

it('retries any other failure of every step (a bug, a DynamoDB hiccup) with backoff, last', () => {
  for (const [name] of tasks()) {
    for (const error of ['Error', 'TypeError', 'ProvisionedThroughputExceededException', 'Sandbox.Timedout']) {
      const retrier = retrierFor(name, error);
      expect({ name, error, retrier }).toEqual({
        name,
        error,
        retrier: expect.objectContaining({ ErrorEquals: ['States.TaskFailed'], BackoffRate: 2 }),
      });
      expect(retrier?.MaxAttempts).toBeGreaterThanOrEqual(2);
    }
    // Last, so the named retriers above it keep their own backoff and attempts.
    expect(state(name).Retry?.at(-1)?.ErrorEquals).toEqual(['States.TaskFailed']);
    expect(retrierFor(name, WorkflowErrorNames.ConcurrentUpdate)?.ErrorEquals).toEqual([
      WorkflowErrorNames.ConcurrentUpdate,
    ]);
  }
  // The poll cadence's timeout is caught (to SyncPortStatus), never retried.
  expect(retrierFor('WaitForPortUpdate', 'States.Timeout')).toBeUndefined();
});

it('catches any SubmitPortIn failure into MarkFailed, keeping the error at $.error', () => {
  expect(state('SubmitPortIn').Catch).toEqual([
    { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MarkFailed' },
  ]);
});

it('uses JSONPath only: no JSONata, no variables', () => {
  expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  const keys = new Set(keysDeep(definition));
  for (const key of ['Assign', 'Arguments', 'Output', 'Condition', 'Items']) expect(keys).not.toContain(key);
  expect(JSON.stringify(definition)).not.toMatch(/JSONata|\{%/);
});

it('passes asl-validator', () => {
  const result = aslValidator(definition, { checkPaths: true, checkArn: true });
  expect(result.errorsText()).toBe('');
  expect(result.isValid).toBe(true);
});

it('would be caught by asl-validator if a transition pointed nowhere', () => {
  // Guards the test above against a validator that accepts anything.
  const broken = structuredClone(definition) as StateMachineDefinition & { States: Record<string, State> };
  (broken.States.SyncPortStatus as State).Next = 'NoSuchState';
  expect(aslValidator(broken, { checkPaths: true, checkArn: true }).isValid).toBe(false);
});
