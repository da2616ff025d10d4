import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { DEFAULT_PORT_IN_CONFIG, PORT_IN_CONTEXT_KEYS } from '../../lib/config';
import { PRODUCT_API_ROUTES, TWILIO_WEBHOOK_ROUTE } from '../../lib/constructs/api';
import { REPO_ROOT } from '../../lib/constructs/service-function';
import type { PortInStack } from '../../lib/port-in-stack';
import { logicalIdOf, type Permission, permissionsOf, synthesizeStack } from './synth';

let stack: PortInStack;
let template: Template;
let resources: Record<
  string,
  { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }
>;

beforeAll(() => {
  ({ stack, template } = synthesizeStack());
  resources = template.toJSON().Resources;
});

function ofType(type: string) {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

function environmentOf(fn: lambda.Function): Record<string, unknown> {
  const resource = resources[logicalIdOf(stack, fn)];
  if (!resource) throw new Error(`${fn.node.id} is not in the template`);
  return (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

describe('data', () => {
  it('keeps one PK/SK table, on demand, with point-in-time recovery, encryption and TTL on expiresAt, retained', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
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
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it('has one index: the sparse list of port requests whose execution is not known to have started', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
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
});

describe('functions', () => {
  /** docs/ARCHITECTURE.md "Lambda functions": construct id → entry → environment. */
  const expected: Record<string, { entry: string; env: string[] }> = {
    ProductApiFunction: {
      entry: 'lambdas/handlers/api/product-api.ts',
      env: [
        'TABLE_NAME',
        'STATE_MACHINE_ARN',
        'TWILIO_SECRET_PREFIX',
        'PUBLIC_BASE_URL',
        'CALL_ROUTER_URL',
        'POLL_INTERVAL_SECONDS',
        'REMINDER_INTERVAL_SECONDS',
        'UPLOADS_BUCKET_NAME',
        'DOCUMENT_UPLOAD_URL_SECONDS',
      ],
    },
    TwilioWebhookFunction: {
      entry: 'lambdas/handlers/api/twilio-webhook.ts',
      env: ['TABLE_NAME', 'TWILIO_SECRET_PREFIX', 'PUBLIC_BASE_URL'],
    },
    SubmitPortInFunction: {
      entry: 'lambdas/handlers/workflow/submit-port-in.ts',
      env: ['TABLE_NAME', 'TWILIO_SECRET_PREFIX', 'DELAY_ALERT_AFTER_SECONDS'],
    },
    WaitForPortUpdateFunction: {
      entry: 'lambdas/handlers/workflow/wait-for-port-update.ts',
      env: ['TABLE_NAME', 'DELAY_ALERT_AFTER_SECONDS'],
    },
    SyncPortStatusFunction: {
      entry: 'lambdas/handlers/workflow/sync-port-status.ts',
      env: [
        'TABLE_NAME',
        'TWILIO_SECRET_PREFIX',
        'PORT_MAX_AGE_DAYS',
        'WEBHOOK_SETTLE_SECONDS',
        'DELAY_ALERT_AFTER_SECONDS',
      ],
    },
    DeliverEmailsFunction: {
      entry: 'lambdas/handlers/workflow/deliver-emails.ts',
      env: [
        'TABLE_NAME',
        'SENDER_EMAIL',
        'SES_CONFIGURATION_SET',
        'DELAY_ALERT_AFTER_SECONDS',
        'EMAIL_CONFIRMATION_WINDOW_SECONDS',
      ],
    },
    ImportNumbersFunction: {
      entry: 'lambdas/handlers/workflow/import-numbers.ts',
      env: [
        'TABLE_NAME',
        'TWILIO_SECRET_PREFIX',
        'CALL_ROUTER_URL',
        'VERIFY_PORTED_NUMBERS',
        'DELAY_ALERT_AFTER_SECONDS',
      ],
    },
    VerifyNumbersFunction: {
      entry: 'lambdas/handlers/workflow/verify-numbers.ts',
      env: [
        'TABLE_NAME',
        'TWILIO_SECRET_PREFIX',
        'CALL_ROUTER_URL',
        'VERIFY_ANSWER_WINDOW_SECONDS',
        'VERIFY_RECHECK_SECONDS',
        'VERIFY_GIVE_UP_AFTER_SECONDS',
        'DELAY_ALERT_AFTER_SECONDS',
      ],
    },
    MarkFailedFunction: {
      entry: 'lambdas/handlers/workflow/mark-failed.ts',
      env: ['TABLE_NAME', 'DELAY_ALERT_AFTER_SECONDS'],
    },
    StartPendingWorkflowsFunction: {
      entry: 'lambdas/handlers/scheduled/start-pending-workflows.ts',
      env: [
        'TABLE_NAME',
        'STATE_MACHINE_ARN',
        'POLL_INTERVAL_SECONDS',
        'REMINDER_INTERVAL_SECONDS',
        'WORKFLOW_START_GRACE_SECONDS',
      ],
    },
    ConfirmEmailSentFunction: {
      entry: 'lambdas/handlers/events/email-sent.ts',
      env: ['TABLE_NAME'],
    },
  };

  function functionsById(): Map<string, lambda.Function> {
    const all = [
      ...Object.values(stack.workflow.functions),
      stack.api.productApiFunction,
      stack.api.twilioWebhookFunction,
      stack.workflowStartSweeper.function,
      stack.emailConfirmations.function,
    ];
    return new Map(all.map((fn) => [fn.node.id, fn]));
  }

  it('has exactly the functions of the architecture table, each with its entry and environment', () => {
    const byId = functionsById();
    expect([...byId.keys()].sort()).toEqual(Object.keys(expected).sort());
    expect(ofType('AWS::Lambda::Function')).toHaveLength(Object.keys(expected).length);
    for (const [id, { entry, env }] of Object.entries(expected)) {
      const fn = byId.get(id) as lambda.Function;
      const resource = resources[logicalIdOf(stack, fn)];
      expect({ id, entry: resource?.Metadata?.['RingTonic:Entry'] }).toEqual({ id, entry });
      expect(existsSync(path.join(REPO_ROOT, entry))).toBe(true);
      const variables = environmentOf(fn);
      // NODE_OPTIONS turns on source maps; everything else is configuration the handler reads.
      const { NODE_OPTIONS, ...configuration } = variables;
      expect(NODE_OPTIONS).toBe('--enable-source-maps');
      expect({ id, env: Object.keys(configuration).sort() }).toEqual({ id, env: [...env].sort() });
    }
  });

  it('runs every function on Node.js 22, arm64, with X-Ray tracing, its own log group and a timeout', () => {
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      expect({ id, ...fn.Properties }).toMatchObject({
        id,
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        MemorySize: 256,
        Handler: 'index.handler',
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      });
      expect(fn.Properties.Timeout).toEqual(expect.any(Number));
    }
  });

  it('keeps the product API within API Gateway’s 29 s integration timeout', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STATE_MACHINE_ARN: Match.anyValue() }) },
      Timeout: 29,
    });
  });

  it('passes the context configuration to the functions', () => {
    const variables = environmentOf(stack.api.productApiFunction);
    expect(variables).toMatchObject({
      CALL_ROUTER_URL: DEFAULT_PORT_IN_CONFIG.callRouterUrl,
      POLL_INTERVAL_SECONDS: '21600',
      REMINDER_INTERVAL_SECONDS: '259200',
      TWILIO_SECRET_PREFIX: 'ringtonic/port-in/twilio/',
    });
    // Empty publicBaseUrl: the API's own URL, built from its id (not from the stage, which would be a cycle).
    expect(JSON.stringify(variables.PUBLIC_BASE_URL)).toMatch(/execute-api.*\/live/);
  });
});

