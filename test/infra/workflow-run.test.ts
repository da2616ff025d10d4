import { StateMachine } from 'aws-local-stepfunctions';
import { WorkflowErrorNames } from '../../lambdas/shared/error-names';
import type { PortWorkflowInput } from '../../lambdas/shared/workflow-contract';
import { TRANSIENT_RETRY } from '../../lib/constructs/workflow';
import type { StateMachineDefinition } from '../../local/cloudformation/template';
import { resolvedDefinition, synthesizeStack } from './synth';

/** Runs the synthesized definition in aws-local-stepfunctions with stand-in steps, to check the paths it takes. */
let definition: StateMachineDefinition;

beforeAll(() => {
  // The engine arms the execution timeout with setTimeout, which cannot reach 120 days.
  definition = resolvedDefinition(synthesizeStack({ workflowTimeoutSeconds: 3600 }).template);
});

type Step = (input: Record<string, unknown>) => unknown;

/**
 * AWS resolves TimeoutSecondsPath against the state input (an execution with Parameters that leave the timeout
 * field out still times out on it); aws-local-stepfunctions 3 resolves it against the Parameters' output. The
 * stand-in steps ignore Parameters anyway, so they go, and the engine then reads the path where AWS does.
 */
function asAwsResolvesTimeouts(source: StateMachineDefinition): StateMachineDefinition {
  const copy = structuredClone(source);
  for (const state of Object.values(copy.States) as Array<Record<string, unknown>>) {
    if (state.Type === 'Task') delete state.Parameters;
  }
  return copy;
}

function namedError(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

async function run(input: PortWorkflowInput, steps: Record<string, Step>) {
  const visited: string[] = [];
  const inputs: Record<string, Record<string, unknown>> = {};
  const handlers = Object.fromEntries(
    Object.keys(definition.States)
      .filter((name) => (definition.States[name] as { Type: string }).Type === 'Task')
      .map((name) => [
        name,
        async (stateInput: unknown) => {
          visited.push(name);
          inputs[name] = stateInput as Record<string, unknown>;
          const step = steps[name];
          if (!step) throw new Error(`unexpected step ${name}`);
          return (await step(stateInput as Record<string, unknown>)) ?? null;
        },
      ]),
  );
  // Retries wait no time here; which errors are retried is what matters.
  const retryIntervalOverrides = Object.fromEntries(Object.keys(definition.States).map((name) => [name, 0]));
  const execution = new StateMachine(asAwsResolvesTimeouts(definition) as never, {
    validationOptions: { checkArn: true },
  }).run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
    // The local runner has no task tokens of its own; the local stack's Step Functions endpoint makes real ones.
    context: { Task: { Token: 'task-token' } } as never,
  });
  try {
    return { output: await execution.result, error: undefined, visited, inputs };
  } catch (error) {
    return { output: undefined, error: error as Error, visited, inputs };
  }
}

const apiPort: PortWorkflowInput = {
  accountId: 'acct-1',
  portRequestId: 'pr-1',
  route: 'API',
  cadence: { pollIntervalSeconds: 1, reminderIntervalSeconds: 60 },
};

const never = () => new Promise<never>(() => undefined);

/** What a completer of WaitForPortUpdate's token sends (PortWake): a sync that may start now, or `inMs` from now. */
const woken = (wokenBy: string, inMs = 0) => ({ wokenBy, syncNotBefore: new Date(Date.now() + inMs).toISOString() });

it('submits, waits for a webhook, syncs, imports, verifies the numbers and mails the completion', async () => {
  const { output, error, visited, inputs } = await run(apiPort, {
    SubmitPortIn: () => ({ status: 'IN_REVIEW', emailsPending: true }),
    DeliverEmails: () => ({ sent: 1 }),
    WaitForPortUpdate: () => woken('webhook'),
    SyncPortStatus: () => ({ status: 'COMPLETED', emailsPending: true }),
    ImportNumbers: () => ({ imported: ['+14155550100'] }),
    VerifyNumbers: () => ({ finished: true, verified: true, emailsPending: true, waitSeconds: 1 }),
    DeliverCompletionEmails: () => ({ sent: 1 }),
  });
  expect(error).toBeUndefined();
  expect(visited).toEqual([
    'SubmitPortIn',
    'DeliverEmails',
    'WaitForPortUpdate',
    'SyncPortStatus',
    'ImportNumbers',
    'VerifyNumbers',
    'DeliverCompletionEmails',
  ]);
  expect(inputs.SyncPortStatus).toMatchObject({
    wake: { wokenBy: 'webhook' },
    sync: { status: 'IN_REVIEW', emailsPending: true },
  });
  expect(output).toMatchObject({ ...apiPort, sync: { status: 'COMPLETED' }, import: { imported: ['+14155550100'] } });
});

