import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE, MetricNames, SERVICE_NAME } from '../../lambdas/shared/metric-names';
import { PORT_PAST_MAX_AGE_MESSAGE } from '../../lambdas/shared/operations-signals';
import type { PortWorkflow } from './workflow';

/** The CloudWatch namespace of the service's own metrics (the Lambdas' EMF lines and the log metric filter). */
export const PORT_IN_METRIC_NAMESPACE = METRIC_NAMESPACE;

export { PORT_PAST_MAX_AGE_MESSAGE };

/** Properties of {@link PortInOperations}. */
export interface PortInOperationsProps {
  /** The port workflow: its state machine and its SyncPortStatus function's log group are watched. */
  readonly workflow: PortWorkflow;
  /**
   * Address subscribed to the alarm topic (the recipient confirms the subscription by email).
   * @default - no subscription: the topic is there for whatever operations wire to it
   */
  readonly alarmEmail?: string;
}

/**
 * What operations are told about: ports open longer than they should be (from SyncPortStatus's log line), port
 * executions that failed or timed out, and dead letters (what the service accepted but could not act on). Every
 * alarm notifies one SNS topic.
 */
export class PortInOperations extends Construct {
  /** The topic every alarm notifies (encrypted, TLS only). */
  readonly alarmTopic: sns.Topic;
  /** Overdue-port log lines counted per hour (one per sync of each overdue port). */
  readonly portsPastMaxAge: cloudwatch.Metric;
  /** A port request is older than the configured maximum age. */
  readonly portsPastMaxAgeAlarm: cloudwatch.Alarm;
  /** A port execution failed (a port-in Twilio refused ends so too, after the customer was told). */
  readonly executionsFailedAlarm: cloudwatch.Alarm;
  /** A port execution ran into the state machine's timeout: the port was left unfinished. */
  readonly executionsTimedOutAlarm: cloudwatch.Alarm;
  /** Dead letters set aside, summed per 5 minutes (EMF metric of the Lambdas, dimension `service`). */
  readonly deadLetters: cloudwatch.Metric;
  /** Something was dead-lettered: an email SES refused for good, or a signed webhook about an unknown port-in. */
  readonly deadLettersAlarm: cloudwatch.Alarm;
  /** Retries of steps whose port has been delayed past the alert threshold, summed per 30 minutes. */
  readonly portsDelayed: cloudwatch.Metric;
  /** A port has been delayed (a step failing for a transient reason) for more than an hour. */
  readonly portsDelayedAlarm: cloudwatch.Alarm;
  /** Port requests whose numbers still failed their checks after 48 hours of re-checks, summed per hour. */
  readonly numbersVerificationGaveUp: cloudwatch.Metric;
  /** A port request's ported numbers still do not reach Ring Tonic after 48 hours: it is not safe to cancel. */
  readonly numbersVerificationGaveUpAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: PortInOperationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { stateMachine, functions } = props.workflow;

