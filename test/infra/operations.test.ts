import { Match, type Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SERVICE_NAME } from '../../lambdas/shared/metric-names';
import { PORT_IN_METRIC_NAMESPACE, PORT_PAST_MAX_AGE_MESSAGE } from '../../lib/constructs/operations';
import type { PortInStack } from '../../lib/port-in-stack';
import { logicalIdOf, synthesizeStack } from './synth';

let stack: PortInStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthesizeStack());
});

type Resource = { Type: string; Properties: Record<string, unknown> };

function resourcesOf(source: Template, type: string): Array<[string, Resource]> {
  const all = source.toJSON().Resources as Record<string, Resource>;
  return Object.entries(all).filter(([, r]) => r.Type === type);
}

function environmentOf(source: Template, owner: PortInStack, fn: lambda.Function): Record<string, unknown> {
  const resource = (source.toJSON().Resources as Record<string, Resource>)[logicalIdOf(owner, fn)];
  if (!resource) throw new Error(`${fn.node.id} is not in the template`);
  return (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

function alarmNamed(metricName: string): Record<string, unknown> {
  const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').filter(
    ([, r]) => r.Properties.MetricName === metricName,
  );
  expect(alarms).toHaveLength(1);
  return (alarms[0] as [string, Resource])[1].Properties;
}

const alarmTopicRef = () => ({ Ref: stack.getLogicalId(stack.operations.alarmTopic.node.defaultChild as never) });

/**
 * The JSON log line SyncPortStatus writes for an overdue port, as the service's shared Powertools logger formats
 * it. POWERTOOLS_DEV sends it through `console`, where the test can read it; the fields are the same.
 */
function overduePortLogLine(): Record<string, unknown> {
  const previous = process.env.POWERTOOLS_DEV;
  process.env.POWERTOOLS_DEV = 'true';
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    jest.isolateModules(() => {
      const { logger } = require('../../lambdas/shared/logger') as typeof import('../../lambdas/shared/logger');
      logger.warn(PORT_PAST_MAX_AGE_MESSAGE, { portRequestId: 'pr-1', ageDays: 46, metric: 'PortPastMaxAge' });
    });
    expect(warn).toHaveBeenCalledTimes(1);
    return JSON.parse(String(warn.mock.calls[0]?.[0])) as Record<string, unknown>;
  } finally {
    warn.mockRestore();
    if (previous === undefined) delete process.env.POWERTOOLS_DEV;
    else process.env.POWERTOOLS_DEV = previous;
  }
}

/** The EMF line the Lambdas' metrics adapter prints for what `record` records (POWERTOOLS_DEV: through console). */
function emfLineOf(
  record: (metrics: import('../../lambdas/use-cases/ports').Metrics) => void,
): Record<string, unknown> {
  const previous = process.env.POWERTOOLS_DEV;
  process.env.POWERTOOLS_DEV = 'true';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    jest.isolateModules(() => {
      const observability =
        require('../../lambdas/adapters/observability/metrics') as typeof import('../../lambdas/adapters/observability/metrics');
      record(observability.metrics);
      observability.powertoolsMetrics.publishStoredMetrics();
    });
    expect(log).toHaveBeenCalledTimes(1);
    return JSON.parse(String(log.mock.calls[0]?.[0])) as Record<string, unknown>;
  } finally {
    log.mockRestore();
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    if (previous === undefined) delete process.env.POWERTOOLS_DEV;
    else process.env.POWERTOOLS_DEV = previous;
  }
}

describe('ports past their maximum age', () => {
  it('tells SyncPortStatus the maximum age in days, 45 by default and from context portMaxAgeDays', () => {
    expect(environmentOf(template, stack, stack.workflow.functions.syncPortStatus)).toMatchObject({
      PORT_MAX_AGE_DAYS: '45',
    });
    // `cdk deploy -c portMaxAgeDays=30` passes a string.
    const custom = synthesizeStack({ portMaxAgeDays: '30' });
    expect(environmentOf(custom.template, custom.stack, custom.stack.workflow.functions.syncPortStatus)).toMatchObject({
      PORT_MAX_AGE_DAYS: '30',
    });
  });

  it.each([[0], [-1], [1.5], ['forty'], [366]])('refuses portMaxAgeDays %j at synth time', (value) => {
    expect(() => synthesizeStack({ portMaxAgeDays: value })).toThrow(/portMaxAgeDays/);
  });

  it("counts SyncPortStatus's overdue-port log lines as RingTonic/PortIn PortsPastMaxAge", () => {
    const filters = resourcesOf(template, 'AWS::Logs::MetricFilter');
    expect(filters).toHaveLength(1);
    const syncLogGroup = stack.getLogicalId(
      stack.workflow.functions.syncPortStatus.logGroup.node.defaultChild as never,
    );
    expect(filters[0]?.[1].Properties).toEqual({
      LogGroupName: { Ref: syncLogGroup },
      FilterPattern: '{ $.message = "port request past its maximum age" }',
      MetricTransformations: [
        { MetricNamespace: 'RingTonic/PortIn', MetricName: 'PortsPastMaxAge', MetricValue: '1', Unit: 'Count' },
      ],
    });
  });

  it("matches the line the service's logger writes: message at the top of the JSON, level WARN", () => {
    const line = overduePortLogLine();
    const pattern = resourcesOf(template, 'AWS::Logs::MetricFilter')[0]?.[1].Properties.FilterPattern as string;
    const [, field, value] = /^\{ \$\.(\w+) = "([^"]*)" \}$/.exec(pattern) ?? [];
    expect(field).toBeDefined();
    expect(line[field as string]).toBe(value);
    expect(line).toMatchObject({ level: 'WARN', portRequestId: 'pr-1', ageDays: 46, metric: 'PortPastMaxAge' });
  });

  it('alarms from the first overdue line in an hour, and is quiet (not breaching) without any', () => {
    expect(alarmNamed('PortsPastMaxAge')).toMatchObject({
      Namespace: PORT_IN_METRIC_NAMESPACE,
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [alarmTopicRef()],
    });
  });
});