describe('permissions', () => {
  const DYNAMODB_READ_WRITE = [
    'dynamodb:BatchGetItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:DeleteItem',
    'dynamodb:DescribeTable',
    'dynamodb:GetItem',
    'dynamodb:GetRecords',
    'dynamodb:GetShardIterator',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:Scan',
    'dynamodb:UpdateItem',
  ];
  const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
  const OWN_LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
  const SECRETS_READ = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
  const SECRETS_WRITE = ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue'];
  const TASK_RESPONSE = ['states:SendTaskFailure', 'states:SendTaskHeartbeat', 'states:SendTaskSuccess'];
  const SES_SEND = ['ses:SendEmail', 'ses:SendRawEmail'];
  // The uploads bucket (test/infra/uploads.test.ts checks on what).
  const DOCUMENT_UPLOADS = ['s3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject'];

  function actions(permissions: Permission[]): string[] {
    return [...new Set(permissions.map((p) => p.action))].sort();
  }
  function resourcesFor(permissions: Permission[], action: string): string[] {
    return permissions.filter((p) => p.action === action).map((p) => p.resource);
  }

  const cases: Array<[string, (s: PortInStack) => lambda.Function, string[]]> = [
    [
      'ProductApiFunction',
      (s) => s.api.productApiFunction,
      [...SECRETS_READ, ...SECRETS_WRITE, 'states:StartExecution', ...TASK_RESPONSE, ...DOCUMENT_UPLOADS],
    ],
    ['TwilioWebhookFunction', (s) => s.api.twilioWebhookFunction, [...SECRETS_READ, ...TASK_RESPONSE]],
    ['SubmitPortInFunction', (s) => s.workflow.functions.submitPortIn, SECRETS_READ],
    ['WaitForPortUpdateFunction', (s) => s.workflow.functions.waitForPortUpdate, TASK_RESPONSE],
    ['SyncPortStatusFunction', (s) => s.workflow.functions.syncPortStatus, SECRETS_READ],
    ['DeliverEmailsFunction', (s) => s.workflow.functions.deliverEmails, SES_SEND],
    ['ImportNumbersFunction', (s) => s.workflow.functions.importNumbers, SECRETS_READ],
    ['MarkFailedFunction', (s) => s.workflow.functions.markFailed, []],
  ];

  it.each(cases)('gives %s exactly the table, tracing, its logs and its own extra permissions', (_id, pick, extra) => {
    const fn = pick(stack);
    const { permissions, managedPolicyArns } = permissionsOf(stack, template, fn);
    expect(actions(permissions)).toEqual([...new Set([...DYNAMODB_READ_WRITE, ...XRAY, ...OWN_LOGS, ...extra])].sort());
    for (const action of DYNAMODB_READ_WRITE) {
      expect(resourcesFor(permissions, action)).toEqual([
        JSON.stringify({ 'Fn::GetAtt': [stack.getLogicalId(stack.data.table.node.defaultChild as never), 'Arn'] }),
      ]);
    }
    // Its own log group only: no AWSLambdaBasicExecutionRole, which may write to every log group.
    expect(managedPolicyArns).toEqual([]);
    const logGroupId = stack.getLogicalId(fn.logGroup.node.defaultChild as never);
    for (const action of OWN_LOGS) {
      expect(resourcesFor(permissions, action)).toEqual([JSON.stringify({ 'Fn::GetAtt': [logGroupId, 'Arn'] })]);
    }
  });

  it('scopes secret access to the Twilio token prefix', () => {
    for (const [, pick] of cases) {
      const { permissions } = permissionsOf(stack, template, pick(stack));
      for (const p of permissions.filter((x) => x.action.startsWith('secretsmanager:'))) {
        expect(p.resource).toMatch(/:secretsmanager:.*:secret:ringtonic\/port-in\/twilio\/\*"/);
      }
    }
  });

  it('scopes state machine actions to the port workflow', () => {
    const stateMachineRef = JSON.stringify({
      Ref: stack.getLogicalId(stack.workflow.stateMachine.node.defaultChild as never),
    });
    for (const [, pick] of cases) {
      const { permissions } = permissionsOf(stack, template, pick(stack));
      for (const p of permissions.filter((x) => x.action.startsWith('states:')))
        expect(p.resource).toBe(stateMachineRef);
    }
  });

  it('lets DeliverEmails send only from the sender identity through the configuration set', () => {
    const { permissions } = permissionsOf(stack, template, stack.workflow.functions.deliverEmails);
    const targets = resourcesFor(permissions, 'ses:SendEmail');
    expect(targets).toHaveLength(2);
    const identityId = stack.getLogicalId(stack.notifications.identity.node.defaultChild as never);
    const configurationSetId = stack.getLogicalId(stack.notifications.configurationSet.node.defaultChild as never);
    expect(targets.some((t) => t.includes(':identity/') && t.includes(identityId))).toBe(true);
    expect(targets.some((t) => t.includes(':configuration-set/') && t.includes(configurationSetId))).toBe(true);
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: DEFAULT_PORT_IN_CONFIG.senderEmail,
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: configurationSetId } },
    });
  });

  it('lets the state machine invoke the six workflow functions and nothing else', () => {
    const stateMachineRole = stack.workflow.stateMachine.role;
    const roleId = stack.getLogicalId(stateMachineRole.node.defaultChild as never);
    const invoked = Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
      )
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement)
      .filter((s) => s.Action === 'lambda:InvokeFunction')
      .flatMap((s) => s.Resource as unknown[])
      .map((r) => JSON.stringify(r));
    const workflowIds = Object.values(stack.workflow.functions).map((fn) => logicalIdOf(stack, fn));
    for (const id of workflowIds) expect(invoked).toContain(JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] }));
    expect(invoked.join()).not.toContain(logicalIdOf(stack, stack.api.productApiFunction));
    expect(invoked.join()).not.toContain(logicalIdOf(stack, stack.api.twilioWebhookFunction));
  });
});

