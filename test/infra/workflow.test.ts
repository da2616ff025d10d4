import aslValidator from 'asl-validator';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { type Template, Template as TemplateOf } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { WorkflowErrorNames } from '../../lambdas/shared/error-names';
import { PortInNotifications } from '../../lib/constructs/notifications';
import { TwilioSecrets } from '../../lib/constructs/secrets';
import {
  checkTransientRetry,
  EXECUTION_HISTORY_EVENT_LIMIT,
  POLLING_HISTORY_BUDGET,
  PortWorkflow,
  PortWorkflowStates,
  RETRY_HISTORY_BUDGET,
  retryHistoryEvents,
  TRANSIENT_RETRY,
  transientRetrySpan,
  VERIFICATION_HISTORY_BUDGET,
  verificationHistoryEvents,
} from '../../lib/constructs/workflow';
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

/** What every Lambda step is told of its attempt, from the context object. */
const attempt = {
  'state.$': '$$.State.Name',
  'retryCount.$': '$$.State.RetryCount',
  'enteredTime.$': '$$.State.EnteredTime',
};

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
      'SubmitPortIn -PortInRejectedError-> MarkFailed',
      // An outage past every retry: wait a poll interval and submit again (FAILED only when Twilio refuses).
      'SubmitPortIn -States.ALL-> WaitToRetrySubmitPortIn',
      'WaitToRetrySubmitPortIn -> SubmitPortIn',
      'MarkFailed -States.ALL-> WaitToRetryMarkFailed',
      'WaitToRetryMarkFailed -> MarkFailed',
      'DeliverFailureEmails -States.ALL-> WaitToRetryDeliverFailureEmails',
      'WaitToRetryDeliverFailureEmails -> DeliverFailureEmails',
      'IsPortFinished -choice-> ImportNumbers',
      'IsPortFinished -choice-> DeliverClosingEmails',
      'IsPortFinished -choice-> DeliverEmails',
      'IsPortFinished -default-> WaitForPortUpdate',
      'DeliverEmails -> WaitForPortUpdate',
      'WaitForPortUpdate -> SettleWebhooks',
      'SettleWebhooks -> SyncPortStatus',
      'WaitForPortUpdate -States.ALL-> SyncPortStatus',
      // No DeliverEmails in between: a poll cycle owing no email is three transitions.
      'SyncPortStatus -> IsPortFinished',
      // The numbers are verified (checks, a test call each) before the "safe to cancel" email.
      'ImportNumbers -> VerifyNumbers',
      'VerifyNumbers -> IsVerificationDone',
      'IsVerificationDone -choice-> DeliverCompletionEmails',
      'IsVerificationDone -choice-> DeliverVerificationEmails',
      'IsVerificationDone -default-> WaitToVerifyNumbers',
      'DeliverVerificationEmails -> WaitToVerifyNumbers',
      'DeliverVerificationEmails -States.ALL-> WaitToVerifyNumbers',
      'WaitToVerifyNumbers -> VerifyNumbers',
      'VerifyNumbers -States.ALL-> WaitToRetryVerifyNumbers',
      'WaitToRetryVerifyNumbers -> VerifyNumbers',
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
      Payload: {
        input: { 'token.$': '$$.Task.Token', 'accountId.$': '$.accountId', 'portRequestId.$': '$.portRequestId' },
        attempt,
      },
    },
    TimeoutSecondsPath: '$.cadence.pollIntervalSeconds',
    ResultPath: '$.wake',
    Retry: expect.any(Array),
    // The poll cadence's timeout, or the function failing past its retries: SyncPortStatus reads Twilio either way.
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.wake', Next: 'SyncPortStatus' }],
    // A wake settles first (a burst of webhooks, one sync); a poll's timeout goes straight to the sync.
    Next: 'SettleWebhooks',
  });
});

it('calls the other Lambda steps directly by function ARN, the whole state and the attempt as payload', () => {
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
      Parameters: { 'input.$': '$', attempt },
    });
  }
});

