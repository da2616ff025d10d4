import { ConditionalCheckFailedException, CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoPortInRepository } from '../../lambdas/adapters/dynamodb/port-in-repository';
import type { PortRequest } from '../../lambdas/domain/port-request';
import { type CrashPointName, installCrashPointHook } from '../../lambdas/shared/crash-points';
import { WorkflowStartsPendingIndex } from '../../lambdas/shared/table-layout';
import type { PortWorkflowInput } from '../../lambdas/shared/workflow-contract';
import { type CreatePortOrderDeps, createPortOrder } from '../../lambdas/use-cases/create-port-order';
import type { Metrics, PortInRepository, WorkflowClient } from '../../lambdas/use-cases/ports';
import { startPendingWorkflows } from '../../lambdas/use-cases/start-pending-workflows';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/stack';
import { serviceTableInput, startDynalite } from '../support/dynalite';
import { attestations, losingCarrier } from '../support/fixtures';

// An accepted order is never lost between the API and the workflow (issue 10, item 2): createPortOrder and the
// sweeper on the real repository over dynalite, with Step Functions and the function's death played by fakes.

const TABLE = 'OrderDurabilityTest';
const CADENCE = { pollIntervalSeconds: 30, reminderIntervalSeconds: 3600 };
const FAR_FUTURE = '2999-01-01T00:00:00.000Z';