describe('api', () => {
  /** Full path of every API Gateway method, from the resource parent chain. */
  function methods(): Array<{ method: string; path: string; authorization: string; target: string }> {
    const pathOf = (id: string): string => {
      const resource = resources[id];
      if (!resource) throw new Error(`no resource ${id}`);
      const parent = resource.Properties.ParentId as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      const parentPath = parent['Fn::GetAtt'] ? '' : pathOf(parent.Ref as string);
      return `${parentPath}/${resource.Properties.PathPart}`;
    };
    return ofType('AWS::ApiGateway::Method').map(([, m]) => {
      const resourceId = m.Properties.ResourceId as { Ref?: string };
      return {
        method: m.Properties.HttpMethod as string,
        path: resourceId.Ref ? pathOf(resourceId.Ref) : '/',
        authorization: m.Properties.AuthorizationType as string,
        target: JSON.stringify((m.Properties.Integration as { Uri: unknown }).Uri),
      };
    });
  }

  it('serves every route of the contract and nothing else', () => {
    const served = methods()
      .map((m) => `${m.method} ${m.path}`)
      .sort();
    const contract = [...PRODUCT_API_ROUTES, TWILIO_WEBHOOK_ROUTE].map((r) => `${r.method} ${r.path}`).sort();
    expect(served).toEqual(contract);
    expect(contract).toContain('POST /v1/accounts/{accountId}/port-orders');
    expect(contract).toContain('GET /v1/openapi.json');
  });

  it('requires IAM auth on every /v1/accounts method and the OpenAPI document, and none on the Twilio webhook', () => {
    const productApi = logicalIdOf(stack, stack.api.productApiFunction);
    const webhook = logicalIdOf(stack, stack.api.twilioWebhookFunction);
    for (const m of methods()) {
      if (m.path === TWILIO_WEBHOOK_ROUTE.path) {
        expect(m).toMatchObject({ authorization: 'NONE' });
        expect(m.target).toContain(webhook);
      } else {
        expect(m).toMatchObject({ authorization: 'AWS_IAM' });
        expect(m.target).toContain(productApi);
      }
    }
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
    });
  });

  it('deploys a regional stage with tracing, access logs and throttling, and no body logging', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'live',
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [
        Match.objectLike({ DataTraceEnabled: false, ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
      ],
    });
  });

  it('answers API Gateway’s own 4xx and 5xx as application/problem+json with a matching status, 429 and 5xx with Retry-After', () => {
    const responses = ofType('AWS::ApiGateway::GatewayResponse').map(([, r]) => r.Properties);
    const types = responses.map((r) => r.ResponseType);
    expect(types).toEqual(expect.arrayContaining(['DEFAULT_4XX', 'DEFAULT_5XX', 'ACCESS_DENIED', 'INVALID_SIGNATURE']));
    for (const r of responses) {
      const retryable = Number(r.StatusCode) === 429 || Number(r.StatusCode) >= 500;
      expect({ type: r.ResponseType, headers: r.ResponseParameters }).toEqual({
        type: r.ResponseType,
        headers: {
          'gatewayresponse.header.Content-Type': "'application/problem+json'",
          ...(retryable ? { 'gatewayresponse.header.Retry-After': expect.stringMatching(/^'[1-9]\d*'$/) } : {}),
        },
      });
      const body = JSON.parse(
        String((r.ResponseTemplates as Record<string, string>)['application/json']).replace(
          '$context.error.messageString',
          '"message"',
        ),
      );
      expect(Object.keys(body).sort()).toEqual(['detail', 'status', 'title', 'type']);
      expect(String(body.status)).toBe(r.StatusCode);
      if (body.status >= 500) expect(body.detail).not.toBe('message');
    }
  });

  it('exports a managed policy letting the product invoke /v1/accounts/* and the OpenAPI document only', () => {
    const policies = ofType('AWS::IAM::ManagedPolicy');
    expect(policies).toHaveLength(1);
    const document = policies[0]?.[1].Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> };
    const statements = document.Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0]?.Action).toBe('execute-api:Invoke');
    const targets = JSON.stringify(statements[0]?.Resource);
    expect(targets).toContain('/live/*/v1/accounts/*');
    expect(targets).toContain('/live/GET/v1/openapi.json');
    expect(targets).not.toContain('webhooks');
    template.hasOutput('ProductApiInvokePolicyArn', {});
    template.hasOutput('ApiUrl', {});
  });
});

