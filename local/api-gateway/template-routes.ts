/** A synthesized CloudFormation template, as `app.synth()` gives it: plain JSON with intrinsics still in place. */
export interface CloudFormationTemplate {
  readonly Resources?: Readonly<Record<string, CloudFormationResource>>;
}

/** One resource of a template; only what route discovery reads. */
export interface CloudFormationResource {
  readonly Type: string;
  readonly Properties?: unknown;
}

/** A REST API method found in a template, with the logical id of the Lambda function behind it. */
export interface TemplateRoute {
  readonly method: string;
  readonly resourcePath: string;
  readonly authorization: 'AWS_IAM' | 'NONE';
  readonly functionLogicalId: string;
}

/**
 * Reads the API Gateway REST API methods of a template: each AWS::ApiGateway::Method with a Lambda proxy
 * integration, its full resource path built from the AWS::ApiGateway::Resource parents, its authorization type,
 * and the Lambda function its integration Uri points at. Methods that are not Lambda proxy integrations (MOCK CORS
 * preflights, HTTP or service integrations) are skipped; an authorization type the local gateway cannot enforce is an error, so nothing runs unprotected.
 */
export function routesFromTemplate(template: CloudFormationTemplate): TemplateRoute[] {
  const resources = template.Resources ?? {};
  const paths = new Map<string, string>();
  const pathOf = (logicalId: string, seen: readonly string[] = []): string => {
    const known = paths.get(logicalId);
    if (known !== undefined) return known;
    if (seen.includes(logicalId)) throw new Error(`API Gateway resources form a cycle: ${[...seen, logicalId]}`);
    const resource = resources[logicalId];
    if (resource?.Type !== 'AWS::ApiGateway::Resource') {
      throw new Error(`${logicalId} is not an AWS::ApiGateway::Resource in the template`);
    }
    const props = asRecord(resource.Properties);
    const pathPart = props.PathPart;
    if (typeof pathPart !== 'string') throw new Error(`${logicalId} has no PathPart`);
    const parent = resourceIdOf(props.ParentId, logicalId);
    const parentPath = parent === 'root' ? '' : pathOf(parent, [...seen, logicalId]);
    const path = `${parentPath}/${pathPart}`;
    paths.set(logicalId, path);
    return path;
  };

  const routes: TemplateRoute[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::ApiGateway::Method') continue;
    const props = asRecord(resource.Properties);
    const functionLogicalId = integratedFunction(asRecord(props.Integration), resources);
    if (functionLogicalId === undefined) continue;
    const method = props.HttpMethod;
    if (typeof method !== 'string') throw new Error(`${logicalId} has no HttpMethod`);
    const resourceId = resourceIdOf(props.ResourceId, logicalId);
    routes.push({
      method: method.toUpperCase(),
      resourcePath: resourceId === 'root' ? '/' : pathOf(resourceId),
      authorization: authorizationOf(props.AuthorizationType, logicalId),
      functionLogicalId,
    });
  }
  return routes.sort((a, b) => a.resourcePath.localeCompare(b.resourcePath) || a.method.localeCompare(b.method));
}

/**
 * The static headers the template's gateway responses (AWS::ApiGateway::GatewayResponse) add, as a lookup by
 * status: what the local gateway adds to its own refusals (e.g. `Retry-After` on 429 and 5xx). A status no gateway
 * response names gets those of DEFAULT_4XX or DEFAULT_5XX, as in API Gateway (a failed Lambda's 502, say).
 * Content-Type is left out (the local gateway always answers problem+json), and so are headers mapped from the
 * request (`method.request.…`), which are not static.
 */
export function gatewayResponseHeaders(
  template: CloudFormationTemplate,
): (status: number) => Readonly<Record<string, string>> {
  const byStatus = new Map<number, Record<string, string>>();
  const byDefault = new Map<string, Record<string, string>>();
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::ApiGateway::GatewayResponse') continue;
    const props = asRecord(resource.Properties);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(asRecord(props.ResponseParameters))) {
      const name = key.startsWith('gatewayresponse.header.') ? key.slice('gatewayresponse.header.'.length) : '';
      const literal = typeof value === 'string' ? /^'(.*)'$/.exec(value)?.[1] : undefined;
      if (!name || literal === undefined || name.toLowerCase() === 'content-type') continue;
      headers[name] = literal;
    }
    if (props.ResponseType === 'DEFAULT_4XX' || props.ResponseType === 'DEFAULT_5XX') {
      byDefault.set(props.ResponseType, headers);
    }
    const status = Number(props.StatusCode);
    if (Number.isInteger(status) && !byStatus.has(status)) byStatus.set(status, headers);
  }
  return (status) => byStatus.get(status) ?? byDefault.get(status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX') ?? {};
}

/** `{ Ref: Resource }` names a parent resource; `Fn::GetAtt [RestApi, RootResourceId]` is the API's root. */
function resourceIdOf(value: unknown, owner: string): string | 'root' {
  const record = asRecord(value);
  if (typeof record.Ref === 'string') return record.Ref;
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'RootResourceId') return 'root';
  throw new Error(`${owner}: unsupported resource reference ${JSON.stringify(value)}`);
}

function authorizationOf(value: unknown, owner: string): 'AWS_IAM' | 'NONE' {
  // CloudFormation's default when AuthorizationType is left out is NONE.
  if (value === undefined || value === 'NONE') return 'NONE';
  if (value === 'AWS_IAM') return 'AWS_IAM';
  throw new Error(`${owner}: the local gateway cannot enforce AuthorizationType ${JSON.stringify(value)}`);
}

/**
 * The Lambda function behind an AWS_PROXY integration. CDK's LambdaIntegration writes the Uri as
 * `Fn::Join ['', ['arn:', Ref Partition, ':apigateway:', ..., Fn::GetAtt [Function, 'Arn'], '/invocations']]`;
 * an alias or version target is a Ref whose FunctionName leads to the function.
 */
function integratedFunction(
  integration: Record<string, unknown>,
  resources: Readonly<Record<string, CloudFormationResource>>,
): string | undefined {
  // Only Lambda proxy integrations produce proxy events; MOCK, HTTP and service integrations have no local handler.
  if (integration.Type !== 'AWS_PROXY') return undefined;
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') {
      const fn = functionBehind(getAtt[0], resources);
      if (fn) found.add(fn);
    }
    if (typeof record.Ref === 'string') {
      const fn = functionBehind(record.Ref, resources);
      if (fn) found.add(fn);
    }
    for (const value of Object.values(record)) visit(value);
  };
  visit(integration.Uri);
  if (found.size !== 1) {
    if (typeof integration.Uri === 'string' && found.size === 0) {
      throw new Error(`Integration Uri is a plain string; pass the template before intrinsics are resolved`);
    }
    throw new Error(`Cannot tell which Lambda function an integration calls: ${JSON.stringify(integration.Uri)}`);
  }
  return [...found][0];
}

function functionBehind(
  logicalId: string,
  resources: Readonly<Record<string, CloudFormationResource>>,
): string | undefined {
  const resource = resources[logicalId];
  if (resource?.Type === 'AWS::Lambda::Function') return logicalId;
  if (resource?.Type === 'AWS::Lambda::Alias' || resource?.Type === 'AWS::Lambda::Version') {
    const target = asRecord(asRecord(resource.Properties).FunctionName).Ref;
    return typeof target === 'string' ? functionBehind(target, resources) : undefined;
  }
  return undefined;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
