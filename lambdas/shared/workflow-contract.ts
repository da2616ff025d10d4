/**
 * The state names of the port workflow (lib/constructs/workflow.ts): a contract with the local stack, dashboards,
 * the diagram (scripts/state-machine-diagram.ts) and tests.
 */
export const PortWorkflowStates = {
  RouteByKind: 'RouteByKind',
  SubmitPortIn: 'SubmitPortIn',
  DeliverEmails: 'DeliverEmails',
  IsPortFinished: 'IsPortFinished',
  WaitForPortUpdate: 'WaitForPortUpdate',
  SettleWebhooks: 'SettleWebhooks',
  SyncPortStatus: 'SyncPortStatus',
  ImportNumbers: 'ImportNumbers',
  DeliverCompletionEmails: 'DeliverCompletionEmails',
  PortCompleted: 'PortCompleted',
  DeliverClosingEmails: 'DeliverClosingEmails',
  PortEnded: 'PortEnded',
  MarkFailed: 'MarkFailed',
  DeliverFailureEmails: 'DeliverFailureEmails',
  PortFailed: 'PortFailed',
  WaitToRetrySubmitPortIn: 'WaitToRetrySubmitPortIn',
  WaitToRetryMarkFailed: 'WaitToRetryMarkFailed',
  WaitToRetryDeliverFailureEmails: 'WaitToRetryDeliverFailureEmails',
  VerifyNumbers: 'VerifyNumbers',
  IsVerificationDone: 'IsVerificationDone',
  DeliverVerificationEmails: 'DeliverVerificationEmails',
  WaitToVerifyNumbers: 'WaitToVerifyNumbers',
  WaitToRetryVerifyNumbers: 'WaitToRetryVerifyNumbers',
} as const;

/** One state name of the port workflow. */
export type PortWorkflowState = (typeof PortWorkflowStates)[keyof typeof PortWorkflowStates];

/** The input of one port request's execution. Written by the product API, read by the state machine. */
export interface PortWorkflowInput {
  readonly accountId: string;
  readonly portRequestId: string;
  readonly route: 'API' | 'MANUAL';
  readonly cadence: {
    /** How long WaitForPortUpdate waits for a webhook before it reads Twilio itself (TimeoutSecondsPath). */
    readonly pollIntervalSeconds: number;
    /** How often a "do not cancel yet" reminder goes out while the port is open. */
    readonly reminderIntervalSeconds: number;
  };
}

/** Payload of the WaitForPortUpdate callback task. */
export interface WaitForPortUpdatePayload {
  readonly token: string;
  readonly accountId: string;
  readonly portRequestId: string;
}

/** What a workflow step that touches a port request returns to the state machine. */
export interface PortStepResult {
  readonly status: string;
  /**
   * The port request's outbox still owes an email after the step (neither sent nor dead-lettered): IsPortFinished
   * goes through DeliverEmails before waiting again only then, so a quiet poll cycle costs three transitions.
   */
  readonly emailsPending: boolean;
}

/**
 * What the state machine tells each step of its attempt, from the context object: the state's name
 * (`$$.State.Name`), how many times it was retried so far (`$$.State.RetryCount`) and when it was entered
 * (`$$.State.EnteredTime`, the first attempt). Steps use it to see a delay (a step failing again and again).
 */
export interface StepAttemptContext {
  readonly state: string;
  readonly retryCount: number;
  readonly enteredTime: string;
}

/**
 * The payload of every workflow step: the state input as it is (`input`) and the attempt. The WaitForPortUpdate
 * callback's input is {@link WaitForPortUpdatePayload}.
 */
export interface StepEvent<TInput = unknown> {
  readonly input: TInput;
  readonly attempt: StepAttemptContext;
}

/** A step attempt with the port request it is about. */
export interface StepAttempt extends StepAttemptContext {
  readonly accountId: string;
  readonly portRequestId: string;
}
