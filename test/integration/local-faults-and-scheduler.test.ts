import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { synthesizePortInTemplate } from '../../local/cloudformation/synthesize';
import { dynamoTables } from '../../local/cloudformation/template';
import { installDynamoDbFaults } from '../../local/dynamodb/faults';
import { createOrUpgradeTable } from '../../local/dynamodb/tables';
import { rateMs, schedulesFromTemplate, startScheduler } from '../../local/scheduler';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/stack';
import { type LocalStepFunctions, startStepFunctions } from '../../local/stepfunctions';
import { serviceTableInput, startDynalite } from '../support/dynalite';

// The local stack's faults of DynamoDB and Step Functions, its table upgrade, and its scheduler, through the real
// AWS SDK (issue 10, item 2).

/** Clients with no retries of their own: each call meets the fault once. */
const noRetries = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 };

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('DynamoDB faults (in front of dynalite)', () => {
  let server: Server;
  let client: DynamoDBClient;
  let faults: ReturnType<typeof installDynamoDbFaults>;
  const item = (id: string) => ({ PK: { S: 'A' }, SK: { S: id } });

  beforeAll(async () => {
    const dynalite = await startDynalite();
    server = dynalite.server;
    faults = installDynamoDbFaults(server);
    client = new DynamoDBClient({ ...noRetries, endpoint: dynalite.url });
    await client.send(new CreateTableCommand(serviceTableInput('Faults')));
  });

  afterAll(async () => {
    client?.destroy();
    await closeServer(server);
  });

  afterEach(() => faults.clear());

  it('answers the next N calls of an operation ProvisionedThroughputExceededException, then lets them through', async () => {
    faults.throttle({ operations: ['PutItem'], times: 2 });
    for (let i = 0; i < 2; i += 1) {
      await expect(client.send(new PutItemCommand({ TableName: 'Faults', Item: item('a') }))).rejects.toMatchObject({
        name: 'ProvisionedThroughputExceededException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    // Another operation was never covered; the fault is used up.
    expect((await client.send(new GetItemCommand({ TableName: 'Faults', Key: item('a') }))).Item).toBeUndefined();
    await client.send(new PutItemCommand({ TableName: 'Faults', Item: item('a') }));
    expect((await client.send(new GetItemCommand({ TableName: 'Faults', Key: item('a') }))).Item).toEqual(item('a'));
    expect(faults.refused()).toEqual({ PutItem: 2 });
  });

  it('refuses every call for a while, as InternalServerError (500) when told', async () => {
    faults.throttle({ forMs: 300, error: 'InternalServerError' });
    await expect(client.send(new GetItemCommand({ TableName: 'Faults', Key: item('b') }))).rejects.toMatchObject({
      name: 'InternalServerError',
      $metadata: { httpStatusCode: 500 },
    });
    await new Promise((resolve) => setTimeout(resolve, 350));
    await client.send(new GetItemCommand({ TableName: 'Faults', Key: item('b') }));
  });

  it('is retried by the SDK as throttling, and answers once the fault has passed', async () => {
    const retrying = new DynamoDBClient({
      ...noRetries,
      maxAttempts: 3,
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    });
    faults.throttle({ operations: ['PutItem'], times: 2 });
    await retrying.send(new PutItemCommand({ TableName: 'Faults', Item: item('c') }));
    retrying.destroy();
    expect(faults.refused().PutItem).toBeGreaterThanOrEqual(4);
  });
});

describe('Step Functions faults', () => {
  let sfn: LocalStepFunctions;
  let client: SFNClient;
  const start = (name: string) =>
    client.send(
      new StartExecutionCommand({ stateMachineArn: sfn.stateMachineArn('Flow'), name, input: JSON.stringify({}) }),
    );

  beforeAll(async () => {
    sfn = await startStepFunctions({
      stateMachines: [{ name: 'Flow', definition: { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } } }],
      invokeFunction: async () => null,
    });
    client = new SFNClient({ ...noRetries, endpoint: sfn.url });
  });

  afterAll(async () => {
    client?.destroy();
    await sfn?.close();
  });

  it('throttles the next N StartExecution calls with ThrottlingException, starting nothing', async () => {
    sfn.faults.throttle('StartExecution', { times: 2 });
    await expect(start('one')).rejects.toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
    await expect(start('one')).rejects.toMatchObject({ name: 'ThrottlingException' });
    const started = await start('one');
    expect(started.executionArn).toMatch(/:execution:Flow:one$/);
    expect(sfn.faults.throttled()).toEqual({ StartExecution: 2 });
  });

  it('throttles every StartExecution for a while', async () => {
    sfn.faults.throttle('StartExecution', { forMs: 200 });
    await expect(start('two')).rejects.toMatchObject({ name: 'ThrottlingException' });
    await new Promise((resolve) => setTimeout(resolve, 250));
    await start('two');
  });
});

describe('a table kept from an earlier run', () => {
  it('is made again with the template’s new index, its items kept', async () => {
    const { server, url } = await startDynalite();
    const client = new DynamoDBClient({ ...noRetries, endpoint: url });
    try {
      const table = dynamoTables(synthesizePortInTemplate())[0];
      if (!table) throw new Error('no table in the template');
      const TableName = 'Upgraded';
      const { GlobalSecondaryIndexes: _gsi, ...withoutIndex } = table.createTableInput;
      const attributeNames = new Set(['PK', 'SK']);
      await client.send(
        new CreateTableCommand({
          ...withoutIndex,
          AttributeDefinitions: withoutIndex.AttributeDefinitions?.filter((a) =>
            attributeNames.has(a.AttributeName ?? ''),
          ),
          TableName,
        }),
      );
      const pending = {
        PK: { S: 'ACCOUNT#a' },
        SK: { S: 'PORT_REQUEST#pr_1' },
        workflowStartQueue: { S: 'PENDING' },
        workflowStartPendingSince: { S: '2026-12-01T00:00:00.000Z' },
      };
      await client.send(new PutItemCommand({ TableName, Item: pending }));

      expect(await createOrUpgradeTable(client, { ...table.createTableInput, TableName })).toBe('upgraded');
      const described = await client.send(new DescribeTableCommand({ TableName }));
      expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['WorkflowStartsPending']);
      const found = await client.send(
        new QueryCommand({
          TableName,
          IndexName: 'WorkflowStartsPending',
          KeyConditionExpression: 'workflowStartQueue = :q',
          ExpressionAttributeValues: { ':q': { S: 'PENDING' } },
        }),
      );
      expect(found.Items?.map((i) => i.SK?.S)).toEqual(['PORT_REQUEST#pr_1']);
      // Up to date now: kept as it is.
      expect(await createOrUpgradeTable(client, { ...table.createTableInput, TableName })).toBe('kept');
    } finally {
      client.destroy();
      await closeServer(server);
    }
  });
});

describe('the local scheduler', () => {
  it('reads the sweeper’s schedule from the template', () => {
    const schedules = schedulesFromTemplate(synthesizePortInTemplate());
    expect(schedules).toEqual([
      expect.objectContaining({
        type: 'AWS::Events::Rule',
        expression: 'rate(1 minute)',
        intervalMs: 60_000,
        targets: [{ functionLogicalId: expect.stringContaining('StartPendingWorkflowsFunction'), input: undefined }],
      }),
    ]);
  });

  it('reads rate expressions and refuses cron ones', () => {
    expect(rateMs('rate(1 minute)', 'R')).toBe(60_000);
    expect(rateMs('rate(6 hours)', 'R')).toBe(6 * 3_600_000);
    expect(() => rateMs('cron(0 12 * * ? *)', 'Nightly')).toThrow(/Nightly: .*rate\(N unit\)/);
  });

  it('invokes each target on the scaled rate with EventBridge’s scheduled event, one run at a time', async () => {
    const events: Array<Record<string, unknown>> = [];
    let running = 0;
    let overlapped = false;
    const scheduler = startScheduler({
      schedules: [
        {
          logicalId: 'SweepRule',
          type: 'AWS::Events::Rule',
          expression: 'rate(1 minute)',
          intervalMs: 60_000,
          targets: [{ functionLogicalId: 'SweepFn' }],
        },
      ],
      invoke: async (logicalId, event) => {
        expect(logicalId).toBe('SweepFn');
        running += 1;
        overlapped ||= running > 1;
        events.push(event as Record<string, unknown>);
        // Slower than the interval: the next run waits for this one.
        await new Promise((resolve) => setTimeout(resolve, 150));
        running -= 1;
        if (events.length === 2) throw new Error('a failed run is logged, and the schedule goes on');
      },
      intervalScale: 0.001,
      region: LOCAL_REGION,
      accountId: '000000000000',
    });
    try {
      expect(scheduler.schedules).toEqual([{ logicalId: 'SweepRule', intervalMs: 60 }]);
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(events.length).toBeGreaterThanOrEqual(3);
      expect(overlapped).toBe(false);
      expect(events[0]).toMatchObject({
        source: 'aws.events',
        'detail-type': 'Scheduled Event',
        resources: ['arn:aws:events:us-east-1:000000000000:rule/SweepRule'],
        detail: {},
      });
      const before = events.length;
      await scheduler.runNow('Sweep');
      expect(events.length).toBeGreaterThan(before);
    } finally {
      await scheduler.close();
    }
    const after = events.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events.length).toBe(after);
    expect(running).toBe(0);
  });
});
