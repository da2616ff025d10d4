import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

async function tableStatus(client: DynamoDBClient, TableName: string): Promise<string | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName }))).Table?.TableStatus;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/**
 * Creates a table of the template in dynalite. A table kept on disk by an earlier run is kept as it is, unless it
 * lacks an index the template now declares: dynalite cannot add an index to a table (UpdateTable has no
 * GlobalSecondaryIndexUpdates Create there), so the table is made again with its items copied over. Answers what
 * it did.
 */
export async function createOrUpgradeTable(
  client: DynamoDBClient,
  input: CreateTableCommandInput & { TableName: string },
): Promise<'created' | 'kept' | 'upgraded'> {
  const { TableName } = input;
  try {
    await client.send(new CreateTableCommand(input));
    return 'created';
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  await waitFor(async () => (await tableStatus(client, TableName)) === 'ACTIVE', `${TableName} to be ACTIVE`);
  const existing = (await client.send(new DescribeTableCommand({ TableName }))).Table;
  const has = new Set((existing?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  if ((input.GlobalSecondaryIndexes ?? []).every((index) => has.has(index.IndexName))) return 'kept';

  const items: Array<Record<string, AttributeValue>> = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  await client.send(new DeleteTableCommand({ TableName }));
  await waitFor(async () => (await tableStatus(client, TableName)) === undefined, `${TableName} to be deleted`);
  await client.send(new CreateTableCommand(input));
  await waitFor(async () => (await tableStatus(client, TableName)) === 'ACTIVE', `${TableName} to be ACTIVE`);
  for (let i = 0; i < items.length; i += 25) {
    let requests: WriteRequest[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const answer = await client.send(new BatchWriteItemCommand({ RequestItems: { [TableName]: requests } }));
      requests = answer.UnprocessedItems?.[TableName] ?? [];
    }
  }
  return 'upgraded';
}
