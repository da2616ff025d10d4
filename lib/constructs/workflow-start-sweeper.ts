import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE, MetricNames, SERVICE_NAME } from '../../lambdas/shared/metric-names';
import { WorkflowStartsPendingIndex } from '../../lambdas/shared/table-layout';
import { ServiceFunction } from './service-function';
import type { PortWorkflow } from './workflow';

/** Properties of {@link WorkflowStartSweeper}. */
export interface WorkflowStartSweeperProps {
  /** The service table, with its pending-starts index (lib/constructs/data.ts). */
  readonly table: dynamodb.Table;
  /** The port workflow whose executions the sweeper starts. */
  readonly workflow: PortWorkflow;
  /** Poll cadence put into each execution's input: the product API's. */
  readonly pollInterval: Duration;
  /** Reminder cadence put into each execution's input: the product API's. */
  readonly reminderInterval: Duration;
  /**
   * How often the sweeper runs.
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
  /**
   * How long a start must have been pending before the sweeper makes it (younger ones are most likely being made by
   * the API call that wrote the order).
   * @default Duration.minutes(1)
   */
  readonly grace?: Duration;
}

/**
 * The safety net between the API and the workflow: every minute, StartPendingWorkflowsFunction starts the executions
 * of port requests still marked "workflow start pending" (the product API's StartExecution was throttled, or its
 * function died right after writing the order) and clears the marks. One instance at a time (reserved concurrency
 * 1); a run that fails is not retried, the next one a minute later is the retry.
 */
export class WorkflowStartSweeper extends Construct {
  /** Starts the pending executions. */
  readonly function: ServiceFunction;
  /** The schedule that runs it. */
  readonly schedule: events.Rule;
  /** The sweeper could not start some pending execution, run after run. */
  readonly startsFailingAlarm: cloudwatch.Alarm;
  /** The sweeper itself fails, run after run: accepted orders may be waiting for their executions. */
  readonly sweeperFailingAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: WorkflowStartSweeperProps) {
    super(scope, id);
    const interval = props.interval ?? Duration.minutes(1);
    const grace = props.grace ?? Duration.minutes(1);

    this.function = new ServiceFunction(this, 'StartPendingWorkflowsFunction', {
      entry: 'lambdas/handlers/scheduled/start-pending-workflows.ts',
      description: 'Starts the port executions that accepted orders still lack (throttled starts, crashed API calls)',
      // A run stops itself 5 s before this; under a minute, so runs do not pile up behind the one instance.
      timeout: Duration.seconds(50),
      environment: {
        POLL_INTERVAL_SECONDS: String(props.pollInterval.toSeconds()),
        REMINDER_INTERVAL_SECONDS: String(props.reminderInterval.toSeconds()),
        WORKFLOW_START_GRACE_SECONDS: String(grace.toSeconds()),
      },
      // One run at a time: two would only race each other to the same starts.
      reservedConcurrentExecutions: 1,
    });
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });

    // Exactly what the sweep does: query the pending-starts index, clear a mark on the table.
    const { indexName } = WorkflowStartsPendingIndex;
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${props.table.tableArn}/index/${indexName}`],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [props.table.tableArn] }),
    );
    this.function.addEnvironment('TABLE_NAME', props.table.tableName);
    props.workflow.grantStartExecution(this.function);

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Runs StartPendingWorkflowsFunction',
      schedule: events.Schedule.rate(interval),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });

    // Three runs' worth of 5-minute periods in a row: a brief throttling of Step Functions pages nobody.
    const sustained = {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    const period = { statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) };
    this.startsFailingAlarm = new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: MetricNames.WorkflowStartsFailed,
      dimensionsMap: { service: SERVICE_NAME },
      ...period,
    }).createAlarm(this, 'WorkflowStartsFailedAlarm', {
      alarmDescription:
        'Accepted port requests have no execution: the sweeper fails to start them for 15 minutes. Its log says ' +
        'why ("could not start a pending workflow", with the portRequestId); the port requests carry ' +
        'workflowStartPendingSince until started.',
      ...sustained,
    });
    this.sweeperFailingAlarm = this.function.metricErrors(period).createAlarm(this, 'SweeperErrorsAlarm', {
      alarmDescription:
        'StartPendingWorkflowsFunction has failed for 15 minutes: executions that the product API could not start ' +
        'are not being started. Its log group has the errors.',
      ...sustained,
    });
  }
}