/** A Step Functions error as the SDK throws it. */
function awsError(name: string, status = 400): Error {
  return Object.assign(new Error(`${name} (injected)`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

/** Records starts; `failNext` makes the next calls throw, as a throttled StartExecution does after the SDK's retries. */
class FakeWorkflow implements WorkflowClient {
  readonly started: PortWorkflowInput[] = [];
  readonly failures: Error[] = [];

  failNext(error: Error, times = 1): void {
    for (let i = 0; i < times; i += 1) this.failures.push(error);
  }

  async startPortWorkflow(input: PortWorkflowInput): Promise<void> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.started.push(input);
  }

  async completeTask(): Promise<boolean> {
    return true;
  }
}

/** Counts what the use cases count. */
class CountingMetrics implements Metrics {
  readonly counts: Record<string, number> = {};
  count(name: string, value = 1): void {
    this.counts[name] = (this.counts[name] ?? 0) + value;
  }
  milliseconds(): void {}
  publishNow(): void {}
}

let numberSeq = 0;
const nextNumber = () => `+1415555${String(1000 + numberSeq++).padStart(4, '0')}`;

describe('accepted orders on the real repository (dynalite)', () => {
  let dynalite: Awaited<ReturnType<typeof startDynalite>>;
  let client: DynamoDBClient;
  let db: DynamoDBDocumentClient;
  let repository: DynamoPortInRepository;

  beforeAll(async () => {
    dynalite = await startDynalite();
    client = new DynamoDBClient({ endpoint: dynalite.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    await client.send(new CreateTableCommand(serviceTableInput(TABLE, { withStartsPendingIndex: true })));
    db = DynamoDBDocumentClient.from(client);
    repository = new DynamoPortInRepository(TABLE, client);
  });

  afterAll(async () => {
    installCrashPointHook(undefined);
    client?.destroy();
    await dynalite?.close();
  });

  /** Everything stored for the account, by sort key. */
  async function itemsOf(accountId: string): Promise<Array<Record<string, unknown>>> {
    const page = await db.send(
      new ScanCommand({
        TableName: TABLE,
        FilterExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': `ACCOUNT#${accountId}` },
      }),
    );
    return page.Items ?? [];
  }

  /** Every pending start, of every account. */
  async function pendingStarts(): Promise<string[]> {
    const page = await repository.listPendingWorkflowStarts({ pendingBefore: FAR_FUTURE, limit: 1000 });
    return page.items.map((item) => item.portRequestId);
  }

  /** An account with a Twilio connection, and the deps createPortOrder runs on. */
  async function newAccount(repo: PortInRepository = repository) {
    const accountId = `acct-${Math.random().toString(36).slice(2, 10)}`;
    await repository.putConnection({
      accountId,
      accountSid: `AC${'0'.repeat(32)}`,
      webhookUrl: 'https://ports.example/webhook',
      connectedAt: '2026-11-01T00:00:00.000Z',
    });
    const workflow = new FakeWorkflow();
    const metrics = new CountingMetrics();
    const deps: CreatePortOrderDeps = {
      repository: repo,
      tokens: { getAuthToken: async () => 'token', putAuthToken: async () => undefined },
      twilio: {
        forAccount: () =>
          ({
            checkPortability: async (phoneNumber: string) => ({
              phoneNumber,
              portable: true,
              numberType: 'LOCAL',
              pinAndAccountNumberRequired: false,
            }),
          }) as never,
      },
      workflow,
      clock: { now: () => new Date() },
      cadence: CADENCE,
      metrics,
    };
    return { accountId, workflow, metrics, deps };
  }

  /** An order of two carriers (two port requests), one number each. */
  function twoCarrierOrder() {
    return {
      losingCarriers: [
        losingCarrier('CallRail', `RD${'a'.repeat(32)}`, [nextNumber()]),
        losingCarrier('Dialpad', `RD${'b'.repeat(32)}`, [nextNumber()]),
      ],
      notificationEmails: ['owner@acme.example'],
      attestations,
    } as never;
  }

  describe('createPortOrder', () => {
    it('starts each port request’s execution and clears its mark', async () => {
      const { accountId, workflow, deps } = await newAccount();
      const result = await createPortOrder({ accountId, idempotencyKey: 'k1', request: twoCarrierOrder() }, deps);
      expect(result.replayed).toBe(false);
      const ids = result.view.portRequests.map((pr) => pr.portRequestId);
      expect(workflow.started.map((s) => s.portRequestId)).toEqual(ids);
      expect(workflow.started[0]).toEqual({ accountId, portRequestId: ids[0], route: 'API', cadence: CADENCE });
      for (const id of ids) {
        const stored = (await repository.getPortRequest(accountId, id)) as PortRequest;
        expect(stored.workflowStartPendingSince).toBeUndefined();
        // Written at version 1, cleared at 2: the clear is a versioned write like any other.
        expect(stored.version).toBe(2);
      }
      expect(await pendingStarts()).not.toEqual(expect.arrayContaining([ids[0]]));
    });

    it('still answers 202 when StartExecution is throttled, leaving every unstarted port request marked', async () => {
      const { accountId, workflow, metrics, deps } = await newAccount();
      workflow.failNext(awsError('ThrottlingException'));
      const result = await createPortOrder({ accountId, idempotencyKey: 'k2', request: twoCarrierOrder() }, deps);
      expect(result.replayed).toBe(false);
      const ids = result.view.portRequests.map((pr) => pr.portRequestId);
      expect(ids).toHaveLength(2);
      // The first start failed: the second is not even tried, the sweeper starts both.
      expect(workflow.started).toEqual([]);
      expect(metrics.counts).toEqual({ WorkflowStartsDeferred: 2 });
      expect(await pendingStarts()).toEqual(expect.arrayContaining(ids));
      const records = await itemsOf(accountId);
      expect(records.find((r) => String(r.SK).startsWith('IDEMPOTENCY#'))?.status).toBe('COMPLETED');
      expect(records.filter((r) => String(r.SK).startsWith('ORDER#'))).toHaveLength(1);
    });

    it('answers the order (200) to a retry after the function died past the write, and starts it', async () => {
      const { accountId, workflow, deps } = await newAccount();
      const reached: CrashPointName[] = [];
      installCrashPointHook((name) => {
        reached.push(name);
        return new Promise<never>(() => undefined);
      });
      const request = twoCarrierOrder();
      // The first call dies at the crash point: it never answers, and nothing after the write runs.
      void createPortOrder({ accountId, idempotencyKey: 'k3', request }, deps);
      for (let i = 0; i < 100 && reached.length === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
      installCrashPointHook(undefined);
      expect(reached).toEqual(['order-written']);
      expect(workflow.started).toEqual([]);
      const marked = (await itemsOf(accountId)).filter((r) => r.workflowStartPendingSince);
      expect(marked).toHaveLength(2);

      const retry = await createPortOrder({ accountId, idempotencyKey: 'k3', request }, deps);
      expect(retry.replayed).toBe(true);
      const ids = retry.view.portRequests.map((pr) => pr.portRequestId);
      expect(ids.sort()).toEqual(marked.map((r) => String(r.portRequestId)).sort());
      expect(workflow.started.map((s) => s.portRequestId).sort()).toEqual(ids);
      expect(await pendingStarts()).not.toEqual(expect.arrayContaining([ids[0]]));
      // The same order, written once.
      expect((await itemsOf(accountId)).filter((r) => String(r.SK).startsWith('PORT_REQUEST#'))).toHaveLength(2);
    });

    it('answers the error when DynamoDB is throttled before the order is written, and the key may be used again', async () => {
      let throttleOrderWrite = true;
      const throttling = new Proxy(repository, {
        get(target, property, receiver) {
          if (property === 'putOrder' && throttleOrderWrite) {
            return async () => {
              throttleOrderWrite = false;
              throw awsError('ProvisionedThroughputExceededException');
            };
          }
          const value = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const { accountId, workflow, deps } = await newAccount(throttling);
      const request = twoCarrierOrder();
      await expect(createPortOrder({ accountId, idempotencyKey: 'k4', request }, deps)).rejects.toMatchObject({
        name: 'ProvisionedThroughputExceededException',
      });
      expect(workflow.started).toEqual([]);
      const key = (await itemsOf(accountId)).find((r) => String(r.SK).startsWith('IDEMPOTENCY#'));
      expect(key?.status).toBe('INTERRUPTED');

      // At once, not after the 2-minute takeover: the same order, its port requests written once.
      const retry = await createPortOrder({ accountId, idempotencyKey: 'k4', request }, deps);
      expect(retry.replayed).toBe(false);
      expect(retry.view.orderId).toBe(key?.orderId);
      expect(workflow.started).toHaveLength(2);
      const records = await itemsOf(accountId);
      expect(records.filter((r) => String(r.SK).startsWith('PORT_REQUEST#'))).toHaveLength(2);
      expect(records.filter((r) => r.workflowStartPendingSince)).toEqual([]);
    });

    it('writes nothing when DynamoDB is throttled on the first write', async () => {
      const refusing = new Proxy(repository, {
        get(target, property, receiver) {
          if (property === 'claimIdempotencyKey') {
            return async () => {
              throw awsError('ProvisionedThroughputExceededException');
            };
          }
          const value = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const { accountId, workflow, deps } = await newAccount(refusing);
      await expect(
        createPortOrder({ accountId, idempotencyKey: 'k5', request: twoCarrierOrder() }, deps),
      ).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
      expect(workflow.started).toEqual([]);
      expect((await itemsOf(accountId)).map((r) => r.SK)).toEqual(['TWILIO_CONNECTION']);
    });
  });

  describe('the sweeper (startPendingWorkflows)', () => {
    /** Orders whose starts were all throttled: marked port requests, oldest first. */
    async function deferredOrders(count: number) {
      const account = await newAccount();
      account.workflow.failNext(awsError('ThrottlingException'), count);
      const ids: string[] = [];
      for (let i = 0; i < count; i += 1) {
        const result = await createPortOrder(
          { accountId: account.accountId, idempotencyKey: `sweep-${i}`, request: twoCarrierOrder() },
          account.deps,
        );
        ids.push(...result.view.portRequests.map((pr) => pr.portRequestId));
      }
      return { ...account, ids };
    }

    /** The sweeper's deps over the account's fakes, its clock `offsetMs` ahead. */
    const sweeperDeps = (account: Awaited<ReturnType<typeof newAccount>>, offsetMs = 120_000) => ({
      repository,
      workflow: account.workflow,
      metrics: account.metrics,
      cadence: CADENCE,
      clock: { now: () => new Date(Date.now() + offsetMs) },
    });

    /** Clears what earlier tests left pending, so each test sees only its own marks. */
    beforeEach(async () => {
      for (const pending of (await repository.listPendingWorkflowStarts({ pendingBefore: FAR_FUTURE, limit: 1000 }))
        .items) {
        await repository.clearWorkflowStartPending(pending.accountId, pending.portRequestId);
      }
    });

    it('starts marked port requests older than the grace, oldest first, paging, and clears their marks', async () => {
      const account = await deferredOrders(3);
      const result = await startPendingWorkflows(
        { minAgeSeconds: 60, maxStarts: 100, pageSize: 2 },
        sweeperDeps(account),
      );
      expect(result).toEqual({ started: 6, failed: 0, more: false });
      // Order by order (the two port requests of an order share their time, so either may go first).
      const started = account.workflow.started.map((s) => s.portRequestId);
      const orderOf = (id: string | undefined) => id?.slice(0, -2);
      expect(started.map(orderOf)).toEqual(account.ids.map(orderOf));
      expect([...started].sort()).toEqual([...account.ids].sort());
      expect(account.workflow.started).toContainEqual({
        accountId: account.accountId,
        portRequestId: account.ids[0],
        route: 'API',
        cadence: CADENCE,
      });
      expect(await pendingStarts()).toEqual([]);
      expect(account.metrics.counts.WorkflowStartsSwept).toBe(6);
    });

    it('leaves marks younger than the grace: their own API call is most likely starting them', async () => {
      const account = await deferredOrders(1);
      const result = await startPendingWorkflows({ minAgeSeconds: 60, maxStarts: 100 }, sweeperDeps(account, 0));
      expect(result).toEqual({ started: 0, failed: 0, more: false });
      expect((await pendingStarts()).sort()).toEqual([...account.ids].sort());
    });

    it('starts at most maxStarts a run; the next run goes on', async () => {
      const account = await deferredOrders(2);
      const deps = sweeperDeps(account);
      expect(await startPendingWorkflows({ minAgeSeconds: 60, maxStarts: 3, pageSize: 2 }, deps)).toMatchObject({
        started: 3,
        more: true,
      });
      expect(await pendingStarts()).toHaveLength(1);
      expect(await startPendingWorkflows({ minAgeSeconds: 60, maxStarts: 3 }, deps)).toMatchObject({ started: 1 });
      expect(await pendingStarts()).toEqual([]);
    });

    it('ends the run at a throttled start, and goes past a start refused for another reason', async () => {
      const account = await deferredOrders(2);
      const deps = sweeperDeps(account);
      account.workflow.failNext(awsError('ThrottlingException'));
      expect(await startPendingWorkflows({ minAgeSeconds: 60, maxStarts: 100 }, deps)).toEqual({
        started: 0,
        failed: 1,
        more: true,
      });
      expect((await pendingStarts()).sort()).toEqual([...account.ids].sort());

      account.workflow.failNext(awsError('InvalidExecutionInput'));
      expect(await startPendingWorkflows({ minAgeSeconds: 60, maxStarts: 100 }, deps)).toEqual({
        started: 3,
        failed: 1,
        more: false,
      });
      expect(await pendingStarts()).toHaveLength(1);
      expect(account.metrics.counts.WorkflowStartsFailed).toBe(2);
    });

    it('stops when the invocation runs out of time', async () => {
      const account = await deferredOrders(1);
      let calls = 0;
      const result = await startPendingWorkflows(
        { minAgeSeconds: 60, maxStarts: 100, hasTimeLeft: () => calls++ < 1 },
        sweeperDeps(account),
      );
      expect(result).toEqual({ started: 1, failed: 0, more: true });
      expect(await pendingStarts()).toHaveLength(1);
    });
  });

  describe('clearWorkflowStartPending', () => {
    it('moves the version, so a write based on an earlier read cannot bring the mark back', async () => {
      const { accountId, workflow, deps } = await newAccount();
      workflow.failNext(awsError('ThrottlingException'));
      const result = await createPortOrder({ accountId, idempotencyKey: 'k6', request: twoCarrierOrder() }, deps);
      const id = result.view.portRequests[0]?.portRequestId as string;
      const read = (await repository.getPortRequest(accountId, id)) as PortRequest;
      expect(read.workflowStartPendingSince).toEqual(expect.any(String));
      expect(await repository.clearWorkflowStartPending(accountId, id)).toBe(true);
      await expect(
        db.send(
          new PutCommand({
            TableName: TABLE,
            Item: { PK: `ACCOUNT#${accountId}`, SK: `PORT_REQUEST#${id}`, ...read, version: read.version + 1 },
            ConditionExpression: 'version = :version',
            ExpressionAttributeValues: { ':version': read.version },
          }),
        ),
      ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      const stored = (await repository.getPortRequest(accountId, id)) as PortRequest;
      expect(stored.workflowStartPendingSince).toBeUndefined();
      expect(stored.version).toBe(read.version + 1);
      // Nothing left to clear: no write at all.
      expect(await repository.clearWorkflowStartPending(accountId, id)).toBe(false);
      expect((await repository.getPortRequest(accountId, id))?.version).toBe(read.version + 1);
    });

    it('keeps the index key out of the port request the repository answers', async () => {
      const { accountId, workflow, deps } = await newAccount();
      workflow.failNext(awsError('ThrottlingException'));
      const result = await createPortOrder({ accountId, idempotencyKey: 'k7', request: twoCarrierOrder() }, deps);
      const id = result.view.portRequests[0]?.portRequestId as string;
      const raw = (await itemsOf(accountId)).find((r) => r.SK === `PORT_REQUEST#${id}`);
      expect(raw?.[WorkflowStartsPendingIndex.partitionKey]).toBe('PENDING');
      const stored = (await repository.getPortRequest(accountId, id)) as unknown as Record<string, unknown>;
      expect(stored[WorkflowStartsPendingIndex.partitionKey]).toBeUndefined();
      // A read-modify-write keeps it in the index as long as the mark is set.
      await repository.updatePortRequest(accountId, id, (current) => ({ ...current, lastSyncedAt: 'x' }));
      expect(await pendingStarts()).toEqual(expect.arrayContaining([id]));
    });
  });
});
