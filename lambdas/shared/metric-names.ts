/**
 * The service's own CloudWatch metrics (Embedded Metric Format on stdout, lambdas/adapters/observability).
 * Shared by the Lambdas that emit them and lib/constructs/operations.ts that alarms on them, so the two cannot drift.
 */
export const METRIC_NAMESPACE = 'RingTonic/PortIn';

/** The Powertools service name: the `service` key of every log line and the one dimension of every metric. */
export const SERVICE_NAME = 'port-in';

export const MetricNames = {
  /** A Port In request was created at Twilio (first submission or a corrected resubmission). */
  PortsSubmitted: 'PortsSubmitted',
  /** A port finished: COMPLETED at Twilio and every ported number imported. */
  PortsCompleted: 'PortsCompleted',
  /** The service could not submit a port (MarkFailed). */
  PortsFailed: 'PortsFailed',
  /**
   * A workflow step retried while its port has been delayed (failing for a transient reason) for longer than the
   * alert threshold (one hour in AWS): one per retry of such a step, so the PortsDelayed alarm holds while it lasts.
   */
  PortsDelayed: 'PortsDelayed',
  /** Something the service accepted but cannot act on was set aside: an email SES refused, an unknown webhook. */
  DeadLetters: 'DeadLetters',
  /**
   * An email handed to SES by an invocation that died before hearing the answer, with no Send event from SES within
   * the confirmation window: it is sent again (a second copy only if SES's best-effort event was lost).
   */
  EmailsUnconfirmed: 'EmailsUnconfirmed',
  /** An accepted order's execution could not be started by the product API (throttled, say): the sweeper will. */
  WorkflowStartsDeferred: 'WorkflowStartsDeferred',
  /** The sweeper started an execution the product API had not (a deferred start, or a function that died). */
  WorkflowStartsSwept: 'WorkflowStartsSwept',
  /** The sweeper could not start a pending execution either; it tries again on its next run. */
  WorkflowStartsFailed: 'WorkflowStartsFailed',
  /** A ported number first failed its check (calls do not reach Ring Tonic yet): one per port request. */
  NumbersVerificationFailed: 'NumbersVerificationFailed',
  /**
   * A port request's numbers still failed their checks after 48 hours of re-checks: it stays not safe to cancel and
   * the customer was told what to do. The operations alarm watches it.
   */
  NumbersVerificationGaveUp: 'NumbersVerificationGaveUp',
  /** Milliseconds from a Twilio webhook's arrival to the sync that applied the status change it announced. */
  WebhookToTransitionLatency: 'WebhookToTransitionLatency',
} as const;

export type CountMetricName = Exclude<keyof typeof MetricNames, 'WebhookToTransitionLatency'>;
export type LatencyMetricName = 'WebhookToTransitionLatency';
