import type {
  AttributeDefinition,
  BillingMode,
  CreateTableCommandInput,
  GlobalSecondaryIndex,
  KeySchemaElement,
  LocalSecondaryIndex,
  Projection,
  ProvisionedThroughput,
} from '@aws-sdk/client-dynamodb';
import { ENTRY_METADATA_KEY } from '../../lib/constructs/service-function';
import { type IntrinsicResolver, type PseudoParameters, resolveIntrinsics } from './resolve';
import type { CloudFormationResource, CloudFormationTemplate } from './synthesize';

/** A Lambda function of the template that the local stack can run: its handler module and settings. */
export interface TemplateLambdaFunction {
  readonly logicalId: string;
  /** The handler module, relative to the repository root (the function's `RingTonic:Entry` metadata). */
  readonly entry: string;
  /** The exported handler's name (`index.handler` → `handler`). */
  readonly handlerExport: string;
  /** The Handler setting as Lambda reads it: `<module>.<export>`, e.g. `index.handler`. */
  readonly handler: string;
  /**
   * The function's asset directory, relative to the cloud assembly (`aws:asset:path` metadata; present when the
   * app was synthesized with bundling and asset metadata, see local/lambda/bundles.ts).
   */
  readonly assetPath?: string;
  /** `ReservedConcurrentExecutions`, when the template sets it. */
  readonly reservedConcurrency?: number;
  /** `Environment.Variables`, intrinsics unresolved: resolve them with the local resolver. */
  readonly environment: Record<string, unknown>;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
}

/** A DynamoDB table of the template, as the CreateTable call that makes it locally. */
export interface TemplateDynamoTable {
  readonly logicalId: string;
  /** TableName is the declared one, else the logical id: pass your own name to create it under another. */
  readonly createTableInput: CreateTableCommandInput;
}

/** The parsed Amazon States Language document. */
export type StateMachineDefinition = Record<string, unknown> & { readonly States: Record<string, unknown> };

