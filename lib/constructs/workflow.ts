import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { NotRetriedErrorNames, UnexpectedTaskErrorName } from '../../lambdas/shared/error-names';
import { PortWorkflowStates } from '../../lambdas/shared/workflow-contract';
import type { PortInNotifications } from './notifications';
import type { TwilioSecrets } from './secrets';
import { ServiceFunction } from './service-function';

/** The state names of the port workflow: a contract with the local stack, dashboards and tests. */
export { PortWorkflowStates };

/** Step Functions fails a Standard execution whose history reaches this many events. */
export const EXECUTION_HISTORY_EVENT_LIMIT = 25_000;
/**
 * History events one quiet poll cycle adds: WaitForPortUpdate 6, SyncPortStatus 5, IsPortFinished 2. A cycle that
 * owes an email adds DeliverEmails ({@link HISTORY_EVENTS_PER_EMAIL_DELIVERY}); most of a port's polls owe none.
 * A Standard execution fails at 25,000 events, so the poll interval and the execution timeout are checked
 * against it at synth time. test/e2e/long-wait.test.ts measures it from a real execution history.
 */
export const HISTORY_EVENTS_PER_POLL_CYCLE = 13;
/** History events SettleWebhooks (WaitStateEntered, WaitStateExited) adds to a cycle woken by a wake, not a poll. */
export const HISTORY_EVENTS_PER_SETTLE = 2;
/** History events DeliverEmails adds to a cycle that owes an email (a status change, a reminder). */
export const HISTORY_EVENTS_PER_EMAIL_DELIVERY = 5;
/** Share of the 25,000-event limit that polling may use; the rest is for webhook wakes, emails and retries. */
export const POLLING_HISTORY_BUDGET = 12_000;
/**
 * History events one retry of a Lambda step adds: LambdaFunctionScheduled, LambdaFunctionStarted,
 * LambdaFunctionFailed (TaskScheduled, TaskStarted, TaskFailed for the callback). test/e2e/faults.test.ts measures it.
 */
export const HISTORY_EVENTS_PER_RETRY = 3;
/** How many whole outages (a step retried to its last attempt) an execution's history must have room for. */
export const OUTAGES_BUDGETED = 2;
/**
 * Share of the 25,000-event limit for retries: {@link OUTAGES_BUDGETED} outages of a step retried to the end.
 */
export const RETRY_HISTORY_BUDGET = 5_000;
/**
 * History events one VerifyNumbers cycle adds: VerifyNumbers 5, IsVerificationDone 2, WaitToVerifyNumbers 2. A check
 * takes {@link VERIFICATION_CYCLES_PER_CHECK} cycles: the number checks and test calls, then (after the answer window)
 * the look for the calls' inbound legs.
 */
export const HISTORY_EVENTS_PER_VERIFICATION_CYCLE = 9;
export const VERIFICATION_CYCLES_PER_CHECK = 2;
/** Emails verification may owe: the "not reaching yet" one and the give-up one, each through DeliverEmails. */
const VERIFICATION_EMAILS = 2;
/**
 * Share of the 25,000-event limit for verifying the ported numbers: re-checks every 15 minutes for 48 hours are
 * 192 checks, 3,456 events. With {@link POLLING_HISTORY_BUDGET} and {@link RETRY_HISTORY_BUDGET} it leaves 4,000
 * events for wakes (each settling, {@link HISTORY_EVENTS_PER_SETTLE}) and emails.
 */
export const VERIFICATION_HISTORY_BUDGET = 4_000;

/** How VerifyNumbers times its checks; the state machine does the waiting. */
export interface VerificationTiming {
  /** How long after a test call its inbound leg must be answered. @default Duration.minutes(2) */
  readonly answerWindow?: Duration;
  /** How long after a failed check the next one runs. @default Duration.minutes(15) */
  readonly recheckInterval?: Duration;
  /** How long failing numbers are re-checked before the alarm and the "what to do" email. @default Duration.hours(48) */
  readonly giveUpAfter?: Duration;
}

