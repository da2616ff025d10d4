import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  DeleteCommandInput,
  DynamoDBDocumentClient,
  GetCommandInput,
  PutCommandInput,
  QueryCommandInput,
  UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { PortRequest } from '../../domain/port-request';
import { TERMINAL_STATUSES } from '../../domain/port-status';
import { awsClientConfig, awsClientOnFirstUse } from '../../shared/aws-clients';
import { ConcurrentUpdateError } from '../../shared/errors';
import { lazy } from '../../shared/lazy';
import {
  accountPartitionKey,
  DocumentUploadItem,
  WORKFLOW_START_QUEUE,
  WorkflowStartsPendingIndex,
} from '../../shared/table-layout';
import type {
  DeadLetter,
  DocumentUpload,
  IdempotencyRecord,
  InventoryNumber,
  Page,
  PendingWorkflowStart,
  PortInRepository,
  PortOrder,
  TwilioConnection,
} from '../../use-cases/ports';
import { traced } from '../observability/tracer';

const accountKey = accountPartitionKey;
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** Dead letters are kept two weeks: long enough for the DeadLetters alarm to be looked into. */
const DEAD_LETTER_TTL_SECONDS = 14 * 24 * 60 * 60;
const MAX_WRITE_ATTEMPTS = 8;
/** An upload nobody completed outlives its object (the bucket drops it after a day) by a day. */
const PENDING_UPLOAD_TTL_SECONDS = 2 * 24 * 60 * 60;
/** A completed upload keeps answering its documentSid for a month. */
const COMPLETED_UPLOAD_TTL_SECONDS = 30 * 24 * 60 * 60;
const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

type Item = Record<string, unknown>;

/** The DynamoDB client and its document client, loaded with the first request. */
const dynamoDbSdk = lazy(() => Promise.all([import('@aws-sdk/client-dynamodb'), import('@aws-sdk/lib-dynamodb')]));

/** Whether a write was refused by its condition (the SDK's own exception class, as before). */
async function conditionFailed(error: unknown): Promise<boolean> {
  const [{ ConditionalCheckFailedException }] = await dynamoDbSdk();
  return error instanceof ConditionalCheckFailedException;
}

function strip<T>(item: Item | undefined): T | undefined {
  if (!item) return undefined;
  const { PK: _pk, SK: _sk, entity: _e, expiresAt: _x, [WorkflowStartsPendingIndex.partitionKey]: _q, ...rest } = item;
  return rest as T;
}

// The index's sort key is the port request's own field, written and read back with the item.
const _sortKeyIsAPortRequestField: keyof PortRequest = WorkflowStartsPendingIndex.sortKey;

/** A port request as stored: its keys, and in the pending-starts index while `workflowStartPendingSince` is set. */
function portRequestItem(portRequest: PortRequest): Item {
  return {
    PK: accountKey(portRequest.accountId),
    SK: `PORT_REQUEST#${portRequest.portRequestId}`,
    entity: 'PortRequest',
    ...portRequest,
    ...(portRequest.workflowStartPendingSince
      ? { [WorkflowStartsPendingIndex.partitionKey]: WORKFLOW_START_QUEUE }
      : {}),
  };
}