function resourcesOfType(
  template: CloudFormationTemplate,
  ...types: string[]
): Array<[string, CloudFormationResource]> {
  return Object.entries(template.Resources ?? {}).filter(([, resource]) => types.includes(resource.Type));
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what} is not an object`);
  return value as Record<string, unknown>;
}

/**
 * The state machine's definition with every intrinsic resolved (function ARNs become local ones), its
 * DefinitionSubstitutions applied, parsed.
 * @param logicalId which state machine, when the template has more than one
 */
export function stateMachineDefinition(
  template: CloudFormationTemplate,
  resolver: IntrinsicResolver,
  pseudo?: PseudoParameters,
  logicalId?: string,
): StateMachineDefinition {
  const machines = resourcesOfType(template, 'AWS::StepFunctions::StateMachine').filter(
    ([id]) => logicalId === undefined || id === logicalId,
  );
  const [machine, ...others] = machines;
  if (!machine) throw new Error(`The template has no state machine${logicalId ? ` ${logicalId}` : ''}`);
  if (others.length > 0) {
    throw new Error(`The template has several state machines (${machines.map(([id]) => id)}): name one`);
  }
  const [id, resource] = machine;
  const props = record(resource.Properties ?? {}, `${id}.Properties`);

  let definitionText: string;
  if (props.DefinitionString !== undefined) {
    const resolved = resolveIntrinsics(props.DefinitionString, resolver, pseudo);
    if (typeof resolved !== 'string') throw new Error(`${id}.DefinitionString did not resolve to a string`);
    definitionText = resolved;
  } else if (props.Definition !== undefined) {
    definitionText = JSON.stringify(resolveIntrinsics(props.Definition, resolver, pseudo));
  } else {
    throw new Error(`${id} has neither DefinitionString nor Definition (S3 locations are not supported locally)`);
  }

  if (props.DefinitionSubstitutions !== undefined) {
    const substitutions = record(
      resolveIntrinsics(props.DefinitionSubstitutions, resolver, pseudo),
      `${id}.DefinitionSubstitutions`,
    );
    definitionText = definitionText.replace(/\$\{([A-Za-z0-9_]+)\}/g, (match, key: string) => {
      if (!Object.hasOwn(substitutions, key)) return match;
      const value = substitutions[key];
      // Step Functions substitutes the raw value: a string lands inside the JSON string it was written in.
      return typeof value === 'string' ? value : JSON.stringify(value);
    });
  }

  const definition = JSON.parse(definitionText) as unknown;
  const parsed = record(definition, `${id} definition`);
  if (typeof parsed.States !== 'object' || parsed.States === null) throw new Error(`${id} definition has no States`);
  return parsed as StateMachineDefinition;
}

/**
 * The template's Lambda functions that carry `RingTonic:Entry` metadata (the service's own; CDK helper
 * functions, which have no module here, are left out).
 */
export function lambdaFunctions(template: CloudFormationTemplate): TemplateLambdaFunction[] {
  return resourcesOfType(template, 'AWS::Lambda::Function').flatMap(([logicalId, resource]) => {
    const entry = resource.Metadata?.[ENTRY_METADATA_KEY];
    if (typeof entry !== 'string') return [];
    const props = resource.Properties ?? {};
    const handler = typeof props.Handler === 'string' ? props.Handler : 'index.handler';
    const environment = (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const assetPath = resource.Metadata?.['aws:asset:path'];
    return [
      {
        logicalId,
        entry,
        handler,
        handlerExport: handler.slice(handler.lastIndexOf('.') + 1),
        ...(typeof assetPath === 'string' ? { assetPath } : {}),
        ...(typeof props.ReservedConcurrentExecutions === 'number'
          ? { reservedConcurrency: props.ReservedConcurrentExecutions }
          : {}),
        environment: { ...environment },
        // CloudFormation's own defaults when the template leaves them out.
        timeoutSeconds: typeof props.Timeout === 'number' ? props.Timeout : 3,
        memorySize: typeof props.MemorySize === 'number' ? props.MemorySize : 128,
      },
    ];
  });
}

function literal<T>(value: unknown, what: string): T {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.some((key) => key === 'Ref' || key.startsWith('Fn::'))) {
      throw new Error(`${what} is an intrinsic (${keys.join()}); local tables need literal key settings`);
    }
  }
  return value as T;
}

function keySchema(value: unknown, what: string): KeySchemaElement[] {
  return literal<Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>>(value, what).map((key) => ({
    AttributeName: key.AttributeName,
    KeyType: key.KeyType,
  }));
}

function projection(value: unknown): Projection {
  const p = (value ?? {}) as { ProjectionType?: Projection['ProjectionType']; NonKeyAttributes?: string[] };
  return {
    ProjectionType: p.ProjectionType ?? 'ALL',
    ...(p.NonKeyAttributes ? { NonKeyAttributes: [...p.NonKeyAttributes] } : {}),
  };
}

/** Provisioned capacity of a Table (or index) property, when the table is provisioned. */
function throughput(value: unknown): ProvisionedThroughput | undefined {
  if (value === undefined) return undefined;
  const t = value as { ReadCapacityUnits: number | string; WriteCapacityUnits: number | string };
  return { ReadCapacityUnits: Number(t.ReadCapacityUnits), WriteCapacityUnits: Number(t.WriteCapacityUnits) };
}

/** Capacity locally for a provisioned GlobalTable, whose capacity is per replica or auto scaled: any will do. */
const LOCAL_THROUGHPUT: ProvisionedThroughput = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };

/**
 * The template's DynamoDB tables (AWS::DynamoDB::Table or AWS::DynamoDB::GlobalTable), each as the CreateTable
 * input that makes it in dynalite: keys, attribute definitions, billing mode and indexes. TTL, streams, PITR, SSE,
 * deletion protection and tags are left out: dynalite lacks them (TTL is set in AWS by the table itself).
 */
export function dynamoTables(template: CloudFormationTemplate): TemplateDynamoTable[] {
  return resourcesOfType(template, 'AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable').map(
    ([logicalId, resource]) => {
      const props = resource.Properties ?? {};
      const global = resource.Type === 'AWS::DynamoDB::GlobalTable';
      const billingMode = (literal<BillingMode | undefined>(props.BillingMode, `${logicalId}.BillingMode`) ??
        'PROVISIONED') as BillingMode;
      const provisioned = billingMode === 'PROVISIONED';
      const tableThroughput = provisioned
        ? global
          ? LOCAL_THROUGHPUT
          : (throughput(props.ProvisionedThroughput) ?? LOCAL_THROUGHPUT)
        : undefined;

      const gsis = (props.GlobalSecondaryIndexes as Array<Record<string, unknown>> | undefined)?.map(
        (index, i): GlobalSecondaryIndex => {
          const indexThroughput = provisioned
            ? global
              ? LOCAL_THROUGHPUT
              : (throughput(index.ProvisionedThroughput) ?? LOCAL_THROUGHPUT)
            : undefined;
          return {
            IndexName: literal<string>(index.IndexName, `${logicalId}.GlobalSecondaryIndexes[${i}].IndexName`),
            KeySchema: keySchema(index.KeySchema, `${logicalId}.GlobalSecondaryIndexes[${i}].KeySchema`),
            Projection: projection(index.Projection),
            ...(indexThroughput ? { ProvisionedThroughput: indexThroughput } : {}),
          };
        },
      );
      const lsis = (props.LocalSecondaryIndexes as Array<Record<string, unknown>> | undefined)?.map(
        (index, i): LocalSecondaryIndex => ({
          IndexName: literal<string>(index.IndexName, `${logicalId}.LocalSecondaryIndexes[${i}].IndexName`),
          KeySchema: keySchema(index.KeySchema, `${logicalId}.LocalSecondaryIndexes[${i}].KeySchema`),
          Projection: projection(index.Projection),
        }),
      );
      const declaredName = typeof props.TableName === 'string' ? props.TableName : undefined;

      const createTableInput: CreateTableCommandInput = {
        TableName: declaredName ?? logicalId,
        KeySchema: keySchema(props.KeySchema, `${logicalId}.KeySchema`),
        AttributeDefinitions: literal<AttributeDefinition[]>(
          props.AttributeDefinitions,
          `${logicalId}.AttributeDefinitions`,
        ).map((a) => ({ AttributeName: a.AttributeName, AttributeType: a.AttributeType })),
        BillingMode: billingMode,
        ...(tableThroughput ? { ProvisionedThroughput: tableThroughput } : {}),
        ...(gsis?.length ? { GlobalSecondaryIndexes: gsis } : {}),
        ...(lsis?.length ? { LocalSecondaryIndexes: lsis } : {}),
      };
      return { logicalId, createTableInput };
    },
  );
}
