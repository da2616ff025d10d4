import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Construct } from 'constructs';
import { type PortInConfig, portInConfigFromContext } from './config';
import { PortInApi } from './constructs/api';
import { PortInData } from './constructs/data';
import { EmailSendConfirmations } from './constructs/email-confirmations';
import { PortInNotifications } from './constructs/notifications';
import { PortInOperations } from './constructs/operations';
import { TwilioSecrets } from './constructs/secrets';
import { DocumentUploads } from './constructs/uploads';
import { PortWorkflow } from './constructs/workflow';
import { WorkflowStartSweeper } from './constructs/workflow-start-sweeper';

/** The stack's name in every environment; the local stack finds the template by it. */
export const PORT_IN_STACK_NAME = 'RingTonicPortIn';

/** Properties of {@link PortInStack}. */
export interface PortInStackProps extends StackProps {
  /**
   * The service configuration.
   * @default - read from CDK context (`cdk.json`, `-c key=value`), see `portInConfigFromContext`
   */
  readonly config?: PortInConfig;
}

/**
 * The Ring Tonic port-in service: data, Twilio secrets, notifications, the port workflow, the API, and the alarms
 * operations watch.
 */
export class PortInStack extends Stack {
  /** The configuration the stack was built with. */
  readonly config: PortInConfig;
  readonly data: PortInData;
  readonly secrets: TwilioSecrets;
  readonly documentUploads: DocumentUploads;
  readonly notifications: PortInNotifications;
  readonly workflow: PortWorkflow;
  readonly api: PortInApi;
  readonly workflowStartSweeper: WorkflowStartSweeper;
  readonly emailConfirmations: EmailSendConfirmations;
  readonly operations: PortInOperations;

  constructor(scope: Construct, id: string, props: PortInStackProps = {}) {
    super(scope, id, props);
    const config = props.config ?? portInConfigFromContext(this.node);
    this.config = config;
    const pollInterval = Duration.seconds(config.pollIntervalSeconds);

    this.data = new PortInData(this, 'Data');
    this.secrets = new TwilioSecrets(this, 'TwilioSecrets', { namePrefix: config.twilioSecretPrefix });
    this.documentUploads = new DocumentUploads(this, 'DocumentUploads');
    this.notifications = new PortInNotifications(this, 'Notifications', {
      senderEmail: config.senderEmail,
      configurationSetName: config.sesConfigurationSetName || undefined,
    });
    this.workflow = new PortWorkflow(this, 'PortWorkflow', {
      table: this.data.table,
      secrets: this.secrets,
      notifications: this.notifications,
      callRouterUrl: config.callRouterUrl,
      pollInterval,
      webhookSettle: Duration.seconds(config.webhookSettleSeconds),
      executionTimeout: Duration.seconds(config.workflowTimeoutSeconds),
      portMaxAge: Duration.days(config.portMaxAgeDays),
      verifyPortedNumbers: config.verifyPortedNumbers,
    });
    this.api = new PortInApi(this, 'Api', {
      table: this.data.table,
      secrets: this.secrets,
      documentUploads: this.documentUploads,
      workflow: this.workflow,
      publicBaseUrl: config.publicBaseUrl,
      callRouterUrl: config.callRouterUrl,
      pollInterval,
      reminderInterval: Duration.seconds(config.reminderIntervalSeconds),
    });
    this.workflowStartSweeper = new WorkflowStartSweeper(this, 'WorkflowStartSweeper', {
      table: this.data.table,
      workflow: this.workflow,
      pollInterval,
      reminderInterval: Duration.seconds(config.reminderIntervalSeconds),
    });
    this.emailConfirmations = new EmailSendConfirmations(this, 'EmailConfirmations', {
      table: this.data.table,
      notifications: this.notifications,
      senders: [this.workflow.functions.deliverEmails],
    });

    this.operations = new PortInOperations(this, 'Operations', {
      workflow: this.workflow,
      alarmEmail: config.alarmEmail || undefined,
    });
    const notify = new cloudwatchActions.SnsAction(this.operations.alarmTopic);
    this.workflowStartSweeper.startsFailingAlarm.addAlarmAction(notify);
    this.workflowStartSweeper.sweeperFailingAlarm.addAlarmAction(notify);

    new CfnOutput(this, 'ApiUrl', { value: this.api.restApi.url, description: 'Base URL of the port-in API' });
    new CfnOutput(this, 'PublicBaseUrl', {
      value: this.api.publicBaseUrl,
      description: 'URL Twilio webhooks are configured under',
    });
    new CfnOutput(this, 'ProductApiInvokePolicyArn', {
      value: this.api.invokePolicy.managedPolicyArn,
      description: "Attach to the main product's role: execute-api:Invoke on /v1/accounts/*",
    });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
    new CfnOutput(this, 'UploadsBucketName', {
      value: this.documentUploads.bucket.bucketName,
      description: 'S3 bucket of presigned document uploads (objects expire after a day)',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.operations.alarmTopic.topicArn,
      description: 'SNS topic every operations alarm notifies',
    });
  }
}
