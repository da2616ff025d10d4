// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation's ${...} syntax is the subject here.
import { resolveIntrinsics } from '../../local/cloudformation/resolve';
import { type CloudFormationTemplate, synthesizePortInTemplate } from '../../local/cloudformation/synthesize';
import { dynamoTables, lambdaFunctions, stateMachineDefinition } from '../../local/cloudformation/template';

const resolver = {
  ref: (logicalId: string) => `local-${logicalId}`,
  getAtt: (logicalId: string, attribute: string) =>
    `arn:aws:lambda:us-east-1:000000000000:function:${logicalId}#${attribute}`,
};

describe('the synthesized port-in template', () => {
  let template: CloudFormationTemplate;
  beforeAll(() => {
    template = synthesizePortInTemplate();
  });

  it('has no CDK metadata resource or bundled asset the local stack would trip over', () => {
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).not.toContain('AWS::CDK::Metadata');
    expect(types).toContain('AWS::StepFunctions::StateMachine');
  });

  it('lists the eleven service functions with their entries and unresolved environments', () => {
    const functions = lambdaFunctions(template);
    expect(functions.map((f) => f.entry).sort()).toEqual([
      'lambdas/handlers/api/product-api.ts',
      'lambdas/handlers/api/twilio-webhook.ts',
      'lambdas/handlers/events/email-sent.ts',
      'lambdas/handlers/scheduled/start-pending-workflows.ts',
      'lambdas/handlers/workflow/deliver-emails.ts',
      'lambdas/handlers/workflow/import-numbers.ts',
      'lambdas/handlers/workflow/mark-failed.ts',
      'lambdas/handlers/workflow/submit-port-in.ts',
      'lambdas/handlers/workflow/sync-port-status.ts',
      'lambdas/handlers/workflow/verify-numbers.ts',
      'lambdas/handlers/workflow/wait-for-port-update.ts',
    ]);
    const api = functions.find((f) => f.entry.endsWith('product-api.ts'));
    expect(api).toMatchObject({ handlerExport: 'handler', timeoutSeconds: 29, memorySize: 256 });
    expect(api?.environment.TABLE_NAME).toEqual({ Ref: expect.stringMatching(/^DataTable/) });
    const resolved = resolveIntrinsics(api?.environment, resolver) as Record<string, string>;
    expect(resolved.TABLE_NAME).toMatch(/^local-DataTable/);
    expect(resolved.PUBLIC_BASE_URL).toMatch(
      /^https:\/\/local-ApiRestApi\w+\.execute-api\.us-east-1\.amazonaws\.com\/live$/,
    );
  });

  it('gives the CreateTable input for the table, with its index, without TTL, PITR, SSE or streams', () => {
    const [table, ...others] = dynamoTables(template);
    expect(others).toHaveLength(0);
    expect(table?.createTableInput).toEqual({
      TableName: table?.logicalId,
      KeySchema: [
        { AttributeName: 'PK', KeyType: 'HASH' },
        { AttributeName: 'SK', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'PK', AttributeType: 'S' },
        { AttributeName: 'SK', AttributeType: 'S' },
        { AttributeName: 'workflowStartQueue', AttributeType: 'S' },
        { AttributeName: 'workflowStartPendingSince', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        {
          IndexName: 'WorkflowStartsPending',
          KeySchema: [
            { AttributeName: 'workflowStartQueue', KeyType: 'HASH' },
            { AttributeName: 'workflowStartPendingSince', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['accountId', 'portRequestId', 'route'] },
        },
      ],
    });
  });

  it('resolves the state machine definition with the local names', () => {
    const definition = stateMachineDefinition(template, resolver);
    expect(JSON.stringify(definition)).not.toMatch(/Fn::|"Ref"/);
    expect((definition.States.SubmitPortIn as { Resource: string }).Resource).toMatch(
      /^arn:aws:lambda:us-east-1:000000000000:function:PortWorkflowSubmitPortInFunction\w+#Arn$/,
    );
  });

  it('applies context overrides, e.g. a public base URL', () => {
    const custom = synthesizePortInTemplate({ publicBaseUrl: 'https://abc.ngrok.example' });
    const webhook = lambdaFunctions(custom).find((f) => f.entry.endsWith('twilio-webhook.ts'));
    expect(webhook?.environment.PUBLIC_BASE_URL).toBe('https://abc.ngrok.example');
  });
});

describe('template helpers on hand-written templates', () => {
  it('applies DefinitionSubstitutions and reads a Definition object', () => {
    const template: CloudFormationTemplate = {
      Resources: {
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            DefinitionString:
              '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${FnArn}","TimeoutSeconds":${Timeout},"End":true}}}',
            DefinitionSubstitutions: { FnArn: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Timeout: 30 },
          },
        },
      },
    };
    expect(stateMachineDefinition(template, resolver).States).toEqual({
      A: { Type: 'Task', Resource: resolver.getAtt('Fn', 'Arn'), TimeoutSeconds: 30, End: true },
    });

    const withObject: CloudFormationTemplate = {
      Resources: {
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            Definition: { StartAt: 'A', States: { A: { Type: 'Pass', Result: { Ref: 'T' }, End: true } } },
          },
        },
      },
    };
    expect(stateMachineDefinition(withObject, resolver).States).toEqual({
      A: { Type: 'Pass', Result: 'local-T', End: true },
    });
  });

  it('asks which state machine when there are several, and says when there is none', () => {
    const machine = { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: '{"States":{}}' } };
    expect(() => stateMachineDefinition({ Resources: { A: machine, B: machine } }, resolver)).toThrow(/several/);
    expect(stateMachineDefinition({ Resources: { A: machine, B: machine } }, resolver, undefined, 'B')).toEqual({
      States: {},
    });
    expect(() => stateMachineDefinition({ Resources: {} }, resolver)).toThrow(/no state machine/);
  });

  it('reads a GlobalTable (TableV2) with indexes and provisioned capacity, and skips functions without an entry', () => {
    const template: CloudFormationTemplate = {
      Resources: {
        Global: {
          Type: 'AWS::DynamoDB::GlobalTable',
          Properties: {
            TableName: 'orders',
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            AttributeDefinitions: [
              { AttributeName: 'id', AttributeType: 'S' },
              { AttributeName: 'gsi1pk', AttributeType: 'S' },
            ],
            BillingMode: 'PROVISIONED',
            WriteProvisionedThroughputSettings: {
              WriteCapacityAutoScalingSettings: { MinCapacity: 1, MaxCapacity: 10 },
            },
            GlobalSecondaryIndexes: [
              {
                IndexName: 'gsi1',
                KeySchema: [{ AttributeName: 'gsi1pk', KeyType: 'HASH' }],
                Projection: { ProjectionType: 'KEYS_ONLY' },
              },
            ],
            StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
            TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
            Replicas: [{ Region: 'us-east-1', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }],
          },
        },
        Helper: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler' } },
      },
    };
    expect(dynamoTables(template)).toEqual([
      {
        logicalId: 'Global',
        createTableInput: {
          TableName: 'orders',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [
            { AttributeName: 'id', AttributeType: 'S' },
            { AttributeName: 'gsi1pk', AttributeType: 'S' },
          ],
          BillingMode: 'PROVISIONED',
          ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
          GlobalSecondaryIndexes: [
            {
              IndexName: 'gsi1',
              KeySchema: [{ AttributeName: 'gsi1pk', KeyType: 'HASH' }],
              Projection: { ProjectionType: 'KEYS_ONLY' },
              ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
            },
          ],
        },
      },
    ]);
    expect(lambdaFunctions(template)).toEqual([]);
  });
});
