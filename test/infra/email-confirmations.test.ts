import type { Template } from 'aws-cdk-lib/assertions';
import type { PortInStack } from '../../lib/port-in-stack';
import { logicalIdOf, synthesizeStack } from './synth';

// Exactly-once emails (issue 10): the configuration set's Send events reach ConfirmEmailSentFunction through
// EventBridge, and DeliverEmails is told how long to wait for them.

let stack: PortInStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;

beforeAll(() => {
  ({ stack, template } = synthesizeStack());
  resources = template.toJSON().Resources;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const confirmerId = () => logicalIdOf(stack, stack.emailConfirmations.function);
const configurationSetRef = () => ({
  Ref: stack.getLogicalId(stack.notifications.configurationSet.node.defaultChild as never),
});

it("publishes the configuration set's Send events, and only those, to the default event bus", () => {
  const destinations = ofType('AWS::SES::ConfigurationSetEventDestination');
  expect(destinations).toHaveLength(1);
  expect(destinations[0]?.[1].Properties).toMatchObject({
    ConfigurationSetName: configurationSetRef(),
    EventDestination: {
      Enabled: true,
      MatchingEventTypes: ['send'],
      EventBridgeDestination: {
        EventBusArn: {
          'Fn::Join': ['', expect.arrayContaining([expect.stringMatching(/:event-bus\/default$/)])],
        },
      },
    },
  });
});

it("routes that configuration set's Email Sent events to ConfirmEmailSentFunction, retried for a day", () => {
  const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties.EventPattern !== undefined);
  expect(rules).toHaveLength(1);
  expect(rules[0]?.[1].Properties).toMatchObject({
    State: 'ENABLED',
    EventPattern: {
      source: ['aws.ses'],
      'detail-type': ['Email Sent'],
      detail: { mail: { tags: { 'ses:configuration-set': [configurationSetRef()] } } },
    },
    Targets: [
      {
        Arn: { 'Fn::GetAtt': [confirmerId(), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
      },
    ],
  });
  template.hasResourceProperties('AWS::Lambda::Permission', {
    FunctionName: { 'Fn::GetAtt': [confirmerId(), 'Arn'] },
    Principal: 'events.amazonaws.com',
    SourceArn: { 'Fn::GetAtt': [rules[0]?.[0], 'Arn'] },
  });
});

it('tells DeliverEmails the confirmation window: ten minutes', () => {
  const deliver = resources[logicalIdOf(stack, stack.workflow.functions.deliverEmails)]?.Properties as {
    Environment: { Variables: Record<string, unknown> };
  };
  expect(deliver.Environment.Variables.EMAIL_CONFIRMATION_WINDOW_SECONDS).toBe('600');
});
