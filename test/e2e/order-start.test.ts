import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { CrashPoints } from '../../lambdas/shared/crash-points';
import { RETRY_AFTER_SECONDS } from '../../lambdas/shared/retry-after';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack } from '../../local/stack';
import { eventually } from '../support/eventually';
import { type PortOrderAnswer, postOrder } from '../support/faults';
import { startTestStack, TestAccount } from '../support/harness';
import { Workflows } from '../support/paths';

// An accepted order is never lost between the API and the workflow (issue 10, item 2), on the local stack: an order
// answered 202 gets a running execution for each port request even when StartExecution is throttled or the function
// dies right after the write (the sweeper starts it), and an order DynamoDB cannot take answers 503 with Retry-After
// and leaves nothing behind. Faults are global, so these tests run one at a time.

/** The sweeper's minute becomes 1.2 s, its one-minute grace 1 s (scheduleIntervalScale). */
const SCHEDULE_SCALE = 0.02;

let numberSeq = 0;
const nextNumber = () => `+1415555${String(700 + numberSeq++).padStart(4, '0')}`;
const newKey = () => `start-${Math.random().toString(36).slice(2)}`;

describe('accepted orders and their executions on the local stack', () => {
  let stack: LocalStack;
  let workflows: Workflows;
  let db: DynamoDBDocumentClient;

  beforeAll(async () => {
    stack = await startTestStack({ scheduleIntervalScale: SCHEDULE_SCALE });
    workflows = new Workflows(stack);
    db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: stack.urls.dynamoDb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
    );
  }, 60000);

  afterAll(async () => {
    db?.destroy();
    workflows?.destroy();
    await stack?.stop();
  });

  /** The port request's "workflow start pending" mark, as stored. */
  async function pendingMark(account: TestAccount, portRequestId: string): Promise<unknown> {
    const { Item } = await db.send(
      new GetCommand({
        TableName: stack.tableName,
        Key: { PK: `ACCOUNT#${account.accountId}`, SK: `PORT_REQUEST#${portRequestId}` },
        ConsistentRead: true,
      }),
    );
    return Item?.workflowStartPendingSince;
  }

  /** Ports the port request to completion from its Twilio submission; answers once it is safe to cancel. */
  async function completes(account: TestAccount, portRequestId: string, number: string): Promise<void> {
    const sid = await account.submitted(portRequestId);
    await account.setTwilioStatus(sid, { status: 'Completed', webhook: 'deliver' });
    const done = await account.waitFor(portRequestId, (pr) => pr.safeToCancelOldService, 'safe to cancel');
    expect(done.phoneNumbers.map((n) => [n.phoneNumber, n.status, n.imported])).toEqual([[number, 'COMPLETED', true]]);
    expect((await workflows.ended(portRequestId)).status).toBe('SUCCEEDED');
    // One execution, however many starts were tried.
    expect(await workflows.executionsOf(portRequestId)).toHaveLength(1);
  }

  it('answers 202 while StartExecution is throttled; the sweeper starts the execution and the port completes', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const number = nextNumber();
    stack.stepFunctionsFaults.throttle('StartExecution', { forMs: 3000 });
    const before = stack.stepFunctionsFaults.throttled().StartExecution ?? 0;

    const answer = await postOrder(account, bill, [number], newKey());
    expect(answer.status).toBe(202);
    const [portRequest] = answer.body.portRequests;
    const portRequestId = portRequest?.portRequestId as string;
    expect(portRequest?.status).toBe('SUBMITTING');
    // The API tried (the SDK's three attempts) and left the start to the sweeper.
    expect((stack.stepFunctionsFaults.throttled().StartExecution ?? 0) - before).toBeGreaterThanOrEqual(3);
    expect(await workflows.executionsOf(portRequestId)).toEqual([]);
    expect(await pendingMark(account, portRequestId)).toEqual(expect.any(String));

    // Once Step Functions takes calls again, the sweeper's next run starts it and clears the mark.
    await eventually(async () => ((await workflows.executionsOf(portRequestId)).length > 0 ? true : undefined), {
      what: 'the sweeper to start the execution',
      timeoutMs: 15000,
    });
    expect((await workflows.describe(portRequestId)).status).toBe('RUNNING');
    await eventually(async () => ((await pendingMark(account, portRequestId)) === undefined ? true : undefined), {
      what: 'the mark to be cleared',
    });
    await completes(account, portRequestId, number);
  });

  it('starts the execution of an order whose function died right after writing it, and a retry answers that order', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const number = nextNumber();
    const key = newKey();
    const crashedBefore = Object.values(stack.lambdaFaults.crashed()).reduce((a, b) => a + b, 0);
    stack.lambdaFaults.crashAt('ProductApiFunction', CrashPoints.OrderWritten, 1);

    // The function dies: API Gateway answers 502, and says when to retry.
    const died = await postOrder(account, bill, [number], key);
    expect(died.status).toBe(502);
    expect(died.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS.failed));
    expect(Object.values(stack.lambdaFaults.crashed()).reduce((a, b) => a + b, 0)).toBe(crashedBefore + 1);

    // The order was written before the death; nothing started its execution but the sweeper.
    const listed = await account.api.get<{ items: Array<{ portRequestId: string; status: string }> }>(
      `${account.base}/port-requests`,
    );
    expect(listed.body.items.map((pr) => pr.status)).toEqual(['SUBMITTING']);
    const portRequestId = listed.body.items[0]?.portRequestId as string;
    await eventually(async () => ((await workflows.executionsOf(portRequestId)).length > 0 ? true : undefined), {
      what: 'the sweeper to start the execution',
      timeoutMs: 15000,
    });

    // The caller retries as told: the same order, answered as a replay.
    const retried = await postOrder(account, bill, [number], key);
    expect(retried.status).toBe(200);
    expect(retried.body.portRequests.map((pr) => pr.portRequestId)).toEqual([portRequestId]);
    const order = await account.api.get<PortOrderAnswer>(`${account.base}/port-orders/${retried.body.orderId}`);
    expect(order.status).toBe(200);
    await completes(account, portRequestId, number);
  });

  it('answers 503 with Retry-After while DynamoDB throttles, writes nothing, and the same call then works', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const number = nextNumber();
    const key = newKey();
    stack.dynamoDbFaults.throttle({ forMs: 10_000 });
    let refused: Awaited<ReturnType<typeof postOrder>>;
    try {
      refused = await postOrder(account, bill, [number], key);
    } finally {
      stack.dynamoDbFaults.clear();
    }
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS.unavailable));
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
    expect(JSON.stringify(refused.body)).not.toMatch(/Throughput|Dynamo|Exception/);
    expect(stack.dynamoDbFaults.refused().PutItem).toBeGreaterThanOrEqual(1);

    // Nothing of the order: only what connecting Twilio stored.
    const stored = await db.send(
      new ScanCommand({
        TableName: stack.tableName,
        FilterExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': `ACCOUNT#${account.accountId}` },
        ConsistentRead: true,
      }),
    );
    expect((stored.Items ?? []).map((item) => String(item.SK))).toEqual(['TWILIO_CONNECTION']);

    const accepted = await postOrder(account, bill, [number], key);
    expect(accepted.status).toBe(202);
    const portRequestId = accepted.body.portRequests[0]?.portRequestId as string;
    await completes(account, portRequestId, number);
  });
});