it('waits between verification checks as VerifyNumbers says, mailing a failure before it waits', async () => {
  const answers = [
    { finished: false, verified: false, emailsPending: false, waitSeconds: 1 },
    { finished: false, verified: false, emailsPending: true, waitSeconds: 1 },
    { finished: true, verified: true, emailsPending: true, waitSeconds: 1 },
  ];
  let checks = 0;
  const { error, visited } = await run(apiPort, {
    SubmitPortIn: () => ({ status: 'COMPLETED', emailsPending: false }),
    ImportNumbers: () => ({ imported: ['+14155550100'] }),
    VerifyNumbers: () => answers[checks++],
    DeliverVerificationEmails: () => ({ sent: 1 }),
    DeliverCompletionEmails: () => ({ sent: 1 }),
  });
  expect(error).toBeUndefined();
  expect(visited).toEqual([
    'SubmitPortIn',
    'ImportNumbers',
    'VerifyNumbers',
    'VerifyNumbers',
    'DeliverVerificationEmails',
    'VerifyNumbers',
    'DeliverCompletionEmails',
  ]);
});

it('goes back to waiting without DeliverEmails when a sync owes no email, through it when one does', async () => {
  const owed = [false, true, false];
  let syncs = 0;
  const { error, visited } = await run(apiPort, {
    SubmitPortIn: () => ({ status: 'IN_REVIEW', emailsPending: true }),
    DeliverEmails: () => ({ sent: 1 }),
    WaitForPortUpdate: () => woken('webhook'),
    SyncPortStatus: () => {
      const emailsPending = owed[syncs];
      syncs += 1;
      return emailsPending === undefined
        ? { status: 'CANCELED', emailsPending: true }
        : { status: 'IN_REVIEW', emailsPending };
    },
    DeliverClosingEmails: () => ({ sent: 1 }),
  });
  expect(error).toBeUndefined();
  expect(visited).toEqual([
    'SubmitPortIn',
    'DeliverEmails',
    'WaitForPortUpdate',
    'SyncPortStatus',
    'WaitForPortUpdate',
    'SyncPortStatus',
    'DeliverEmails',
    'WaitForPortUpdate',
    'SyncPortStatus',
    'WaitForPortUpdate',
    'SyncPortStatus',
    // The "canceled" email goes out before the execution ends.
    'DeliverClosingEmails',
  ]);
});

it('ends a port canceled while it was submitted, after its emails', async () => {
  const { error, output, visited } = await run(apiPort, {
    SubmitPortIn: () => ({ status: 'CANCELED', emailsPending: true }),
    DeliverClosingEmails: () => ({ sent: 1 }),
  });
  expect(error).toBeUndefined();
  expect(visited).toEqual(['SubmitPortIn', 'DeliverClosingEmails']);
  expect(output).toMatchObject({ sync: { status: 'CANCELED' } });
});

/** One visit of a Lambda step: its first attempt and every retry. */
const attempts = 1 + TRANSIENT_RETRY.maxAttempts;

it('goes back to waiting when the closing emails still fail past their retries', async () => {
  let deliveries = 0;
  const { error, visited } = await run(apiPort, {
    SubmitPortIn: () => ({ status: 'IN_REVIEW', emailsPending: false }),
    WaitForPortUpdate: () => woken('terminal'),
    SyncPortStatus: () => ({ status: 'EXPIRED', emailsPending: true }),
    DeliverClosingEmails: () => {
      deliveries += 1;
      // The first visit's attempt and all its retries fail: caught back into waiting.
      if (deliveries <= attempts) throw namedError(WorkflowErrorNames.EmailDeliveryFailed);
      return { sent: 1 };
    },
  });
  expect(error).toBeUndefined();
  expect(visited.filter((name) => name !== 'DeliverClosingEmails')).toEqual([
    'SubmitPortIn',
    'WaitForPortUpdate',
    'SyncPortStatus',
    'WaitForPortUpdate',
    'SyncPortStatus',
  ]);
  expect(deliveries).toBe(attempts + 1);
  expect(visited.at(-1)).toBe('DeliverClosingEmails');
});

