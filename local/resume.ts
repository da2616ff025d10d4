import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { PortRequest } from '../lambdas/domain/port-request';
import { isTerminal } from '../lambdas/domain/port-status';
import type { PortWorkflowInput } from '../lambdas/shared/workflow-contract';

/** What {@link resumeOpenPorts} needs: the stand-ins' endpoints and the cadence the product API gives executions. */
export interface ResumeOptions {
  readonly dynamoDbUrl: string;
  readonly stepFunctionsUrl: string;
  readonly tableName: string;
  readonly stateMachineArn: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly cadence: PortWorkflowInput['cadence'];
}

/**
 * True while the workflow still owes this port request something: it is not in a terminal status, an email of
 * its outbox is unsent, or a ported number is not imported yet (a port COMPLETED in DynamoDB still runs
 * ImportNumbers and DeliverCompletionEmails).
 */
export function hasOpenWork(pr: Pick<PortRequest, 'status' | 'outbox' | 'phoneNumbers'>): boolean {
  if (!isTerminal(pr.status)) return true;
  if (pr.outbox.some((email) => !email.sentAt)) return true;
  return pr.status === 'COMPLETED' && pr.phoneNumbers.some((n) => n.status === 'COMPLETED' && !n.imported);
}

/**
 * Step Functions executions live only in memory in aws-local-stepfunctions: at start, every port request with open
 * work gets an execution again, named after it and with the input the product API gives (create-port-order). The
 * steps carry on from DynamoDB: SubmitPortIn skips a port-in already submitted, DeliverEmails sends only the
 * outbox's unsent emails, WaitForPortUpdate stores the new execution's token over the dead one, ImportNumbers skips
 * imported numbers. Answers the resumed port request ids.
 */
export async function resumeOpenPorts(options: ResumeOptions): Promise<string[]> {
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: options.dynamoDbUrl, region: options.region, credentials: options.credentials }),
  );
  const sfn = new SFNClient({
    endpoint: options.stepFunctionsUrl,
    region: options.region,
    credentials: options.credentials,
  });
  const resumed: string[] = [];
  try {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamo.send(
        new ScanCommand({
          TableName: options.tableName,
          FilterExpression: 'entity = :portRequest',
          ExpressionAttributeValues: { ':portRequest': 'PortRequest' },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of (page.Items ?? []) as unknown as PortRequest[]) {
        if (!hasOpenWork(item)) continue;
        const input: PortWorkflowInput = {
          accountId: item.accountId,
          portRequestId: item.portRequestId,
          route: item.route,
          cadence: options.cadence,
        };
        try {
          await sfn.send(
            new StartExecutionCommand({
              stateMachineArn: options.stateMachineArn,
              name: item.portRequestId,
              input: JSON.stringify(input),
            }),
          );
          resumed.push(item.portRequestId);
        } catch (error) {
          // Already running (an order placed while the scan ran started it).
          if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  } finally {
    dynamo.destroy();
    sfn.destroy();
  }
  return resumed;
}