/** The history events verification adds at most: every re-check until it gives up, and its emails. */
export function verificationHistoryEvents(recheckInterval: Duration, giveUpAfter: Duration): number {
  const checks = Math.ceil(giveUpAfter.toSeconds() / recheckInterval.toSeconds()) + 1;
  return (
    checks * VERIFICATION_CYCLES_PER_CHECK * HISTORY_EVENTS_PER_VERIFICATION_CYCLE +
    VERIFICATION_EMAILS * HISTORY_EVENTS_PER_EMAIL_DELIVERY
  );
}

/** The least time a step is retried through transient trouble before its Catch decides. */
export const MIN_TRANSIENT_RETRY = Duration.hours(72);

/** How every workflow step retries what can clear by itself: capped exponential backoff with full jitter. */
export interface TransientRetryPolicy {
  readonly interval: Duration;
  readonly backoffRate: number;
  readonly maxDelay: Duration;
  readonly maxAttempts: number;
}

/**
 * Twilio 5xx/429/timeouts, AWS throttling and outages, Lambda errors, crashes and timeouts, anything unexpected:
 * 2 s, 4 s, 8 s, … capped at 15 min, each wait drawn from [0, cap] (full jitter, so a thousand ports failing together
 * do not come back together), 700 retries: about 86 hours, at least 78 (see {@link transientRetrySpan}), and 2,100
 * history events.
 */
export const TRANSIENT_RETRY: TransientRetryPolicy = {
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxDelay: Duration.minutes(15),
  maxAttempts: 700,
};

/**
 * How long a step is retried with `policy`: the expected time, and a floor that the sum of its full-jitter waits
 * (each uniform in [0, backoff]) falls below with a probability under 1 in 30,000 (four standard deviations).
 */
export function transientRetrySpan(policy: TransientRetryPolicy): { expectedSeconds: number; floorSeconds: number } {
  let mean = 0;
  let variance = 0;
  for (let attempt = 0; attempt < policy.maxAttempts; attempt += 1) {
    const cap = Math.min(policy.maxDelay.toSeconds(), policy.interval.toSeconds() * policy.backoffRate ** attempt);
    mean += cap / 2;
    variance += (cap * cap) / 12;
  }
  return { expectedSeconds: mean, floorSeconds: mean - 4 * Math.sqrt(variance) };
}

/** The history events one step retried to its last attempt adds. */
export function retryHistoryEvents(policy: TransientRetryPolicy): number {
  return policy.maxAttempts * HISTORY_EVENTS_PER_RETRY;
}

/**
 * Refuses a retry policy that gives up on transient trouble before {@link MIN_TRANSIENT_RETRY}, or whose
 * {@link OUTAGES_BUDGETED} outages would overflow {@link RETRY_HISTORY_BUDGET}.
 */
export function checkTransientRetry(policy: TransientRetryPolicy): void {
  const span = transientRetrySpan(policy);
  if (span.floorSeconds < MIN_TRANSIENT_RETRY.toSeconds()) {
    throw new Error(
      `Steps retry transient failures for about ${Math.round(span.expectedSeconds / 3600)} h (at least ` +
        `${Math.round(span.floorSeconds / 3600)} h): under the ${MIN_TRANSIENT_RETRY.toHours()} h a port must ` +
        'ride out. Allow more attempts or a longer maximum delay.',
    );
  }
  const retryEvents = retryHistoryEvents(policy) * OUTAGES_BUDGETED;
  if (retryEvents > RETRY_HISTORY_BUDGET) {
    throw new Error(
      `${OUTAGES_BUDGETED} outages of ${policy.maxAttempts} retries are about ${retryEvents} history events: ` +
        `above the ${RETRY_HISTORY_BUDGET} budget for retries under Step Functions' 25,000-event limit. ` +
        'Allow fewer attempts with a longer maximum delay.',
    );
  }
}

