import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { PortInStack } from '../../lib/port-in-stack';
import { logicalIdOf, permissionsOf, synthesizeStack } from './synth';

// The safety net between the API and the workflow (issue 10, item 2): StartPendingWorkflowsFunction, its schedule,
// its exact permissions and its alarms.

let stack: PortInStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;

beforeAll(() => {
  ({ stack, template } = synthesizeStack());
  resources = template.toJSON().Resources;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const schedules = () => ofType('AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression !== undefined);
const sweeperId = () => logicalIdOf(stack, stack.workflowStartSweeper.function);
const refOf = (construct: { node: { defaultChild?: unknown } }) => ({
  Ref: stack.getLogicalId(construct.node.defaultChild as never),
});

describe('the schedule', () => {
  it('runs the sweeper every minute, with no delivery retry (the next run is the retry)', () => {
    const rules = schedules();
    expect(rules).toHaveLength(1);
    expect(rules[0]?.[1].Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [sweeperId(), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        },
      ],
    });
  });

  it('lets only that rule invoke the sweeper', () => {
    const [ruleId] = schedules()[0] ?? [];
    const permissions = ofType('AWS::Lambda::Permission').filter(
      ([, p]) => JSON.stringify(p.Properties.FunctionName) === JSON.stringify({ 'Fn::GetAtt': [sweeperId(), 'Arn'] }),
    );
    expect(permissions.map(([, p]) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [sweeperId(), 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      },
    ]);
  });
});

describe('the function', () => {
  it('runs one instance at a time, ends well within a minute and is not retried by Lambda', () => {
    const fn = resources[sweeperId()]?.Properties;
    expect(fn).toMatchObject({ ReservedConcurrentExecutions: 1, Timeout: 50 });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: sweeperId() },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('gives executions the product API’s cadence and waits a minute before starting one itself', () => {
    const variables = (name: string) =>
      (resources[name]?.Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    const sweeper = variables(sweeperId());
    const api = variables(logicalIdOf(stack, stack.api.productApiFunction));
    expect(sweeper.WORKFLOW_START_GRACE_SECONDS).toBe('60');
    expect(sweeper.POLL_INTERVAL_SECONDS).toBe(api.POLL_INTERVAL_SECONDS);
    expect(sweeper.REMINDER_INTERVAL_SECONDS).toBe(api.REMINDER_INTERVAL_SECONDS);
    expect(sweeper.STATE_MACHINE_ARN).toEqual(api.STATE_MACHINE_ARN);
    expect(sweeper.TABLE_NAME).toEqual(api.TABLE_NAME);
  });

  it('may query the pending-starts index, clear marks, start port executions, trace and log: nothing else', () => {
    const { permissions, managedPolicyArns } = permissionsOf(stack, template, stack.workflowStartSweeper.function);
    const tableArn = { 'Fn::GetAtt': [stack.getLogicalId(stack.data.table.node.defaultChild as never), 'Arn'] };
    const logGroupArn = {
      'Fn::GetAtt': [
        stack.getLogicalId(stack.workflowStartSweeper.function.logGroup.node.defaultChild as never),
        'Arn',
      ],
    };
    const sorted = permissions.map((p) => `${p.action} ${p.resource}`).sort();
    expect(sorted).toEqual(
      [
        `dynamodb:Query ${JSON.stringify({ 'Fn::Join': ['', [tableArn, '/index/WorkflowStartsPending']] })}`,
        `dynamodb:UpdateItem ${JSON.stringify(tableArn)}`,
        `logs:CreateLogStream ${JSON.stringify(logGroupArn)}`,
        `logs:PutLogEvents ${JSON.stringify(logGroupArn)}`,
        `states:StartExecution ${JSON.stringify(refOf(stack.workflow.stateMachine))}`,
        'xray:PutTelemetryRecords *',
        'xray:PutTraceSegments *',
      ].sort(),
    );
    expect(managedPolicyArns).toEqual([]);
  });

  it('gives the other functions the table’s items but not its index', () => {
    const others = [
      ...Object.values(stack.workflow.functions),
      stack.api.productApiFunction,
      stack.api.twilioWebhookFunction,
    ];
    for (const fn of others) {
      const { permissions } = permissionsOf(stack, template, fn);
      expect({ fn: fn.node.id, index: permissions.filter((p) => p.resource.includes('/index/')) }).toEqual({
        fn: fn.node.id,
        index: [],
      });
    }
  });
});

describe('the alarms', () => {
  const alarmTopic = () => refOf(stack.operations.alarmTopic);

  it('tell operations when pending starts keep failing for 15 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'RingTonic/PortIn',
      MetricName: 'WorkflowStartsFailed',
      Dimensions: [{ Name: 'service', Value: 'port-in' }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [alarmTopic()],
    });
  });

  it('tell operations when the sweeper itself keeps failing for 15 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: sweeperId() } }],
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      AlarmActions: [alarmTopic()],
      AlarmDescription: Match.stringLikeRegexp('StartPendingWorkflowsFunction'),
    });
  });
});