it('gives every Task an explicit timeout', () => {
  expect(tasks()).toHaveLength(11);
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

it('retries everything but a refused port-in for at least 72 hours: capped exponential backoff, full jitter', () => {
  const transient = {
    ErrorEquals: ['States.ALL'],
    IntervalSeconds: TRANSIENT_RETRY.interval.toSeconds(),
    BackoffRate: TRANSIENT_RETRY.backoffRate,
    MaxDelaySeconds: TRANSIENT_RETRY.maxDelay.toSeconds(),
    MaxAttempts: TRANSIENT_RETRY.maxAttempts,
    JitterStrategy: 'FULL',
  };
  const lambdaSteps = tasks().filter(([name]) => name !== 'WaitForPortUpdate');
  expect(lambdaSteps).toHaveLength(10);
  for (const [name, s] of lambdaSteps) {
    // A refused port-in must reach MarkFailed at once: the first retrier that matches it allows no attempt.
    expect({ name, Retry: s.Retry }).toEqual({
      name,
      Retry: [{ ErrorEquals: [WorkflowErrorNames.PortInRejected], MaxAttempts: 0 }, transient],
    });
    for (const error of [
      WorkflowErrorNames.TwilioTransient,
      WorkflowErrorNames.EmailDeliveryFailed,
      WorkflowErrorNames.ConcurrentUpdate,
      'Lambda.TooManyRequestsException',
      'ProvisionedThroughputExceededException',
      'Sandbox.Timedout',
      'States.Timeout',
      'TypeError',
    ]) {
      expect({ name, error, retrier: retrierFor(name, error) }).toEqual({ name, error, retrier: transient });
    }
  }
  // The poll cadence's timeout is caught (to SyncPortStatus), never retried; its function's failures are.
  expect(state('WaitForPortUpdate').Retry).toEqual([{ ...transient, ErrorEquals: ['States.TaskFailed'] }]);
  expect(retrierFor('WaitForPortUpdate', 'States.Timeout')).toBeUndefined();
  const span = transientRetrySpan(TRANSIENT_RETRY);
  expect(span.floorSeconds).toBeGreaterThanOrEqual(72 * 3600);
  expect(span.expectedSeconds).toBeGreaterThan(span.floorSeconds);
});

it('refuses at synth a retry policy that gives up within 72 hours or overflows the history budget', () => {
  expect(() => checkTransientRetry(TRANSIENT_RETRY)).not.toThrow();
  // Six retries capped at 2 minutes: the policy of before, about 2.5 minutes.
  expect(() => checkTransientRetry({ ...TRANSIENT_RETRY, maxAttempts: 6, maxDelay: Duration.minutes(2) })).toThrow(
    /under the 72 h/,
  );
  expect(() => checkTransientRetry({ ...TRANSIENT_RETRY, maxAttempts: 500 })).toThrow(/under the 72 h/);
  // Long enough, but 2 outages of 2,000 retries are 12,000 history events.
  expect(() => checkTransientRetry({ ...TRANSIENT_RETRY, maxAttempts: 2_000, maxDelay: Duration.minutes(5) })).toThrow(
    /history events/,
  );
  expect(retryHistoryEvents(TRANSIENT_RETRY) * 2).toBeLessThanOrEqual(5_000);
});

it('waits between verification checks in the state machine, for as long as VerifyNumbers says', () => {
  expect(state('WaitToVerifyNumbers')).toEqual(
    expect.objectContaining({ Type: 'Wait', SecondsPath: '$.verify.waitSeconds', Next: 'VerifyNumbers' }),
  );
  expect(state('IsVerificationDone').Choices).toEqual([
    { Variable: '$.verify.finished', BooleanEquals: true, Next: 'DeliverCompletionEmails' },
    { Variable: '$.verify.emailsPending', BooleanEquals: true, Next: 'DeliverVerificationEmails' },
  ]);
  // Re-checks every 15 minutes for 48 hours fit their share of the history, and the shares fit the limit.
  const events = verificationHistoryEvents(Duration.minutes(15), Duration.hours(48));
  expect(events).toBeLessThanOrEqual(VERIFICATION_HISTORY_BUDGET);
  expect(POLLING_HISTORY_BUDGET + RETRY_HISTORY_BUDGET + VERIFICATION_HISTORY_BUDGET).toBeLessThan(
    EXECUTION_HISTORY_EVENT_LIMIT,
  );
});

describe('a PortWorkflow on its own', () => {
  function workflow(props: Partial<ConstructorParameters<typeof PortWorkflow>[2]>) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const scope = new Stack(app, 'Test');
    const table = new dynamodb.Table(scope, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });
    return new PortWorkflow(scope, 'Workflow', {
      table,
      secrets: new TwilioSecrets(scope, 'Secrets', { namePrefix: 'test/' }),
      notifications: new PortInNotifications(scope, 'Notifications', { senderEmail: 'a@b.example' }),
      callRouterUrl: 'https://router.example/voice',
      pollInterval: Duration.hours(6),
      ...props,
    });
  }

  it('refuses at synth re-checks that would overflow the verification history budget', () => {
    expect(() =>
      workflow({ verificationTiming: { recheckInterval: Duration.minutes(5), giveUpAfter: Duration.hours(48) } }),
    ).toThrow(/above the 4000 budget for verification/);
  });

  it('has no VerifyNumbers when verification is switched off: the import goes straight to the completion emails', () => {
    const off = workflow({ verifyPortedNumbers: false });
    expect(off.functions.verifyNumbers).toBeUndefined();
    const asl = JSON.stringify(TemplateOf.fromStack(Stack.of(off)).findResources('AWS::StepFunctions::StateMachine'));
    expect(asl).not.toContain('VerifyNumbers');
    expect(asl).toContain('"ImportNumbers');
  });
});

it('fails a port only when Twilio refuses it; an outage past every retry waits a poll interval and tries again', () => {
  expect(state('SubmitPortIn').Catch).toEqual([
    { ErrorEquals: [WorkflowErrorNames.PortInRejected], ResultPath: '$.error', Next: 'MarkFailed' },
    { ErrorEquals: ['States.ALL'], ResultPath: '$.stepError', Next: 'WaitToRetrySubmitPortIn' },
  ]);
  for (const step of ['SubmitPortIn', 'MarkFailed', 'DeliverFailureEmails']) {
    expect(state(`WaitToRetry${step}`)).toEqual({
      Type: 'Wait',
      Comment: expect.any(String),
      SecondsPath: '$.cadence.pollIntervalSeconds',
      Next: step,
    });
  }
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
