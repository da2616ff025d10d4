import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  LambdaServiceErrorNames,
  NotRetriedErrorNames,
  UnexpectedTaskErrorName,
  WorkflowErrorNames,
} from '../../lambdas/shared/error-names';
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
/** History events DeliverEmails adds to a cycle that owes an email (a status change, a reminder). */
export const HISTORY_EVENTS_PER_EMAIL_DELIVERY = 5;
/** Share of the 25,000-event limit that polling may use; the rest is for webhook wakes, emails and retries. */
export const POLLING_HISTORY_BUDGET = 12_500;

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
}

/** The Lambda functions behind the steps of {@link PortWorkflow}. */
export interface PortWorkflowFunctions {
  readonly submitPortIn: ServiceFunction;
  readonly waitForPortUpdate: ServiceFunction;
  readonly syncPortStatus: ServiceFunction;
  readonly deliverEmails: ServiceFunction;
  readonly importNumbers: ServiceFunction;
  readonly markFailed: ServiceFunction;
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
      environment: { PORT_MAX_AGE_DAYS: String((props.portMaxAge ?? Duration.days(45)).toDays()) },
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
      environment: { CALL_ROUTER_URL: props.callRouterUrl },
    }).bindTable(table);
    secrets.grantRead(importNumbers);

    const markFailed = new ServiceFunction(this, 'MarkFailedFunction', {
      entry: 'lambdas/handlers/workflow/mark-failed.ts',
      description: 'Marks a port request FAILED and queues the failure email',
      timeout: Duration.seconds(15),
    }).bindTable(table);

    this.functions = { submitPortIn, waitForPortUpdate, syncPortStatus, deliverEmails, importNumbers, markFailed };

    const S = PortWorkflowStates;
    const onTwilioTransient: sfn.RetryProps = {
      errors: [WorkflowErrorNames.TwilioTransient],
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 6,
      maxDelay: Duration.minutes(2),
      jitterStrategy: sfn.JitterType.FULL,
    };
    const onEmailDeliveryFailed: sfn.RetryProps = {
      errors: [WorkflowErrorNames.EmailDeliveryFailed],
      interval: Duration.seconds(10),
      backoffRate: 2,
      maxAttempts: 6,
      maxDelay: Duration.minutes(5),
      jitterStrategy: sfn.JitterType.FULL,
    };
    const onConcurrentUpdate: sfn.RetryProps = {
      errors: [WorkflowErrorNames.ConcurrentUpdate],
      interval: Duration.seconds(1),
      backoffRate: 2,
      maxAttempts: 5,
      jitterStrategy: sfn.JitterType.FULL,
    };
    const onLambdaServiceError: sfn.RetryProps = {
      errors: [...LambdaServiceErrorNames],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 6,
      jitterStrategy: sfn.JitterType.FULL,
    };

    // Step Functions tries a state's retriers in order and uses the first that matches: the named errors above come
    // first, then the errors no retry can fix (MaxAttempts 0, so States.TaskFailed below does not catch them), then
    // anything else a step throws (a bug, a DynamoDB hiccup), retried a few times before the state's Catch.
    const notRetried: sfn.RetryProps = { errors: [...NotRetriedErrorNames], maxAttempts: 0 };
    // Six retries over about two minutes: an overloaded dependency (a DynamoDB or Twilio connection that cannot be
    // opened in time) recovers within that, and SubmitPortIn's Catch would otherwise fail an order that is fine.
    const onUnexpectedError: sfn.RetryProps = {
      errors: [UnexpectedTaskErrorName],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 6,
      maxDelay: Duration.minutes(2),
      jitterStrategy: sfn.JitterType.FULL,
    };
    const lastRetries = [onConcurrentUpdate, onLambdaServiceError, notRetried, onUnexpectedError];

    /**
     * A request-response Lambda step: Resource is the function ARN, the whole state is the payload and the
     * function's return value lands at `resultPath`. The task times out a little after the function would.
     */
    const step = (
      stateName: string,
      fn: ServiceFunction,
      resultPath: string | typeof sfn.JsonPath.DISCARD,
      retries: readonly sfn.RetryProps[],
    ): tasks.LambdaInvoke => {
      const task = new tasks.LambdaInvoke(this, stateName, {
        lambdaFunction: fn,
        payloadResponseOnly: true,
        // Added below from the shared error names, so the retried list is ours, not the library's default.
        retryOnServiceExceptions: false,
        resultPath,
        taskTimeout: sfn.Timeout.duration(fn.timeout ? fn.timeout.plus(Duration.seconds(10)) : Duration.minutes(1)),
      });
      for (const retry of [...retries, ...lastRetries]) task.addRetry(retry);
      return task;
    };

    const portCompleted = new sfn.Succeed(this, S.PortCompleted, { comment: 'Ported, imported, customer told' });
    const portEnded = new sfn.Succeed(this, S.PortEnded, { comment: 'Canceled or expired in Twilio' });
    const portFailed = new sfn.Fail(this, S.PortFailed, {
      error: 'PortInFailed',
      cause: 'The port-in could not be submitted; the port request is FAILED and the customer was told.',
    });

    const deliverFailureEmails = step(S.DeliverFailureEmails, deliverEmails, sfn.JsonPath.DISCARD, [
      onEmailDeliveryFailed,
    ]);
    const markFailedStep = step(S.MarkFailed, markFailed, '$.sync', []);
    markFailedStep.next(deliverFailureEmails).next(portFailed);

    const submitPortInStep = step(S.SubmitPortIn, submitPortIn, '$.sync', [onTwilioTransient]);
    submitPortInStep.addCatch(markFailedStep, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    const deliverEmailsStep = step(S.DeliverEmails, deliverEmails, sfn.JsonPath.DISCARD, [onEmailDeliveryFailed]);
    const syncPortStatusStep = step(S.SyncPortStatus, syncPortStatus, '$.sync', [onTwilioTransient]);
    const importNumbersStep = step(S.ImportNumbers, importNumbers, '$.import', [onTwilioTransient]);
    const deliverCompletionEmails = step(S.DeliverCompletionEmails, deliverEmails, sfn.JsonPath.DISCARD, [
      onEmailDeliveryFailed,
    ]);

    const waitForPortUpdateStep = new tasks.LambdaInvoke(this, S.WaitForPortUpdate, {
      lambdaFunction: waitForPortUpdate,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        token: sfn.JsonPath.taskToken,
        accountId: sfn.JsonPath.stringAt('$.accountId'),
        portRequestId: sfn.JsonPath.stringAt('$.portRequestId'),
      }),
      resultPath: '$.wake',
      // The wait for a webhook is the poll cadence: when it runs out, SyncPortStatus reads Twilio anyway.
      taskTimeout: sfn.Timeout.at('$.cadence.pollIntervalSeconds'),
      retryOnServiceExceptions: false,
    });
    // States.TaskFailed does not match the States.Timeout of the poll cadence, caught below.
    for (const retry of lastRetries) waitForPortUpdateStep.addRetry(retry);
    waitForPortUpdateStep.addCatch(syncPortStatusStep, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.wake' });

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
    const deliverClosingEmails = step(S.DeliverClosingEmails, deliverEmails, sfn.JsonPath.DISCARD, [
      onEmailDeliveryFailed,
    ]);
    // A cycle owing no email goes straight back to waiting: WaitForPortUpdate, SyncPortStatus, IsPortFinished,
    // three transitions (Step Functions bills each one). DeliverCompletionEmails and DeliverClosingEmails send the
    // whole outbox, so an email owed when the port finishes goes out there.
    const isPortFinished = new sfn.Choice(this, S.IsPortFinished)
      .when(statusIn('COMPLETED'), importNumbersStep.next(deliverCompletionEmails).next(portCompleted))
      // FAILED is terminal too; should a sync ever report it, end rather than wait out the execution timeout.
      .when(statusIn('CANCELED', 'EXPIRED', 'FAILED'), deliverClosingEmails.next(portEnded))
      .when(
        sfn.Condition.and(sfn.Condition.isPresent(emailsPending), sfn.Condition.booleanEquals(emailsPending, true)),
        deliverEmailsStep,
      )
      .otherwise(waitForPortUpdateStep);

    // A step that still fails after its retries (Twilio or SES down for long) must not end an open port: go back to
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
    waitForPortUpdateStep.next(syncPortStatusStep);
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
