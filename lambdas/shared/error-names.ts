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
} as const;

export type WorkflowErrorName = (typeof WorkflowErrorNames)[keyof typeof WorkflowErrorNames];

/** Errors raised by the Lambda service itself, retried as AWS recommends for lambda:invoke tasks. */
export const LambdaServiceErrorNames = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * Errors a workflow step throws that retrying cannot fix: matched, with MaxAttempts 0, ahead of the retrier of
 * unexpected errors (States.TaskFailed would match them too, and Step Functions uses the first retrier that
 * matches).
 */
export const NotRetriedErrorNames = [WorkflowErrorNames.PortInRejected] as const;

/**
 * What the last retrier of every workflow step matches: any other failure of the task (a bug, a DynamoDB hiccup,
 * a Lambda runtime error), not States.Timeout.
 */
export const UnexpectedTaskErrorName = 'States.TaskFailed';