describe('port executions', () => {
  it.each([['ExecutionsFailed'], ['ExecutionsTimedOut']])(
    'alarms on the first %s of the port state machine',
    (metricName) => {
      const stateMachine = stack.getLogicalId(stack.workflow.stateMachine.node.defaultChild as never);
      expect(alarmNamed(metricName)).toMatchObject({
        Namespace: 'AWS/States',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachine } }],
        Statistic: 'Sum',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [alarmTopicRef()],
      });
    },
  );
});

describe('dead letters', () => {
  it('alarms on the first DeadLetters the Lambdas publish (EMF, dimension service) in 5 minutes', () => {
    expect(alarmNamed('DeadLetters')).toEqual(
      expect.objectContaining({
        Namespace: PORT_IN_METRIC_NAMESPACE,
        MetricName: 'DeadLetters',
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [alarmTopicRef()],
      }),
    );
  });

  it('watches the metric name, namespace and dimension the Lambdas emit', () => {
    const emitted = emfLineOf((metrics) => metrics.count('DeadLetters'));
    const directive = (emitted._aws as { CloudWatchMetrics: Array<Record<string, unknown>> }).CloudWatchMetrics[0];
    const alarm = alarmNamed('DeadLetters');
    expect(directive).toEqual({
      Namespace: alarm.Namespace,
      Dimensions: [['service']],
      Metrics: [{ Name: alarm.MetricName, Unit: 'Count' }],
    });
    expect(emitted.service).toBe((alarm.Dimensions as Array<{ Value: string }>)[0]?.Value);
    expect(emitted.DeadLetters).toBe(1);
  });
});

describe('delayed ports', () => {
  it('alarms when a step of a port delayed for over an hour retries (PortsDelayed, EMF) within 30 minutes', () => {
    expect(alarmNamed('PortsDelayed')).toEqual(
      expect.objectContaining({
        Namespace: PORT_IN_METRIC_NAMESPACE,
        MetricName: 'PortsDelayed',
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Statistic: 'Sum',
        Period: 1800,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [alarmTopicRef()],
      }),
    );
  });

  it('watches the metric the steps emit, with the one-hour threshold the workflow functions are given', () => {
    const emitted = emfLineOf((metrics) => metrics.count('PortsDelayed'));
    const directive = (emitted._aws as { CloudWatchMetrics: Array<Record<string, unknown>> }).CloudWatchMetrics[0];
    expect(directive).toMatchObject({ Namespace: PORT_IN_METRIC_NAMESPACE, Metrics: [{ Name: 'PortsDelayed' }] });
    for (const fn of Object.values(stack.workflow.functions)) {
      expect({ fn: fn.node.id, after: environmentOf(template, stack, fn).DELAY_ALERT_AFTER_SECONDS }).toEqual({
        fn: fn.node.id,
        after: '3600',
      });
    }
  });
});

describe('numbers that never pass their verification', () => {
  it('alarms on the first NumbersVerificationGaveUp (EMF, dimension service) in an hour', () => {
    expect(alarmNamed('NumbersVerificationGaveUp')).toEqual(
      expect.objectContaining({
        Namespace: PORT_IN_METRIC_NAMESPACE,
        MetricName: 'NumbersVerificationGaveUp',
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [alarmTopicRef()],
      }),
    );
  });

  it('watches the metric VerifyNumbers emits', () => {
    const emitted = emfLineOf((metrics) => metrics.count('NumbersVerificationGaveUp'));
    const directive = (emitted._aws as { CloudWatchMetrics: Array<Record<string, unknown>> }).CloudWatchMetrics[0];
    expect(directive).toMatchObject({
      Namespace: PORT_IN_METRIC_NAMESPACE,
      Metrics: [{ Name: 'NumbersVerificationGaveUp' }],
    });
  });
});

describe('every alarm', () => {
  it('is one of the six above, or one of the sweeper’s two (test/infra/workflow-start-sweeper.test.ts)', () => {
    expect(
      resourcesOf(template, 'AWS::CloudWatch::Alarm')
        .map(([, r]) => r.Properties.MetricName)
        .sort(),
    ).toEqual([
      'DeadLetters',
      'Errors',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'NumbersVerificationGaveUp',
      'PortsDelayed',
      'PortsPastMaxAge',
      'WorkflowStartsFailed',
    ]);
  });
});

describe('alarm topic', () => {
  it('is encrypted with a rotated key, refuses publishing without TLS, and lets only this account’s alarms publish', () => {
    const key = stack.getLogicalId(stack.operations.alarmTopic.masterKey?.node.defaultChild as never);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const fromOurAlarms = {
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Condition: {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', Match.arrayWith([':alarm:*'])] } },
      },
    };
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', ...fromOurAlarms }),
        ]),
      },
    });
    // Publishing to an encrypted topic needs the key too.
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], ...fromOurAlarms }),
        ]),
      },
    });
    template.hasOutput('AlarmTopicArn', { Value: alarmTopicRef() });
  });

  it('subscribes no one by default, and the alarmEmail address when context sets it', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    const custom = synthesizeStack({ alarmEmail: 'oncall@ringtonic.example' }).template;
    custom.resourceCountIs('AWS::SNS::Subscription', 1);
    custom.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@ringtonic.example' });
  });

  it('refuses an alarmEmail that is not an email address', () => {
    expect(() => synthesizeStack({ alarmEmail: 'oncall' })).toThrow(/alarmEmail/);
  });
});