describe('configuration', () => {
  it('keeps cdk.json’s context defaults equal to the code’s', () => {
    const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8'));
    const fromCdkJson = Object.fromEntries(PORT_IN_CONTEXT_KEYS.map((key) => [key, cdkJson.context[key]]));
    expect(fromCdkJson).toEqual(DEFAULT_PORT_IN_CONFIG);
    expect(cdkJson).toMatchObject({
      app: 'npx tsx bin/port-in.ts',
      notices: false,
      context: { 'cli-telemetry': false },
    });
  });

  it('uses publicBaseUrl from context, without its trailing slash, for the webhook URL', () => {
    const { stack: custom, template: customTemplate } = synthesizeStack({
      publicBaseUrl: 'https://ports.ringtonic.example/',
      pollIntervalSeconds: '43200',
    });
    const fn = customTemplate.toJSON().Resources[logicalIdOf(custom, custom.api.twilioWebhookFunction)];
    expect(fn.Properties.Environment.Variables.PUBLIC_BASE_URL).toBe('https://ports.ringtonic.example');
    const api = customTemplate.toJSON().Resources[logicalIdOf(custom, custom.api.productApiFunction)];
    expect(api.Properties.Environment.Variables.POLL_INTERVAL_SECONDS).toBe('43200');
  });

  it.each([
    [{ twilioSecretPrefix: '' }, /twilioSecretPrefix/],
    [{ twilioSecretPrefix: 'ringtonic' }, /twilioSecretPrefix/],
    [{ senderEmail: 'not-an-email' }, /senderEmail/],
    [{ publicBaseUrl: 'http://insecure.example' }, /publicBaseUrl/],
    [{ pollIntervalSeconds: 0 }, /pollIntervalSeconds/],
    // A 1-minute poll for 120 days would blow through the 25,000-event execution history.
    [{ pollIntervalSeconds: 60 }, /history events/],
    [{ workflowTimeoutSeconds: 400 * 24 * 3600 }, /workflowTimeoutSeconds/],
  ])('refuses the context %j at synth time', (context, message) => {
    expect(() => synthesizeStack(context)).toThrow(message);
  });
});