/** The sweeper's cursor over the pending-starts index: the last key read, opaque to it. */
function encodeIndexCursor(key: Item | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

function decodeIndexCursor(cursor: string | undefined): Item | undefined {
  if (!cursor) return undefined;
  const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Item;
  return key && typeof key === 'object' ? key : undefined;
}

function encodeCursor(key: Item | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

function decodeCursor(cursor: string | undefined, accountId: string): Item | undefined {
  if (!cursor) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Item;
    // A cursor is only ever a key of the caller's own account.
    if (key.PK !== accountKey(accountId) || typeof key.SK !== 'string' || !key.SK.startsWith('PORT_REQUEST#')) {
      return undefined;
    }
    return { PK: key.PK, SK: key.SK };
  } catch {
    return undefined;
  }
}

/** Per port request, whether recordWebhookWake last found an earlier webhook pending (a hint, bounded). */
const earlierPendingLastTime = new Map<string, boolean>();
const MAX_WAKE_HINTS = 10_000;

function rememberVariant(key: string, earlierPending: boolean): void {
  earlierPendingLastTime.delete(key);
  if (earlierPendingLastTime.size >= MAX_WAKE_HINTS) {
    earlierPendingLastTime.delete(earlierPendingLastTime.keys().next().value as string);
  }
  earlierPendingLastTime.set(key, earlierPending);
}

/** The single-table DynamoDB repository. Every write is one conditional single-item write. */
export class DynamoPortInRepository implements PortInRepository {
  private readonly db: () => Promise<DynamoDBDocumentClient>;

  constructor(
    private readonly tableName: string,
    client?: DynamoDBClient,
  ) {
    this.db = awsClientOnFirstUse(dynamoDbSdk, ([dynamodb, documents]) =>
      documents.DynamoDBDocumentClient.from(client ?? traced(new dynamodb.DynamoDBClient(awsClientConfig)), {
        marshallOptions: { removeUndefinedValues: true },
      }),
    );
  }

  private async put(input: PutCommandInput) {
    const [db, [, documents]] = await Promise.all([this.db(), dynamoDbSdk()]);
    return db.send(new documents.PutCommand(input));
  }

  private async update(input: UpdateCommandInput) {
    const [db, [, documents]] = await Promise.all([this.db(), dynamoDbSdk()]);
    return db.send(new documents.UpdateCommand(input));
  }

  private async delete(input: DeleteCommandInput) {
    const [db, [, documents]] = await Promise.all([this.db(), dynamoDbSdk()]);
    return db.send(new documents.DeleteCommand(input));
  }

  private async query(input: QueryCommandInput) {
    const [db, [, documents]] = await Promise.all([this.db(), dynamoDbSdk()]);
    return db.send(new documents.QueryCommand(input));
  }

  private async getItem(input: GetCommandInput) {
    const [db, [, documents]] = await Promise.all([this.db(), dynamoDbSdk()]);
    return db.send(new documents.GetCommand(input));
  }

  async getConnection(accountId: string): Promise<TwilioConnection | undefined> {
    return this.get<TwilioConnection>(accountId, 'TWILIO_CONNECTION');
  }

  async putConnection(connection: TwilioConnection): Promise<void> {
    await this.put({
      TableName: this.tableName,
      Item: {
        PK: accountKey(connection.accountId),
        SK: 'TWILIO_CONNECTION',
        entity: 'TwilioConnection',
        ...connection,
      },
    });
  }

  async claimIdempotencyKey(record: IdempotencyRecord): Promise<{ claimed: boolean; record: IdempotencyRecord }> {
    const key = { PK: accountKey(record.accountId), SK: `IDEMPOTENCY#${record.key}` };
    try {
      await this.put({
        TableName: this.tableName,
        Item: {
          ...key,
          entity: 'IdempotencyRecord',
          ...record,
          expiresAt: Math.floor(Date.parse(record.createdAt) / 1000) + IDEMPOTENCY_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      });
      return { claimed: true, record };
    } catch (error) {
      if (!(await conditionFailed(error))) throw error;
      const existing = await this.get<IdempotencyRecord>(record.accountId, key.SK);
      if (!existing) return this.claimIdempotencyKey(record);
      return { claimed: false, record: existing };
    }
  }

  async completeIdempotencyKey(accountId: string, key: string, response: unknown): Promise<void> {
    await this.update({
      TableName: this.tableName,
      Key: { PK: accountKey(accountId), SK: `IDEMPOTENCY#${key}` },
      UpdateExpression: 'SET #status = :completed, #response = :response',
      ExpressionAttributeNames: { '#status': 'status', '#response': 'response' },
      ExpressionAttributeValues: { ':completed': 'COMPLETED', ':response': response },
      ConditionExpression: 'attribute_exists(PK)',
    });
  }

  async releaseIdempotencyKey(accountId: string, key: string): Promise<void> {
    await this.delete({ TableName: this.tableName, Key: { PK: accountKey(accountId), SK: `IDEMPOTENCY#${key}` } });
  }

  async interruptIdempotencyKey(accountId: string, key: string): Promise<void> {
    try {
      await this.update({
        TableName: this.tableName,
        Key: { PK: accountKey(accountId), SK: `IDEMPOTENCY#${key}` },
        UpdateExpression: 'SET #status = :interrupted',
        ConditionExpression: 'attribute_exists(PK) AND #status = :inProgress',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':interrupted': 'INTERRUPTED', ':inProgress': 'IN_PROGRESS' },
      });
    } catch (error) {
      // Gone, or completed meanwhile: nothing to mark.
      if (!(await conditionFailed(error))) throw error;
    }
  }

  async putOrder(order: PortOrder): Promise<void> {
    await this.putIfAbsent({
      PK: accountKey(order.accountId),
      SK: `ORDER#${order.orderId}`,
      entity: 'PortOrder',
      ...order,
    });
  }

  async getOrder(accountId: string, orderId: string): Promise<PortOrder | undefined> {
    return this.get<PortOrder>(accountId, `ORDER#${orderId}`);
  }

  async putPortRequest(portRequest: PortRequest): Promise<void> {
    await this.putIfAbsent(portRequestItem(portRequest));
  }

  async getPortRequest(accountId: string, portRequestId: string): Promise<PortRequest | undefined> {
    return this.get<PortRequest>(accountId, `PORT_REQUEST#${portRequestId}`);
  }

  async updatePortRequest(
    accountId: string,
    portRequestId: string,
    change: (current: PortRequest) => PortRequest | undefined,
  ): Promise<PortRequest> {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt += 1) {
      const current = await this.getPortRequest(accountId, portRequestId);
      if (!current) throw new Error(`Port request ${portRequestId} not found`);
      const changed = change(current);
      if (!changed || changed === current) return current;
      const next: PortRequest = { ...changed, version: current.version + 1, updatedAt: new Date().toISOString() };
      try {
        await this.put({
          TableName: this.tableName,
          Item: portRequestItem(next),
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':version': current.version },
        });
        return next;
      } catch (error) {
        if (!(await conditionFailed(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
    throw new ConcurrentUpdateError(`Port request ${portRequestId} kept changing under us`);
  }

  async recordWebhookWake(accountId: string, portRequestId: string, at: string): Promise<PortRequest | undefined> {
    const terminalValues = Object.fromEntries([...TERMINAL_STATUSES].map((status, i) => [`:terminal${i}`, status]));
    // Not finished (a finished port request has nothing left to wake: it stays untouched).
    const live = Object.keys(terminalValues)
      .map((value) => `#status <> ${value}`)
      .join(' AND ');
    // withWebhookWake's test, (webhookPendingWake ?? 0) > (wakesHandled ?? 0), and its negation, on the stored item,
    // as a flat OR of ANDs (AND binds tighter), each on an item that exists.
    // No nested parentheses: dynalite's parser backtracks on them (4 ms for the nested form of the same test).
    const earlierPending = [
      `attribute_exists(PK) AND attribute_not_exists(#handled) AND #pendingWake > :zero AND ${live}`,
      `attribute_exists(PK) AND #pendingWake > #handled AND ${live}`,
    ].join(' OR ');
    const noEarlierPending = [
      `attribute_exists(PK) AND attribute_not_exists(#pendingWake) AND ${live}`,
      `attribute_exists(PK) AND attribute_not_exists(#handled) AND #pendingWake <= :zero AND ${live}`,
      `attribute_exists(PK) AND #pendingWake <= #handled AND ${live}`,
    ].join(' OR ');
    const woken =
      'SET #wakeCount = if_not_exists(#wakeCount, :zero) + :one, #wakeRequestedAt = :at, #version = #version + :one, #updatedAt = :now';
    const variants = [
      // No earlier webhook waits for a sync: this one becomes the one the next status change is timed from.
      {
        condition: noEarlierPending,
        update: `${woken}, #pendingSince = :at, #pendingWake = if_not_exists(#wakeCount, :zero) + :one`,
      },
      { condition: earlierPending, update: woken },
    ];
    // Webhooks come in bursts: try first what held last time for this port request (one write, not two, mostly).
    const key = `${accountId}#${portRequestId}`;
    if (earlierPendingLastTime.get(key)) variants.reverse();
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt += 1) {
      for (const variant of variants) {
        try {
          const result = await this.update({
            TableName: this.tableName,
            Key: { PK: accountKey(accountId), SK: `PORT_REQUEST#${portRequestId}` },
            UpdateExpression: variant.update,
            ConditionExpression: variant.condition,
            ExpressionAttributeNames: {
              '#status': 'status',
              '#wakeCount': 'wakeCount',
              '#wakeRequestedAt': 'wakeRequestedAt',
              '#version': 'version',
              '#updatedAt': 'updatedAt',
              '#pendingWake': 'webhookPendingWake',
              '#handled': 'wakesHandled',
              ...(variant.update.includes('#pendingSince') ? { '#pendingSince': 'webhookPendingSince' } : {}),
            },
            ExpressionAttributeValues: {
              ...terminalValues,
              ':zero': 0,
              ':one': 1,
              ':at': at,
              ':now': new Date().toISOString(),
            },
            ReturnValues: 'ALL_NEW',
          });
          rememberVariant(key, variant.update === woken);
          return strip<PortRequest>(result.Attributes);
        } catch (error) {
          if (!(await conditionFailed(error))) throw error;
        }
      }
      // Neither variant held: the item is missing or finished, or a sync moved wakesHandled between the two tries.
      const current = await this.getPortRequest(accountId, portRequestId);
      if (!current || TERMINAL_STATUSES.has(current.status)) return current;
    }
    throw new ConcurrentUpdateError(`Port request ${portRequestId} kept changing under us`);
  }

  async listPortRequests(
    accountId: string,
    options: { status?: string; limit: number; cursor?: string },
  ): Promise<Page<PortRequest>> {
    const items: PortRequest[] = [];
    let startKey = decodeCursor(options.cursor, accountId);
    do {
      const page = await this.query({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: {
          ':pk': accountKey(accountId),
          ':prefix': 'PORT_REQUEST#',
          ...(options.status ? { ':status': options.status } : {}),
        },
        ...(options.status
          ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } }
          : {}),
        ScanIndexForward: false,
        Limit: options.limit - items.length,
        ExclusiveStartKey: startKey,
      });
      for (const item of page.Items ?? []) items.push(strip<PortRequest>(item) as PortRequest);
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < options.limit);
    const last = items.at(-1);
    const nextCursor =
      startKey && last
        ? encodeCursor({ PK: accountKey(accountId), SK: `PORT_REQUEST#${last.portRequestId}` })
        : undefined;
    return { items, ...(nextCursor ? { nextCursor } : {}) };
  }

  async putTwilioPortInLookup(accountId: string, twilioSid: string, portRequestId: string): Promise<void> {
    await this.put({
      TableName: this.tableName,
      Item: {
        PK: accountKey(accountId),
        SK: `TWILIO_PORT_IN#${twilioSid}`,
        entity: 'TwilioPortInLookup',
        portRequestId,
      },
    });
  }

  async findPortRequestIdByTwilioSid(accountId: string, twilioSid: string): Promise<string | undefined> {
    const item = await this.get<{ portRequestId: string }>(accountId, `TWILIO_PORT_IN#${twilioSid}`);
    return item?.portRequestId;
  }

  async listNumberClaims(accountId: string): Promise<ReadonlyMap<string, string>> {
    const items = await this.queryAll(accountId, 'NUMBER_CLAIM#');
    return new Map(items.map((item) => [String(item.phoneNumber), String(item.portRequestId)]));
  }

  async claimNumber(
    accountId: string,
    phoneNumber: string,
    portRequestId: string,
    replacing?: string,
  ): Promise<boolean> {
    try {
      await this.put({
        TableName: this.tableName,
        Item: {
          PK: accountKey(accountId),
          SK: `NUMBER_CLAIM#${phoneNumber}`,
          entity: 'NumberClaim',
          phoneNumber,
          portRequestId,
        },
        ConditionExpression: 'attribute_not_exists(PK) OR portRequestId = :mine OR portRequestId = :stale',
        ExpressionAttributeValues: { ':mine': portRequestId, ':stale': replacing ?? portRequestId },
      });
      return true;
    } catch (error) {
      if (await conditionFailed(error)) return false;
      throw error;
    }
  }

  async putInventoryNumberIfAbsent(number: InventoryNumber): Promise<boolean> {
    return this.putIfAbsent({
      PK: accountKey(number.accountId),
      SK: `INVENTORY#${number.phoneNumber}`,
      entity: 'InventoryNumber',
      ...number,
    });
  }

  async listInventory(accountId: string): Promise<readonly InventoryNumber[]> {
    const items = await this.queryAll(accountId, 'INVENTORY#');
    return items.map((item) => strip<InventoryNumber>(item) as InventoryNumber);
  }

  async putDeadLetter(deadLetter: DeadLetter): Promise<void> {
    await this.put({
      TableName: this.tableName,
      Item: {
        PK: accountKey(deadLetter.accountId),
        SK: `DEAD_LETTER#${deadLetter.deadLetterId}`,
        entity: 'DeadLetter',
        ...deadLetter,
        expiresAt: Math.floor(Date.parse(deadLetter.receivedAt) / 1000) + DEAD_LETTER_TTL_SECONDS,
      },
    });
  }

  async listPendingWorkflowStarts(options: {
    pendingBefore: string;
    limit: number;
    cursor?: string;
  }): Promise<Page<PendingWorkflowStart>> {
    const { indexName, partitionKey, sortKey } = WorkflowStartsPendingIndex;
    const page = await this.query({
      TableName: this.tableName,
      IndexName: indexName,
      KeyConditionExpression: '#queue = :queue AND #since <= :before',
      ExpressionAttributeNames: { '#queue': partitionKey, '#since': sortKey },
      ExpressionAttributeValues: { ':queue': WORKFLOW_START_QUEUE, ':before': options.pendingBefore },
      ScanIndexForward: true,
      Limit: options.limit,
      ExclusiveStartKey: decodeIndexCursor(options.cursor),
    });
    const items = (page.Items ?? []).map(
      (item): PendingWorkflowStart => ({
        accountId: String(item.accountId),
        portRequestId: String(item.portRequestId),
        route: item.route === 'MANUAL' ? 'MANUAL' : 'API',
        pendingSince: String(item[sortKey]),
      }),
    );
    const nextCursor = encodeIndexCursor(page.LastEvaluatedKey);
    return { items, ...(nextCursor ? { nextCursor } : {}) };
  }

  async clearWorkflowStartPending(accountId: string, portRequestId: string): Promise<boolean> {
    try {
      await this.update({
        TableName: this.tableName,
        Key: { PK: accountKey(accountId), SK: `PORT_REQUEST#${portRequestId}` },
        // The version moves too: a read-modify-write that read the mark must not write it back.
        UpdateExpression: 'REMOVE #since, #queue SET #version = #version + :one, #updatedAt = :now',
        ConditionExpression: 'attribute_exists(#since)',
        ExpressionAttributeNames: {
          '#since': WorkflowStartsPendingIndex.sortKey,
          '#queue': WorkflowStartsPendingIndex.partitionKey,
          '#version': 'version',
          '#updatedAt': 'updatedAt',
        },
        ExpressionAttributeValues: { ':one': 1, ':now': new Date().toISOString() },
      });
      return true;
    } catch (error) {
      if (await conditionFailed(error)) return false;
      throw error;
    }
  }

  async putDocumentUpload(upload: DocumentUpload): Promise<void> {
    await this.putIfAbsent({
      PK: accountKey(upload.accountId),
      SK: DocumentUploadItem.sortKey(upload.uploadId),
      entity: DocumentUploadItem.entity,
      ...upload,
      expiresAt: epochSeconds(upload.urlExpiresAt) + PENDING_UPLOAD_TTL_SECONDS,
    });
  }

  async getDocumentUpload(accountId: string, uploadId: string): Promise<DocumentUpload | undefined> {
    return this.get<DocumentUpload>(accountId, DocumentUploadItem.sortKey(uploadId));
  }

  async claimDocumentUploadCompletion(
    accountId: string,
    uploadId: string,
    options: { at: string; staleBefore: string },
  ): Promise<{ claimed: boolean; upload: DocumentUpload | undefined }> {
    try {
      const result = await this.update({
        TableName: this.tableName,
        Key: { PK: accountKey(accountId), SK: DocumentUploadItem.sortKey(uploadId) },
        UpdateExpression: 'SET #status = :completing, #since = :at',
        // Flat OR of ANDs: dynalite's parser backtracks on nested parentheses.
        ConditionExpression:
          'attribute_exists(PK) AND #status = :pending OR attribute_exists(PK) AND #status = :completing AND #since < :staleBefore',
        ExpressionAttributeNames: { '#status': 'status', '#since': 'completingSince' },
        ExpressionAttributeValues: {
          ':completing': 'COMPLETING',
          ':pending': 'PENDING',
          ':at': options.at,
          ':staleBefore': options.staleBefore,
        },
        ReturnValues: 'ALL_NEW',
      });
      return { claimed: true, upload: strip<DocumentUpload>(result.Attributes) };
    } catch (error) {
      if (!(await conditionFailed(error))) throw error;
      return { claimed: false, upload: await this.getDocumentUpload(accountId, uploadId) };
    }
  }

  async releaseDocumentUploadCompletion(accountId: string, uploadId: string, claimedAt: string): Promise<void> {
    try {
      await this.update({
        TableName: this.tableName,
        Key: { PK: accountKey(accountId), SK: DocumentUploadItem.sortKey(uploadId) },
        UpdateExpression: 'SET #status = :pending REMOVE #since',
        ConditionExpression: '#status = :completing AND #since = :claimedAt',
        ExpressionAttributeNames: { '#status': 'status', '#since': 'completingSince' },
        ExpressionAttributeValues: { ':pending': 'PENDING', ':completing': 'COMPLETING', ':claimedAt': claimedAt },
      });
    } catch (error) {
      // Taken over meanwhile (this claim had gone stale): the new holder decides.
      if (!(await conditionFailed(error))) throw error;
    }
  }

  async completeDocumentUpload(
    accountId: string,
    uploadId: string,
    completion: { claimedAt: string; documentSid: string; completedAt: string },
  ): Promise<DocumentUpload> {
    try {
      const result = await this.update({
        TableName: this.tableName,
        Key: { PK: accountKey(accountId), SK: DocumentUploadItem.sortKey(uploadId) },
        UpdateExpression:
          'SET #status = :completed, documentSid = :sid, completedAt = :at, expiresAt = :expiresAt REMOVE #since',
        ConditionExpression: '#status = :completing AND #since = :claimedAt',
        ExpressionAttributeNames: { '#status': 'status', '#since': 'completingSince' },
        ExpressionAttributeValues: {
          ':completed': 'COMPLETED',
          ':completing': 'COMPLETING',
          ':sid': completion.documentSid,
          ':at': completion.completedAt,
          ':expiresAt': epochSeconds(completion.completedAt) + COMPLETED_UPLOAD_TTL_SECONDS,
          ':claimedAt': completion.claimedAt,
        },
        ReturnValues: 'ALL_NEW',
      });
      return strip<DocumentUpload>(result.Attributes) as DocumentUpload;
    } catch (error) {
      if (!(await conditionFailed(error))) throw error;
      // This claim went stale and another completion finished first: its document is the upload's.
      const stored = await this.getDocumentUpload(accountId, uploadId);
      if (stored?.status === 'COMPLETED') return stored;
      throw new ConcurrentUpdateError(`Document upload ${uploadId} was taken over while it was completed`);
    }
  }

  /** Every item of the account whose sort key starts with `prefix`, all pages. */
  private async queryAll(accountId: string, prefix: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.query({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': accountKey(accountId), ':prefix': prefix },
        ExclusiveStartKey: startKey,
      });
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  private async get<T>(accountId: string, sk: string): Promise<T | undefined> {
    const result = await this.getItem({
      TableName: this.tableName,
      Key: { PK: accountKey(accountId), SK: sk },
      ConsistentRead: true,
    });
    return strip<T>(result.Item);
  }

  private async putIfAbsent(item: Item): Promise<boolean> {
    try {
      await this.put({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' });
      return true;
    } catch (error) {
      if (await conditionFailed(error)) return false;
      throw error;
    }
  }
}
