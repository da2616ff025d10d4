/**
 * Names of the errors that workflow Lambdas throw and that the state machine retries or catches.
 * Shared by `lambdas/` (the throwers) and `lib/constructs/workflow.ts` (Retry/Catch), so the two cannot drift.
 */
export const WorkflowErrorNames = {
  /** Twilio answered 429, 5xx or timed out: worth retrying with backoff. */
  TwilioTransient: 'TwilioTransientError',
  /** Twilio refused the port-in for good (4xx): retrying will not help. */
  PortInRejected: 'PortInRejectedError',
  /** Another writer changed the port request meanwhile: run the step again. */
  ConcurrentUpdate: 'ConcurrentUpdateError',
  /** SES throttled or failed for a while: retry the delivery. */
  EmailDeliveryFailed: 'EmailDeliveryFailedError',
  /** An email may have gone out and SES has not confirmed it yet: wait, do not send it again. */
  EmailSendUnconfirmed: 'EmailSendUnconfirmedError',
} as const;

export type WorkflowErrorName = (typeof WorkflowErrorNames)[keyof typeof WorkflowErrorNames];

/**
 * Errors a workflow step throws that retrying cannot fix: matched, with MaxAttempts 0, ahead of the transient
 * retrier (States.ALL would match them too, and Step Functions uses the first retrier that matches). The only cause
 * of FAILED.
 */
export const NotRetriedErrorNames = [WorkflowErrorNames.PortInRejected] as const;

/**
 * What WaitForPortUpdate retries: any failure of its function (a bug, a DynamoDB hiccup, a Lambda runtime error),
 * not the States.Timeout of the poll cadence.
 */
export const UnexpectedTaskErrorName = 'States.TaskFailed';