it("holds a webhook's sync until the settle window's end ($.wake.syncNotBefore), and a cancel not at all", async () => {
  const startedAt: Record<string, number> = {};
  const timed = (name: string, result: unknown) => () => {
    startedAt[name] = Date.now();
    return result;
  };
  let waits = 0;
  const wokeAt = Date.now();
  const { error, visited } = await run(apiPort, {
    SubmitPortIn: () => ({ status: 'IN_REVIEW', emailsPending: false }),
    // The first wake is a webhook 1.5 s inside the settle window; the second a cancel.
    WaitForPortUpdate: () => {
      waits += 1;
      return waits === 1 ? woken('webhook', 1500) : woken('cancel');
    },
    SyncPortStatus: (input) =>
      (input.wake as { wokenBy: string }).wokenBy === 'webhook'
        ? timed('webhookSync', { status: 'IN_REVIEW', emailsPending: false })()
        : timed('cancelSync', { status: 'CANCELED', emailsPending: true })(),
    DeliverClosingEmails: () => null,
  });
  expect(error).toBeUndefined();
  expect(visited).toEqual([
    'SubmitPortIn',
    'WaitForPortUpdate',
    'SyncPortStatus',
    'WaitForPortUpdate',
    'SyncPortStatus',
    'DeliverClosingEmails',
  ]);
  // Step Functions' Wait counts whole seconds: at least 1 s of the 1.5 s, however the milliseconds fall.
  expect((startedAt.webhookSync ?? 0) - wokeAt).toBeGreaterThanOrEqual(1000);
  expect((startedAt.cancelSync ?? 0) - (startedAt.webhookSync ?? 0)).toBeLessThan(1000);
  const settle = definition.States.SettleWebhooks as { Type: string; TimestampPath: string; Next: string };
  expect(settle).toMatchObject({ Type: 'Wait', TimestampPath: '$.wake.syncNotBefore', Next: 'SyncPortStatus' });
  // The poll's timeout is caught straight into SyncPortStatus: a quiet poll cycle costs no settle state.
  const wait = definition.States.WaitForPortUpdate as { Next: string; Catch: Array<{ Next: string }> };
  expect(wait.Next).toBe('SettleWebhooks');
  expect(wait.Catch.map((c) => c.Next)).toEqual(['SyncPortStatus']);
});

it('takes a MANUAL port to the wait without a sync status, and polls when no webhook comes', async () => {
  const { error, visited, inputs } = await run(
    { ...apiPort, route: 'MANUAL' },
    {
      DeliverEmails: () => null,
      WaitForPortUpdate: never,
      SyncPortStatus: () => ({ status: 'CANCELED', emailsPending: true }),
      DeliverClosingEmails: () => null,
    },
  );
  expect(error).toBeUndefined();
  expect(visited).toEqual(['DeliverEmails', 'WaitForPortUpdate', 'SyncPortStatus', 'DeliverClosingEmails']);
  // The timeout lands where a webhook's output would, so SyncPortStatus can tell a poll from a wake.
  expect(inputs.SyncPortStatus?.wake).toMatchObject({ Error: 'States.Timeout' });
});

it('marks the port FAILED and mails the customer when Twilio refuses the port-in', async () => {
  const { error, visited, inputs } = await run(apiPort, {
    SubmitPortIn: () => {
      throw namedError(WorkflowErrorNames.PortInRejected, 'refused');
    },
    MarkFailed: () => ({ status: 'FAILED' }),
    DeliverFailureEmails: () => null,
  });
  expect(visited).toEqual(['SubmitPortIn', 'MarkFailed', 'DeliverFailureEmails']);
  expect(inputs.MarkFailed?.error).toMatchObject({ Error: WorkflowErrorNames.PortInRejected });
  expect(error?.message).toMatch(/could not be submitted/);
});

it('retries a transient Twilio error and a lost race instead of failing the port', async () => {
  let submits = 0;
  const { error, visited } = await run(apiPort, {
    SubmitPortIn: () => {
      submits += 1;
      if (submits === 1) throw namedError(WorkflowErrorNames.TwilioTransient);
      if (submits === 2) throw namedError(WorkflowErrorNames.ConcurrentUpdate);
      return { status: 'EXPIRED', emailsPending: true };
    },
    DeliverClosingEmails: () => null,
  });
  expect(error).toBeUndefined();
  expect(visited).toEqual(['SubmitPortIn', 'SubmitPortIn', 'SubmitPortIn', 'DeliverClosingEmails']);
});

it('never fails a port for an outage: past every retry, SubmitPortIn waits a poll interval and submits again', async () => {
  let submits = 0;
  const { error, visited, output } = await run(apiPort, {
    SubmitPortIn: () => {
      submits += 1;
      if (submits <= attempts) throw namedError(WorkflowErrorNames.TwilioTransient, 'Twilio answered 503');
      return { status: 'EXPIRED', emailsPending: true };
    },
    DeliverClosingEmails: () => null,
  });
  expect(error).toBeUndefined();
  expect(submits).toBe(attempts + 1);
  expect(visited).not.toContain('MarkFailed');
  expect(visited.at(-1)).toBe('DeliverClosingEmails');
  expect(output).toMatchObject({
    sync: { status: 'EXPIRED' },
    stepError: { Error: WorkflowErrorNames.TwilioTransient },
  });
});