/**
 * The history events polling alone adds to an execution that lives `executionTimeout` and never gets a webhook:
 * what the synth-time check holds against {@link POLLING_HISTORY_BUDGET}.
 */
export function pollingHistoryEvents(pollInterval: Duration, executionTimeout: Duration): number {
  return Math.ceil(executionTimeout.toSeconds() / pollInterval.toSeconds()) * HISTORY_EVENTS_PER_POLL_CYCLE;
}

/** Properties of {@link PortWorkflow}. */
export interface PortWorkflowProps {
  /** The service table. */
  readonly table: dynamodb.Table;
  /** Where Twilio auth tokens live (read by the steps that call Twilio). */
  readonly secrets: TwilioSecrets;
  /** SES identity and configuration set (used by the email delivery step only). */
  readonly notifications: PortInNotifications;
  /** The product's call router, set as imported numbers' voice webhook. */
  readonly callRouterUrl: string;
  /** The poll cadence the product API puts into each execution's input (`$.cadence.pollIntervalSeconds`). */
  readonly pollInterval: Duration;
  /**
   * The settle window after a sync (`WEBHOOK_SETTLE_SECONDS` of SyncPortStatus): a sync woken by a webhook starts
   * at least this long after the one before (SettleWebhooks), so a burst of webhooks costs one sync.
   * @default Duration.seconds(15)
   */
  readonly webhookSettle?: Duration;
  /**
   * Longest a port may stay open before its execution times out.
   * @default Duration.days(120)
   */
  readonly executionTimeout?: Duration;
  /**
   * Age (whole days) past which SyncPortStatus logs, at each sync, that a port is overdue (`PORT_MAX_AGE_DAYS`);
   * `PortInOperations` alarms on that log line. Set below `executionTimeout`, or the execution times out
   * before the alarm could warn.
   * @default Duration.days(45)
   */
  readonly portMaxAge?: Duration;
  /**
   * How steps retry transient failures; checked at synth against {@link MIN_TRANSIENT_RETRY} and the history budget.
   * @default TRANSIENT_RETRY
   */
  readonly transientRetry?: TransientRetryPolicy;
  /**
   * A step retrying longer than this counts PortsDelayed at each retry (`DELAY_ALERT_AFTER_SECONDS`), which
   * `PortInOperations` alarms on.
   * @default Duration.hours(1)
   */
  readonly delayAlertAfter?: Duration;
  /**
   * Verify every ported number (number checks, one test call each) before the "safe to cancel" email. Off: the
   * numbers are SKIPPED and ImportNumbers owes that email, as before verification existed.
   * @default true
   */
  readonly verifyPortedNumbers?: boolean;
  /** How verification times its checks; the re-checks are held against {@link VERIFICATION_HISTORY_BUDGET}. */
  readonly verificationTiming?: VerificationTiming;
}

/** The Lambda functions behind the steps of {@link PortWorkflow}. */
export interface PortWorkflowFunctions {
  readonly submitPortIn: ServiceFunction;
  readonly waitForPortUpdate: ServiceFunction;
  readonly syncPortStatus: ServiceFunction;
  readonly deliverEmails: ServiceFunction;
  readonly importNumbers: ServiceFunction;
  readonly markFailed: ServiceFunction;
  /** Absent when the deployment does not verify ported numbers. */
  readonly verifyNumbers?: ServiceFunction;
}

/**
 * The port workflow: one Standard execution per port request (named after it) that submits the port-in, waits
 * for Twilio's webhooks (or polls when they do not come), mails the customer at each step, and imports the
 * numbers once ported. JSONPath only; see docs/ARCHITECTURE.md "State machine".
 */
export class PortWorkflow extends Construct {
  /** The Standard state machine. */
  readonly stateMachine: sfn.StateMachine;
  /** The Lambda functions behind the steps. */
  readonly functions: PortWorkflowFunctions;

