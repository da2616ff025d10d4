import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { WorkflowStartsPendingIndex } from '../../lambdas/shared/table-layout';

/** Properties of {@link PortInData}. */
export interface PortInDataProps {
  /**
   * Customer managed key for the table.
   * @default - an AWS managed key (`alias/aws/dynamodb`)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the table when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The service's state: one DynamoDB table (PK/SK strings) holding Twilio connections, orders, port requests with
 * their timeline and outbox, idempotency records and the inventory. `expiresAt` (epoch seconds) lets idempotency
 * records expire. One sparse index, WorkflowStartsPending, lists the port requests whose execution is not known to
 * have started.
 *
 * `dynamodb.Table` (AWS::DynamoDB::Table) rather than `TableV2` (AWS::DynamoDB::GlobalTable): there is one
 * region, and the local stack creates its dynalite table from the same template.
 */
export class PortInData extends Construct {
  /** The single table. */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: PortInDataProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'PK', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'SK', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      // Port requests are customers' records of an ongoing carrier change: a stray delete must not lose them.
      deletionProtection: true,
    });
    // Sparse: only port requests whose execution is not known to have started (the sweeper's work list).
    const { indexName, partitionKey, sortKey, projectedAttributes } = WorkflowStartsPendingIndex;
    this.table.addGlobalSecondaryIndex({
      indexName,
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...projectedAttributes],
    });
  }
}
