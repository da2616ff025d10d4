import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import type { PortInNotifications } from './notifications';
import { ServiceFunction } from './service-function';

/** Properties of {@link EmailSendConfirmations}. */
export interface EmailSendConfirmationsProps {
  /** The service table, whose port requests hold the outboxes. */
  readonly table: dynamodb.Table;
  /** The configuration set every customer email goes through. */
  readonly notifications: PortInNotifications;
  /** The functions that send the outboxes (DeliverEmails): they are told the confirmation window. */
  readonly senders: readonly ServiceFunction[];
  /**
   * How long after handing an email to SES its Send event may still come; an email whose sender died before SES
   * answered is sent again only past it.
   * @default Duration.minutes(10)
   */
  readonly confirmationWindow?: Duration;
}

/**
 * How each customer email goes out exactly once although SendEmail has no idempotency token: the configuration set
 * publishes SES's Send events to EventBridge's default bus, and a rule runs ConfirmEmailSentFunction on each, which
 * marks the tagged outbox entry sent. A DeliverEmails invocation that died between SES taking an email and marking
 * it leaves the entry claimed; the next one waits for this confirmation instead of sending again
 * (lambdas/use-cases/workflow/deliver-emails.ts).
 */
export class EmailSendConfirmations extends Construct {
  /** Marks the outbox entry of each email SES took. */
  readonly function: ServiceFunction;
  /** The configuration set's Send events, to EventBridge. */
  readonly eventDestination: ses.ConfigurationSetEventDestination;
  /** Routes the configuration set's Send events to the function. */
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: EmailSendConfirmationsProps) {
    super(scope, id);
    const window = props.confirmationWindow ?? Duration.minutes(10);
    const configurationSetName = props.notifications.configurationSet.configurationSetName;

    this.function = new ServiceFunction(this, 'ConfirmEmailSentFunction', {
      entry: 'lambdas/handlers/events/email-sent.ts',
      description: 'Marks an outbox email sent when SES reports it took it (its Send event)',
      timeout: Duration.seconds(10),
    }).bindTable(props.table);
    // Lambda's asynchronous retries (1 and 2 minutes later) cover a DynamoDB hiccup; an event still not applied
    // after them leaves the email claimed, and DeliverEmails sends it again when the window passes.
    this.function.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1) });

    // SES publishes to the account's default bus only.
    const defaultBus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.eventDestination = new ses.ConfigurationSetEventDestination(this, 'SendEvents', {
      configurationSet: props.notifications.configurationSet,
      destination: ses.EventDestination.eventBus(defaultBus),
      events: [ses.EmailSendingEvent.SEND],
    });
    this.rule = new events.Rule(this, 'EmailSentRule', {
      description: 'Runs ConfirmEmailSentFunction on the Send events of the port emails',
      eventPattern: {
        source: ['aws.ses'],
        detailType: ['Email Sent'],
        // SES tags every email with its configuration set.
        detail: { mail: { tags: { 'ses:configuration-set': [configurationSetName] } } },
      },
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 185, maxEventAge: Duration.hours(24) })],
    });

    for (const sender of props.senders) {
      sender.addEnvironment('EMAIL_CONFIRMATION_WINDOW_SECONDS', String(window.toSeconds()));
    }
  }
}
