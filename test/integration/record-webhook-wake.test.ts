import { ConditionalCheckFailedException, CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoPortInRepository } from '../../lambdas/adapters/dynamodb/port-in-repository';
import { type PortRequest, withWebhookWake } from '../../lambdas/domain/port-request';
import type { PortRequestStatus } from '../../lambdas/domain/port-status';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/stack';
import { serviceTableInput, startDynalite } from '../support/dynalite';

const TABLE = 'RecordWebhookWakeTest';
const ACCOUNT = 'acct_wake';
const AT = '2026-11-27T10:00:00.000Z';

function portRequest(id: string, fields: Partial<PortRequest> = {}): PortRequest {
  return {
    accountId: ACCOUNT,
    portRequestId: id,
    orderId: 'ord_1',
    status: 'SUBMITTED',
    taskToken: `token-${id}`,
    phoneNumbers: [{ phoneNumber: '+14155550140', numberType: 'LOCAL', status: 'SUBMITTED', imported: false }],
    notificationEmails: ['owner@acme.example'],
    events: [],
    outbox: [],
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    version: 3,
    ...fields,
  } as unknown as PortRequest;
}

/** What withWebhookWake answers, less the two fields the repository stamps itself. */
const comparable = ({ updatedAt: _u, version: _v, ...rest }: PortRequest) => rest;

describe('DynamoPortInRepository.recordWebhookWake (dynalite, real SDK): one atomic write, as withWebhookWake', () => {
  let dynalite: Awaited<ReturnType<typeof startDynalite>>;
  let client: DynamoDBClient;
  let repository: DynamoPortInRepository;

  beforeAll(async () => {
    dynalite = await startDynalite();
    client = new DynamoDBClient({ endpoint: dynalite.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    await client.send(new CreateTableCommand(serviceTableInput(TABLE)));
    repository = new DynamoPortInRepository(TABLE, client);
  });

  afterAll(async () => {
    client?.destroy();
    await dynalite?.close();
  });

  const cases: Array<[string, Partial<PortRequest>]> = [
    ['never woken', {}],
    [
      'woken before, nothing pending',
      { wakeCount: 4, wakesHandled: 4, webhookPendingWake: 2, webhookPendingSince: AT },
    ],
    ['an earlier webhook pending', { wakeCount: 4, wakesHandled: 2, webhookPendingWake: 3, webhookPendingSince: AT }],
    ['pending wake but no sync yet', { wakeCount: 1, webhookPendingWake: 1, webhookPendingSince: AT }],
    ['pending wake 0, no sync yet', { wakeCount: 2, webhookPendingWake: 0 }],
    ['synced, never a webhook', { wakeCount: 2, wakesHandled: 2 }],
    ['a sync ahead of the pending wake', { wakeCount: 5, wakesHandled: 5, webhookPendingWake: 5 }],
  ];

  it.each(cases)('%s', async (name, fields) => {
    const id = `pr_${name.replace(/\W+/g, '_')}`;
    const stored = portRequest(id, fields);
    await repository.putPortRequest(stored);
    const at = '2026-11-27T11:30:00.000Z';
    const answered = await repository.recordWebhookWake(ACCOUNT, id, at);
    const expected = withWebhookWake(stored, at);
    expect(answered && comparable(answered)).toEqual(comparable(expected));
    expect(answered?.version).toBe(stored.version + 1);
    expect(answered?.updatedAt).not.toBe(stored.updatedAt);
    expect(await repository.getPortRequest(ACCOUNT, id)).toEqual(answered);
  });

  it.each(['COMPLETED', 'CANCELED', 'EXPIRED', 'FAILED'] as PortRequestStatus[])(
    'leaves a %s port request untouched',
    async (status) => {
      const id = `pr_done_${status}`;
      const stored = portRequest(id, { status, wakeCount: 1 });
      await repository.putPortRequest(stored);
      const answered = await repository.recordWebhookWake(ACCOUNT, id, AT);
      expect(answered).toEqual(stored);
      expect(await repository.getPortRequest(ACCOUNT, id)).toEqual(stored);
    },
  );

  it('answers undefined for a port request that does not exist, and writes nothing', async () => {
    expect(await repository.recordWebhookWake(ACCOUNT, 'pr_missing', AT)).toBeUndefined();
    expect(await repository.getPortRequest(ACCOUNT, 'pr_missing')).toBeUndefined();
  });

  it("loses no wake among many at once, nor a concurrent optimistic writer's change", async () => {
    const id = 'pr_many';
    await repository.putPortRequest(portRequest(id, { wakeCount: 0, wakesHandled: 0 }));
    const writer = repository.updatePortRequest(ACCOUNT, id, (current) => ({ ...current, outbox: [] }));
    const wakes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        repository.recordWebhookWake(ACCOUNT, id, `2026-11-27T12:00:${String(i).padStart(2, '0')}.000Z`),
      ),
    );
    await writer;
    const final = (await repository.getPortRequest(ACCOUNT, id)) as PortRequest;
    expect(final.wakeCount).toBe(50);
    expect(final.version).toBe(3 + 50 + 1);
    expect(wakes.map((w) => w?.wakeCount).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    // Only the first wake found nothing pending: the rest keep its time.
    expect(final.webhookPendingWake).toBe(1);
    expect(final.webhookPendingSince).toBe(wakes.find((w) => w?.wakeCount === 1)?.wakeRequestedAt);
  });

  it('bumps version, so a write based on a read from before the wake is refused rather than losing it', async () => {
    const id = 'pr_stale';
    await repository.putPortRequest(portRequest(id, { wakeCount: 0 }));
    const read = (await repository.getPortRequest(ACCOUNT, id)) as PortRequest;
    await repository.recordWebhookWake(ACCOUNT, id, AT);
    const db = DynamoDBDocumentClient.from(client);
    await expect(
      db.send(
        new PutCommand({
          TableName: TABLE,
          Item: { PK: `ACCOUNT#${ACCOUNT}`, SK: `PORT_REQUEST#${id}`, ...read, version: read.version + 1 },
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':version': read.version },
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect((await repository.getPortRequest(ACCOUNT, id))?.wakeCount).toBe(1);
  });
});
