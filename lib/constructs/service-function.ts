import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The repository root: entries are given relative to it, as the local stack reads them from the metadata. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** CfnFunction metadata key naming the handler module, relative to the repository root. */
export const ENTRY_METADATA_KEY = 'RingTonic:Entry';

/**
 * esbuild's ESM output keeps CommonJS dependencies (twilio, among others) calling `require`, which ESM lacks;
 * this banner gives the bundle one.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __ringTonicCreateRequire } from 'node:module'; const require = __ringTonicCreateRequire(import.meta.url);";

/** Properties of a {@link ServiceFunction}. */
export interface ServiceFunctionProps {
  /** Handler module, relative to the repository root, e.g. `lambdas/handlers/api/product-api.ts`. */
  readonly entry: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /**
   * How long one invocation may run.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB (also buys CPU).
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Environment variables besides the ones the `bind`/`grant` helpers set.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Concurrent instances kept for (and allowed to) the function.
   * @default - none reserved: the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A Lambda function with the service's defaults: Node.js 22 on arm64, X-Ray tracing, its own log group, a
 * minified ESM bundle with source maps, the AWS SDK taken from the runtime. Permissions and the environment
 * variables that go with them are set together through {@link bindTable} and the other constructs' `grant*`.
 */
export class ServiceFunction extends NodejsFunction {
  /** The handler module, relative to the repository root. */
  readonly entryPath: string;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const entryPath = props.entry.split(path.sep).join('/');
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      // Logs are the record of what happened to a customer's numbers: keep them if the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Its own role rather than the default one with AWSLambdaBasicExecutionRole, which may write to any log group.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${id}`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: path.join(REPO_ROOT, entryPath),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      logGroup,
      role,
      environment: {
        // Stack traces point at the TypeScript sources.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        // Maps without embedded sources are a third the size; traces still name file and line.
        sourcesContent: false,
        target: 'node22',
        externalModules: ['@aws-sdk/*'],
      },
    });
    this.entryPath = entryPath;
    (this.node.defaultChild as lambda.CfnFunction).addMetadata(ENTRY_METADATA_KEY, entryPath);
  }

  /**
   * Lets the function use the table and tells it the table's name (`TABLE_NAME`).
   * @param access `readWrite` (default) or `read`
   */
  bindTable(table: dynamodb.Table, access: 'read' | 'readWrite' = 'readWrite'): this {
    // The table's items only, not its indexes: the one index (WorkflowStartsPending) is the sweeper's, which
    // grants its own Query on it.
    const grants = dynamodb.TableGrants.fromTable(table, undefined, false);
    if (access === 'read') grants.readData(this);
    else grants.readWriteData(this);
    this.addEnvironment('TABLE_NAME', table.tableName);
    return this;
  }
}