  constructor(scope: Construct, id: string, props: PortWorkflowProps) {
    super(scope, id);
    const executionTimeout = props.executionTimeout ?? Duration.days(120);
    const pollingEvents = pollingHistoryEvents(props.pollInterval, executionTimeout);
    if (pollingEvents > POLLING_HISTORY_BUDGET) {
      const pollCycles = pollingEvents / HISTORY_EVENTS_PER_POLL_CYCLE;
      throw new Error(
        `A poll every ${props.pollInterval.toSeconds()} s for ${executionTimeout.toDays({ integral: false })} days is ${pollCycles} cycles, ` +
          `about ${pollingEvents} history events: above the ${POLLING_HISTORY_BUDGET} ` +
          "budget under Step Functions' 25,000-event limit. Poll less often or shorten the execution timeout.",
      );
    }
    const transientRetry = props.transientRetry ?? TRANSIENT_RETRY;
    checkTransientRetry(transientRetry);
    const verify = props.verifyPortedNumbers ?? true;
    const answerWindow = props.verificationTiming?.answerWindow ?? Duration.minutes(2);
    const recheckInterval = props.verificationTiming?.recheckInterval ?? Duration.minutes(15);
    const giveUpAfter = props.verificationTiming?.giveUpAfter ?? Duration.hours(48);
    const verificationEvents = verificationHistoryEvents(recheckInterval, giveUpAfter);
    if (verify && verificationEvents > VERIFICATION_HISTORY_BUDGET) {
      throw new Error(
        `Re-checking failing numbers every ${recheckInterval.toSeconds()} s for ${giveUpAfter.toHours({ integral: false })} h ` +
          `is about ${verificationEvents} history events: above the ${VERIFICATION_HISTORY_BUDGET} budget for ` +
          "verification under Step Functions' 25,000-event limit. Re-check less often or give up sooner.",
      );
    }

    const { secrets, notifications, table } = props;
    const submitPortIn = new ServiceFunction(this, 'SubmitPortInFunction', {
      entry: 'lambdas/handlers/workflow/submit-port-in.ts',
      description: 'Submits a port request to Twilio as a port-in request',
      timeout: Duration.seconds(30),
    }).bindTable(table);
    secrets.grantRead(submitPortIn);

    const waitForPortUpdate = new ServiceFunction(this, 'WaitForPortUpdateFunction', {
      entry: 'lambdas/handlers/workflow/wait-for-port-update.ts',
      description: 'Stores the task token a Twilio webhook will complete; completes it at once if a wake came first',
      timeout: Duration.seconds(15),
    }).bindTable(table);

    const syncPortStatus = new ServiceFunction(this, 'SyncPortStatusFunction', {
      entry: 'lambdas/handlers/workflow/sync-port-status.ts',
      description: 'Reads the port-in from Twilio and applies forward-only status changes',
      timeout: Duration.seconds(30),
      environment: {
        PORT_MAX_AGE_DAYS: String((props.portMaxAge ?? Duration.days(45)).toDays()),
        WEBHOOK_SETTLE_SECONDS: String((props.webhookSettle ?? Duration.seconds(15)).toSeconds()),
      },
    }).bindTable(table);
    secrets.grantRead(syncPortStatus);

    const deliverEmails = new ServiceFunction(this, 'DeliverEmailsFunction', {
      entry: 'lambdas/handlers/workflow/deliver-emails.ts',
      description: "Sends the emails in a port request's outbox through SES",
      timeout: Duration.seconds(30),
    }).bindTable(table);
    notifications.grantSend(deliverEmails);

    const importNumbers = new ServiceFunction(this, 'ImportNumbersFunction', {
      entry: 'lambdas/handlers/workflow/import-numbers.ts',
      description: 'Imports ported numbers into the inventory and points them at the call router',
      // Up to 1,000 numbers, one Twilio update each.
      timeout: Duration.minutes(5),
      environment: { CALL_ROUTER_URL: props.callRouterUrl, VERIFY_PORTED_NUMBERS: String(verify) },
    }).bindTable(table);
    secrets.grantRead(importNumbers);

    const verifyNumbers = verify
      ? new ServiceFunction(this, 'VerifyNumbersFunction', {
          entry: 'lambdas/handlers/workflow/verify-numbers.ts',
          description: 'Checks each ported number in Twilio and test-calls it; says how long to wait for the next look',
          // Up to 1,000 numbers: one IncomingPhoneNumbers list, then a test call or a Calls list each.
          timeout: Duration.minutes(2),
          environment: {
            CALL_ROUTER_URL: props.callRouterUrl,
            VERIFY_ANSWER_WINDOW_SECONDS: String(answerWindow.toSeconds()),
            VERIFY_RECHECK_SECONDS: String(recheckInterval.toSeconds()),
            VERIFY_GIVE_UP_AFTER_SECONDS: String(giveUpAfter.toSeconds()),
          },
        }).bindTable(table)
      : undefined;
    if (verifyNumbers) secrets.grantRead(verifyNumbers);

    const markFailed = new ServiceFunction(this, 'MarkFailedFunction', {
      entry: 'lambdas/handlers/workflow/mark-failed.ts',
      description: 'Marks a port request FAILED and queues the failure email',
      timeout: Duration.seconds(15),
    }).bindTable(table);

    this.functions = {
      submitPortIn,
      waitForPortUpdate,
      syncPortStatus,
      deliverEmails,
      importNumbers,
      markFailed,
      ...(verifyNumbers ? { verifyNumbers } : {}),
    };
    const delayAlertAfter = props.delayAlertAfter ?? Duration.hours(1);
    for (const fn of Object.values(this.functions)) {
      fn.addEnvironment('DELAY_ALERT_AFTER_SECONDS', String(delayAlertAfter.toSeconds()));
    }

    const S = PortWorkflowStates;
    // Step Functions uses the first retrier whose errors match, and a retrier that runs out ends the retries: so there
    // are two. What no retry can fix (Twilio refusing the port-in's content) is not retried (MaxAttempts 0); anything
    // else (Twilio or AWS unavailable or throttling, a Lambda error, crash or timeout, a bug) is transient and retried
    // for at least 72 hours. The steps note the delay themselves from $$.State (see `attempt` below).
    const notRetried: sfn.RetryProps = { errors: [...NotRetriedErrorNames], maxAttempts: 0 };
    const transient = (errors: string[]): sfn.RetryProps => ({
      errors,
      interval: transientRetry.interval,
      backoffRate: transientRetry.backoffRate,
      maxDelay: transientRetry.maxDelay,
      maxAttempts: transientRetry.maxAttempts,
      jitterStrategy: sfn.JitterType.FULL,
    });
    // What each attempt tells its step, from the context object: which state, which retry, since when.
    const attempt = {
      state: sfn.JsonPath.stringAt('$$.State.Name'),
      retryCount: sfn.JsonPath.numberAt('$$.State.RetryCount'),
      enteredTime: sfn.JsonPath.stringAt('$$.State.EnteredTime'),
    };

    /**
     * A request-response Lambda step: Resource is the function ARN, the whole state is the payload and the
     * function's return value lands at `resultPath`. The task times out a little after the function would.
     */
    const step = (
      stateName: string,
      fn: ServiceFunction,
      resultPath: string | typeof sfn.JsonPath.DISCARD,
    ): tasks.LambdaInvoke => {
      const task = new tasks.LambdaInvoke(this, stateName, {
        lambdaFunction: fn,
        payloadResponseOnly: true,
        // The state input as it is, and the attempt (StepEvent in lambdas/shared/workflow-contract.ts).
        payload: sfn.TaskInput.fromObject({ input: sfn.JsonPath.entirePayload, attempt }),
        // Added below from the shared error names, so the retried list is ours, not the library's default.
        retryOnServiceExceptions: false,
        resultPath,
        taskTimeout: sfn.Timeout.duration(fn.timeout ? fn.timeout.plus(Duration.seconds(10)) : Duration.minutes(1)),
      });
      // States.ALL covers the task's own timeout too (a function that hung is retried like one that crashed).
      task.addRetry(notRetried);
      task.addRetry(transient([sfn.Errors.ALL]));
      return task;
    };

    /**
     * What a step whose retries ran out (days of an outage) does next when no later state picks the work up: wait a
     * poll interval and run it again. A transient cause never ends a port.
     */
    const retriedAfterOutage = (task: tasks.LambdaInvoke, waitName: string): void => {
      const wait = new sfn.Wait(this, waitName, {
        time: sfn.WaitTime.secondsPath('$.cadence.pollIntervalSeconds'),
        comment: `${task.id} ran out of retries: try it again`,
      });
      wait.next(task);
      task.addCatch(wait, { errors: [sfn.Errors.ALL], resultPath: '$.stepError' });
    };

    const portCompleted = new sfn.Succeed(this, S.PortCompleted, { comment: 'Ported, imported, customer told' });
    const portEnded = new sfn.Succeed(this, S.PortEnded, { comment: 'Canceled or expired in Twilio' });
    const portFailed = new sfn.Fail(this, S.PortFailed, {
      error: 'PortInFailed',
      cause: 'The port-in could not be submitted; the port request is FAILED and the customer was told.',
    });

    const deliverFailureEmails = step(S.DeliverFailureEmails, deliverEmails, sfn.JsonPath.DISCARD);
    retriedAfterOutage(deliverFailureEmails, S.WaitToRetryDeliverFailureEmails);
    const markFailedStep = step(S.MarkFailed, markFailed, '$.sync');
    retriedAfterOutage(markFailedStep, S.WaitToRetryMarkFailed);
    markFailedStep.next(deliverFailureEmails).next(portFailed);

    const submitPortInStep = step(S.SubmitPortIn, submitPortIn, '$.sync');
    // FAILED only when Twilio refuses the port-in's content; an outage, however long, is retried.
    submitPortInStep.addCatch(markFailedStep, { errors: [...NotRetriedErrorNames], resultPath: '$.error' });
    retriedAfterOutage(submitPortInStep, S.WaitToRetrySubmitPortIn);

    const deliverEmailsStep = step(S.DeliverEmails, deliverEmails, sfn.JsonPath.DISCARD);
    const syncPortStatusStep = step(S.SyncPortStatus, syncPortStatus, '$.sync');
    const importNumbersStep = step(S.ImportNumbers, importNumbers, '$.import');
    const deliverCompletionEmails = step(S.DeliverCompletionEmails, deliverEmails, sfn.JsonPath.DISCARD);

    const waitForPortUpdateStep = new tasks.LambdaInvoke(this, S.WaitForPortUpdate, {
      lambdaFunction: waitForPortUpdate,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        input: {
          token: sfn.JsonPath.taskToken,
          accountId: sfn.JsonPath.stringAt('$.accountId'),
          portRequestId: sfn.JsonPath.stringAt('$.portRequestId'),
        },
        attempt,
      }),
      resultPath: '$.wake',
      // The wait for a webhook is the poll cadence: when it runs out, SyncPortStatus reads Twilio anyway.
      taskTimeout: sfn.Timeout.at('$.cadence.pollIntervalSeconds'),
      retryOnServiceExceptions: false,
    });
    // States.TaskFailed does not match the States.Timeout of the poll cadence, caught below with what else ends the
    // wait (its function failing past its retries): SyncPortStatus reads Twilio either way.
    waitForPortUpdateStep.addRetry(transient([UnexpectedTaskErrorName]));
    waitForPortUpdateStep.addCatch(syncPortStatusStep, { errors: [sfn.Errors.ALL], resultPath: '$.wake' });

    const status = '$.sync.status';
    // The MANUAL route waits before any step has written $.sync, and a Choice rule on a missing path is a runtime
    // error: every rule checks presence first.
    const statusIn = (...values: [string, ...string[]]): sfn.Condition => {
      const equals = values.map((value) => sfn.Condition.stringEquals(status, value));
      return sfn.Condition.and(
        sfn.Condition.isPresent(status),
        equals.length === 1 && equals[0] ? equals[0] : sfn.Condition.or(...equals),
      );
    };
    const emailsPending = '$.sync.emailsPending';
    // The ending emails ("canceled", "expired") go out before the execution ends.
    const deliverClosingEmails = step(S.DeliverClosingEmails, deliverEmails, sfn.JsonPath.DISCARD);
    // A cycle owing no email goes straight back to waiting: WaitForPortUpdate, SyncPortStatus, IsPortFinished,
    // three transitions (Step Functions bills each one). DeliverCompletionEmails and DeliverClosingEmails send the
    // whole outbox, so an email owed when the port finishes goes out there.
    // After the import: verify the numbers (when the deployment does), then the "safe to cancel" email.
    const afterImport = verifyNumbers
      ? this.verification(verifyNumbers, step, deliverEmails, deliverCompletionEmails.next(portCompleted))
      : deliverCompletionEmails.next(portCompleted);
    const isPortFinished = new sfn.Choice(this, S.IsPortFinished)
      .when(statusIn('COMPLETED'), importNumbersStep.next(afterImport))
      // FAILED is terminal too; should a sync ever report it, end rather than wait out the execution timeout.
      .when(statusIn('CANCELED', 'EXPIRED', 'FAILED'), deliverClosingEmails.next(portEnded))
      .when(
        sfn.Condition.and(sfn.Condition.isPresent(emailsPending), sfn.Condition.booleanEquals(emailsPending, true)),
        deliverEmailsStep,
      )
      .otherwise(waitForPortUpdateStep);

    // A step that still fails after its retries (Twilio or SES down for days) must not end an open port: go back to
    // waiting. The outbox keeps unsent emails and imports are idempotent, so the next cycle finishes the work (a
    // terminal port's WaitForPortUpdate completes at once, and its sync leads back to DeliverClosingEmails);
    // a port stuck this way shows up on the max-age alarm.
    for (const recoverable of [
      syncPortStatusStep,
      deliverEmailsStep,
      importNumbersStep,
      deliverCompletionEmails,
      deliverClosingEmails,
    ]) {
      recoverable.addCatch(waitForPortUpdateStep, { errors: [sfn.Errors.ALL], resultPath: '$.stepError' });
    }

    // Submission queues the "submitted" email; a port canceled while it was submitted ends here too.
    submitPortInStep.next(isPortFinished);
    // A wake (SendTaskSuccess) goes through SettleWebhooks: a webhook's sync starts no earlier than the settle window
    // after the last sync ($.wake.syncNotBefore, PortWake in lambdas/domain/port-request.ts), so the rest of a burst
    // of webhooks is read by that one sync; a cancel or correction is not held. A poll (the caught timeout) goes to
    // SyncPortStatus directly, so a quiet poll cycle costs no more. Every completer of the token writes the field;
    // running executions keep the definition they started with, so none of them ever reaches this state without it.
    const settleWebhooks = new sfn.Wait(this, S.SettleWebhooks, {
      time: sfn.WaitTime.timestampPath('$.wake.syncNotBefore'),
      comment: 'Lets a burst of Twilio webhooks settle: one sync reads them all',
    });
    waitForPortUpdateStep.next(settleWebhooks).next(syncPortStatusStep);
    syncPortStatusStep.next(isPortFinished);
    deliverEmailsStep.next(waitForPortUpdateStep);

    const routeByKind = new sfn.Choice(this, S.RouteByKind)
      // MANUAL (toll-free) ports are done by hand in Twilio's console; their instructions email is queued already.
      .when(sfn.Condition.stringEquals('$.route', 'MANUAL'), deliverEmailsStep)
      .otherwise(submitPortInStep);

    const stack = Stack.of(this);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      // The /aws/vendedlogs/ prefix keeps Step Functions from growing the account's CloudWatch Logs resource
      // policy, which has a small size limit.
      logGroupName: `/aws/vendedlogs/states/${stack.stackName}-port-workflow`,
      retention: logs.RetentionDays.SIX_MONTHS,
      // A named log group kept after the stack is gone would make re-creating the stack fail; these logs hold
      // no execution data, and each port's history is in its item's timeline.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      comment: 'Ports one port request into the customer Twilio account and imports its numbers',
      definitionBody: sfn.DefinitionBody.fromChainable(routeByKind),
      timeout: executionTimeout,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });

    // WaitForPortUpdate completes its own token when a webhook came before the token was stored. Its default
    // policy cannot name the state machine (function -> default policy -> state machine -> function is a
    // cycle), so the grant is a separate policy the function does not depend on.
    new iam.Policy(this, 'WaitForPortUpdateTaskResponsePolicy', {
      roles: [waitForPortUpdate.role as iam.IRole],
      statements: [
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: [this.stateMachine.stateMachineArn],
        }),
      ],
    });
  }

  /**
   * VerifyNumbers and its loop: the step checks and test-calls the numbers and answers how long to wait; the state
   * machine waits (WaitToVerifyNumbers), not the Lambda. Finished (all verified, or re-checks given up) goes on to
   * `completion`, which delivers the outbox ("safe to cancel", or "what to do"). An email owed on the way (the
   * "not reaching yet" one) goes out before the wait. A step out of retries waits a poll interval and runs again.
   */
  private verification(
    fn: ServiceFunction,
    step: (
      stateName: string,
      fn: ServiceFunction,
      resultPath: string | typeof sfn.JsonPath.DISCARD,
    ) => tasks.LambdaInvoke,
    deliverEmails: ServiceFunction,
    completion: sfn.IChainable,
  ): sfn.IChainable {
    const S = PortWorkflowStates;
    const verifyStep = step(S.VerifyNumbers, fn, '$.verify');
    const retryVerify = new sfn.Wait(this, S.WaitToRetryVerifyNumbers, {
      time: sfn.WaitTime.secondsPath('$.cadence.pollIntervalSeconds'),
      comment: 'VerifyNumbers ran out of retries: try it again',
    });
    retryVerify.next(verifyStep);
    verifyStep.addCatch(retryVerify, { errors: [sfn.Errors.ALL], resultPath: '$.stepError' });
    const waitToVerify = new sfn.Wait(this, S.WaitToVerifyNumbers, {
      time: sfn.WaitTime.secondsPath('$.verify.waitSeconds'),
      comment: "Until the test calls' answer window ends, or the next check of the numbers that failed",
    });
    waitToVerify.next(verifyStep);
    const deliverVerificationEmails = step(S.DeliverVerificationEmails, deliverEmails, sfn.JsonPath.DISCARD);
    deliverVerificationEmails.addCatch(waitToVerify, { errors: [sfn.Errors.ALL], resultPath: '$.stepError' });
    deliverVerificationEmails.next(waitToVerify);
    verifyStep.next(
      new sfn.Choice(this, S.IsVerificationDone)
        .when(sfn.Condition.booleanEquals('$.verify.finished', true), completion)
        .when(sfn.Condition.booleanEquals('$.verify.emailsPending', true), deliverVerificationEmails)
        .otherwise(waitToVerify),
    );
    return verifyStep;
  }

  /** Lets the function start port executions and tells it the state machine (`STATE_MACHINE_ARN`). */
  grantStartExecution(fn: ServiceFunction): void {
    this.stateMachine.grants.startExecution(fn);
    fn.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
  }

  /** Lets the function complete WaitForPortUpdate's task tokens (SendTaskSuccess/Failure/Heartbeat). */
  grantTaskResponse(fn: ServiceFunction): void {
    this.stateMachine.grants.taskResponse(fn);
  }
}