    // Alarm notifications go through a customer managed key: CloudWatch cannot use the AWS managed SNS key.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the port-in operations alarm topic',
      enableKeyRotation: true,
    });
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Ring Tonic port-in alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // Only this account's alarms may publish (no confused deputy through the CloudWatch service principal).
    this.alarmTopic.grantPublish(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      }),
    );
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new cloudwatchActions.SnsAction(this.alarmTopic);

    const filter = new logs.MetricFilter(this, 'PortsPastMaxAgeFilter', {
      logGroup: functions.syncPortStatus.logGroup,
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', PORT_PAST_MAX_AGE_MESSAGE),
      metricNamespace: PORT_IN_METRIC_NAMESPACE,
      metricName: 'PortsPastMaxAge',
      metricValue: '1',
      unit: cloudwatch.Unit.COUNT,
    });
    this.portsPastMaxAge = filter.metric({ statistic: cloudwatch.Stats.SUM, period: Duration.hours(1) });
    this.portsPastMaxAgeAlarm = this.portsPastMaxAge.createAlarm(this, 'PortsPastMaxAgeAlarm', {
      alarmDescription:
        'A port request is older than portMaxAgeDays. SyncPortStatus logs "port request past its maximum age" ' +
        'with its portRequestId at each sync: look it up, and chase the port with Twilio or the customer.',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // The metric exists only while some port is overdue; an hour without a matching log line is healthy.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const executionAlarm = (alarmId: string, metric: cloudwatch.Metric, description: string): cloudwatch.Alarm =>
      metric.createAlarm(this, alarmId, {
        alarmDescription: description,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // Step Functions publishes these only when an execution ends so: no data is no failure.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const period = { statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) };
    this.executionsFailedAlarm = executionAlarm(
      'ExecutionsFailedAlarm',
      stateMachine.metricFailed(period),
      'A port workflow execution failed. Its port request shows why; the execution history shows where.',
    );
    this.executionsTimedOutAlarm = executionAlarm(
      'ExecutionsTimedOutAlarm',
      stateMachine.metricTimedOut(period),
      'A port workflow execution reached the state machine timeout (workflowTimeoutSeconds) with its port unfinished.',
    );

    this.deadLetters = new cloudwatch.Metric({
      namespace: PORT_IN_METRIC_NAMESPACE,
      metricName: MetricNames.DeadLetters,
      // Powertools Metrics publishes every metric with the service name as its one dimension.
      dimensionsMap: { service: SERVICE_NAME },
      ...period,
    });
    this.deadLettersAlarm = this.deadLetters.createAlarm(this, 'DeadLettersAlarm', {
      alarmDescription:
        'Something the service accepted could not be acted on and was set aside. An email SES refused for good: ' +
        'the port request timeline shows EMAIL_DEAD_LETTERED (its outbox entry has the reason). A signed Twilio ' +
        'webhook about a port-in we do not know: a DEAD_LETTER# item of the account in the table (kept 14 days).',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // Emitted only when something is dead-lettered: no data is nothing set aside.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.portsDelayed = new cloudwatch.Metric({
      namespace: PORT_IN_METRIC_NAMESPACE,
      metricName: MetricNames.PortsDelayed,
      dimensionsMap: { service: SERVICE_NAME },
      statistic: cloudwatch.Stats.SUM,
      // Past the hour, a delayed step retries at least every 15 minutes (the backoff's cap): two chances a period.
      period: Duration.minutes(30),
    });
    this.portsDelayedAlarm = this.portsDelayed.createAlarm(this, 'PortsDelayedAlarm', {
      alarmDescription:
        'A port has been delayed for more than an hour: a workflow step keeps failing for a transient reason ' +
        '(Twilio or an AWS service down or throttling, a Lambda crashing). The steps retry for at least 72 hours; ' +
        'the port request timeline has a DELAYED event with the reason, and the step function logs show the errors.',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // Emitted only by retries past the threshold: no data is no port delayed that long.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.numbersVerificationGaveUp = new cloudwatch.Metric({
      namespace: PORT_IN_METRIC_NAMESPACE,
      metricName: MetricNames.NumbersVerificationGaveUp,
      dimensionsMap: { service: SERVICE_NAME },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.hours(1),
    });
    this.numbersVerificationGaveUpAlarm = this.numbersVerificationGaveUp.createAlarm(
      this,
      'NumbersVerificationGaveUpAlarm',
      {
        alarmDescription:
          "A completed port's numbers still do not reach Ring Tonic after 48 hours of test calls (VerifyNumbers): " +
          'the customer was told not to cancel and to contact Twilio support. The port request timeline has ' +
          'NUMBER_VERIFICATION_FAILED events with the reasons; check the numbers in the customer Twilio account.',
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // Emitted only when a port request gives up: no data is none given up.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
    );

    for (const alarm of [
      this.numbersVerificationGaveUpAlarm,
      this.portsDelayedAlarm,
      this.portsPastMaxAgeAlarm,
      this.executionsFailedAlarm,
      this.executionsTimedOutAlarm,
      this.deadLettersAlarm,
    ]) {
      alarm.addAlarmAction(notify);
    }
  }
}
