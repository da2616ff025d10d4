import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { WorkflowStartsPendingIndex } from '../../lambdas/shared/table-layout';

/** A dynalite server on a free port, in memory, for the integration tests that drive the real DynamoDB SDK. */
export async function startDynalite(): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = require('dynalite')({ createTableMs: 0, deleteTableMs: 0 }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** CreateTable for a table shaped as the service's (PK/SK strings), with its WorkflowStartsPending index if asked. */
export function serviceTableInput(
  TableName: string,
  options: { withStartsPendingIndex?: boolean } = {},
): CreateTableCommandInput {
  const { indexName, partitionKey, sortKey, projectedAttributes } = WorkflowStartsPendingIndex;
  return {
    TableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'PK', AttributeType: 'S' },
      { AttributeName: 'SK', AttributeType: 'S' },
      ...(options.withStartsPendingIndex
        ? [
            { AttributeName: partitionKey, AttributeType: 'S' as const },
            { AttributeName: sortKey, AttributeType: 'S' as const },
          ]
        : []),
    ],
    KeySchema: [
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ],
    ...(options.withStartsPendingIndex
      ? {
          GlobalSecondaryIndexes: [
            {
              IndexName: indexName,
              KeySchema: [
                { AttributeName: partitionKey, KeyType: 'HASH' },
                { AttributeName: sortKey, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projectedAttributes] },
            },
          ],
        }
      : {}),
  };
}
