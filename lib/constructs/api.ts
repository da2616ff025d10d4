import { Aws, Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DOCUMENT_UPLOAD_ROUTES } from '../../lambdas/shared/documents';
import { retryAfterSeconds } from '../../lambdas/shared/retry-after';
import type { TwilioSecrets } from './secrets';
import { ServiceFunction } from './service-function';
import type { DocumentUploads } from './uploads';
import type { PortWorkflow } from './workflow';

/** One route of the HTTP contract. */
export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
}

/** The routes of shared/api/CONTRACT.md served by ProductApiFunction, all with IAM (SigV4) authorization. */
export const PRODUCT_API_ROUTES: readonly ApiRoute[] = [
  { method: 'PUT', path: '/v1/accounts/{accountId}/twilio-connection' },
  { method: 'POST', path: '/v1/accounts/{accountId}/portability-checks' },
  { method: 'POST', path: '/v1/accounts/{accountId}/documents' },
  { method: 'POST', path: '/v1/accounts/{accountId}/document-uploads' },
  { method: 'POST', path: '/v1/accounts/{accountId}/document-uploads/{uploadId}/complete' },
  { method: 'POST', path: '/v1/accounts/{accountId}/port-orders' },
  { method: 'GET', path: '/v1/accounts/{accountId}/port-orders/{orderId}' },
  { method: 'GET', path: '/v1/accounts/{accountId}/port-requests' },
  { method: 'GET', path: '/v1/accounts/{accountId}/port-requests/{portRequestId}' },
  { method: 'GET', path: '/v1/accounts/{accountId}/port-requests/{portRequestId}/events' },
  { method: 'POST', path: '/v1/accounts/{accountId}/port-requests/{portRequestId}/corrections' },
  { method: 'POST', path: '/v1/accounts/{accountId}/port-requests/{portRequestId}/cancel' },
  { method: 'GET', path: '/v1/accounts/{accountId}/importable-numbers' },
  { method: 'POST', path: '/v1/accounts/{accountId}/imports' },
  { method: 'GET', path: '/v1/accounts/{accountId}/inventory' },
  { method: 'GET', path: '/v1/openapi.json' },
];

/** Twilio's porting webhook: no IAM, the Twilio signature authenticates it. */
export const TWILIO_WEBHOOK_ROUTE: ApiRoute = { method: 'POST', path: '/v1/webhooks/twilio/{accountId}/port-in' };

/**
 * API Gateway's own errors (bad signature, throttling, unknown route, integration timeout...) with the status
 * each answers. Every type is listed so the DEFAULT_4XX/5XX fallbacks, whose real status a template cannot read,
 * only ever meet response types added after this was written.
 */
const GATEWAY_ERRORS: ReadonlyArray<readonly [apigateway.ResponseType, number]> = [
  [apigateway.ResponseType.BAD_REQUEST_BODY, 400],
  [apigateway.ResponseType.BAD_REQUEST_PARAMETERS, 400],
  [apigateway.ResponseType.UNAUTHORIZED, 401],
  [apigateway.ResponseType.ACCESS_DENIED, 403],
  [apigateway.ResponseType.EXPIRED_TOKEN, 403],
  [apigateway.ResponseType.INVALID_API_KEY, 403],
  [apigateway.ResponseType.INVALID_SIGNATURE, 403],
  // Also what API Gateway answers for a path it does not know.
  [apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, 403],
  [apigateway.ResponseType.WAF_FILTERED, 403],
  [apigateway.ResponseType.RESOURCE_NOT_FOUND, 404],
  [apigateway.ResponseType.REQUEST_TOO_LARGE, 413],
  [apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE, 415],
  [apigateway.ResponseType.QUOTA_EXCEEDED, 429],
  [apigateway.ResponseType.THROTTLED, 429],
  [apigateway.ResponseType.API_CONFIGURATION_ERROR, 500],
  [apigateway.ResponseType.AUTHORIZER_CONFIGURATION_ERROR, 500],
  [apigateway.ResponseType.AUTHORIZER_FAILURE, 500],
  [apigateway.ResponseType.INTEGRATION_FAILURE, 504],
  [apigateway.ResponseType.INTEGRATION_TIMEOUT, 504],
  [apigateway.ResponseType.DEFAULT_4XX, 400],
  [apigateway.ResponseType.DEFAULT_5XX, 500],
];

const STATUS_TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  504: 'Gateway Timeout',
};

/** The problem+json body of a gateway error; a 5xx gets a fixed detail so nothing internal shows. */
function problemTemplate(status: number): string {
  const detail =
    status >= 500
      ? JSON.stringify('The service could not answer; try again later.')
      : status === 413
        ? // A body this large is mostly a document: say where documents go instead.
          JSON.stringify(`The request body is too large. Send documents above 4 MB with ${DOCUMENT_UPLOAD_ROUTES}.`)
        : '$context.error.messageString';
  return `{"type":"about:blank","title":${JSON.stringify(STATUS_TITLES[status] ?? 'Error')},"status":${status},"detail":${detail}}`;
}

/** Properties of {@link PortInApi}. */
export interface PortInApiProps {
  /** The service table. */
  readonly table: dynamodb.Table;
  /** Where Twilio auth tokens live: the API writes them, the webhook reads them. */
  readonly secrets: TwilioSecrets;
  /** The bucket of presigned document uploads: the API presigns PUTs to it and completes what arrives. */
  readonly documentUploads: DocumentUploads;
  /** The port workflow the API starts and the webhook wakes. */
  readonly workflow: PortWorkflow;
  /** Public URL the webhook route lives under, without trailing slash; empty means the API's own URL. */
  readonly publicBaseUrl: string;
  /** The product's call router (imported numbers' voice webhook). */
  readonly callRouterUrl: string;
  /** Poll cadence put into each execution's input. */
  readonly pollInterval: Duration;
  /** Reminder cadence put into each execution's input. */
  readonly reminderInterval: Duration;
  /**
   * Deployment stage name.
   * @default 'live'
   */
  readonly stageName?: string;
  /**
   * Steady-state requests per second across the stage.
   * @default 50
   */
  readonly throttlingRateLimit?: number;
  /**
   * Burst of requests across the stage.
   * @default 100
   */
  readonly throttlingBurstLimit?: number;
}

/**
 * The HTTP face of the service: a regional REST API whose `/v1/accounts/...` routes (IAM auth) go to
 * ProductApiFunction and whose Twilio webhook route (no IAM) goes to TwilioWebhookFunction. API Gateway's own
 * errors answer `application/problem+json` like the handlers do.
 */
export class PortInApi extends Construct {
  /** The REST API. */
  readonly restApi: apigateway.RestApi;
  /** Handles every `/v1/accounts/...` route and the OpenAPI document. */
  readonly productApiFunction: ServiceFunction;
  /** Handles Twilio's porting webhooks. */
  readonly twilioWebhookFunction: ServiceFunction;
  /** Grants `execute-api:Invoke` on the product routes: attach it to the main product's role. */
  readonly invokePolicy: iam.ManagedPolicy;
  /** The base URL webhooks are configured under (no trailing slash). */
  readonly publicBaseUrl: string;
  /** The deployment stage name. */
  readonly stageName: string;

  constructor(scope: Construct, id: string, props: PortInApiProps) {
    super(scope, id);
    const stageName = props.stageName ?? 'live';
    this.stageName = stageName;

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.SIX_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.restApi = new apigateway.RestApi(this, 'RestApi', {
      restApiName: 'ringtonic-port-in',
      description: 'Ring Tonic port-in service',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // Access logging needs the account-level API Gateway CloudWatch role. Kept when this stack goes, since
      // other APIs in the account rely on the same setting.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName,
        tracingEnabled: true,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        // Bodies carry Twilio auth tokens and customer PINs: never log them.
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
      },
    });

    // Built from the API id, not `restApi.url`: that URL names the stage, which depends on the deployment, the
    // methods and so on these functions, and the functions would depend on it for their environment: a cycle.
    this.publicBaseUrl =
      props.publicBaseUrl ||
      Fn.join('', [
        'https://',
        this.restApi.restApiId,
        '.execute-api.',
        Aws.REGION,
        '.',
        Aws.URL_SUFFIX,
        `/${stageName}`,
      ]);

    this.productApiFunction = new ServiceFunction(this, 'ProductApiFunction', {
      entry: 'lambdas/handlers/api/product-api.ts',
      description: 'Ring Tonic port-in product API (/v1/accounts routes and the OpenAPI document)',
      // API Gateway gives up on an integration after 29 s.
      timeout: Duration.seconds(29),
      environment: {
        PUBLIC_BASE_URL: this.publicBaseUrl,
        CALL_ROUTER_URL: props.callRouterUrl,
        POLL_INTERVAL_SECONDS: String(props.pollInterval.toSeconds()),
        REMINDER_INTERVAL_SECONDS: String(props.reminderInterval.toSeconds()),
      },
    }).bindTable(props.table);
    props.secrets.grantWrite(this.productApiFunction);
    props.documentUploads.grantDocumentUploads(this.productApiFunction);
    props.workflow.grantStartExecution(this.productApiFunction);
    // Cancel and corrections wake the waiting workflow.
    props.workflow.grantTaskResponse(this.productApiFunction);

    this.twilioWebhookFunction = new ServiceFunction(this, 'TwilioWebhookFunction', {
      entry: 'lambdas/handlers/api/twilio-webhook.ts',
      description: "Verifies Twilio's porting webhooks and wakes the port workflow",
      timeout: Duration.seconds(10),
      // The signature covers the public URL Twilio called.
      environment: { PUBLIC_BASE_URL: this.publicBaseUrl },
    }).bindTable(props.table);
    props.secrets.grantRead(this.twilioWebhookFunction);
    props.workflow.grantTaskResponse(this.twilioWebhookFunction);

    // One invoke permission for the whole API instead of one per method: the function serves every route.
    const productIntegration = new apigateway.LambdaIntegration(this.productApiFunction, {
      proxy: true,
      scopePermissionToMethod: false,
    });
    for (const route of PRODUCT_API_ROUTES) {
      this.restApi.root.resourceForPath(route.path).addMethod(route.method, productIntegration, {
        authorizationType: apigateway.AuthorizationType.IAM,
      });
    }
    this.restApi.root
      .resourceForPath(TWILIO_WEBHOOK_ROUTE.path)
      .addMethod(
        TWILIO_WEBHOOK_ROUTE.method,
        new apigateway.LambdaIntegration(this.twilioWebhookFunction, { proxy: true, scopePermissionToMethod: false }),
        { authorizationType: apigateway.AuthorizationType.NONE },
      );

    for (const [type, status] of GATEWAY_ERRORS) {
      const retryAfter = retryAfterSeconds(status);
      this.restApi.addGatewayResponse(`Problem${type.responseType}`, {
        type,
        statusCode: String(status),
        responseHeaders: {
          'Content-Type': "'application/problem+json'",
          // Throttling and 5xx say when to come back, as the handlers' own 503s do.
          ...(retryAfter !== undefined ? { 'Retry-After': `'${retryAfter}'` } : {}),
        },
        templates: { 'application/json': problemTemplate(status) },
      });
    }

    this.invokePolicy = new iam.ManagedPolicy(this, 'ProductApiInvokePolicy', {
      description: "Lets Ring Tonic's main product call the port-in service's /v1/accounts routes",
      statements: [
        new iam.PolicyStatement({
          actions: ['execute-api:Invoke'],
          resources: [
            this.restApi.arnForExecuteApi('*', '/v1/accounts/*', stageName),
            this.restApi.arnForExecuteApi('GET', '/v1/openapi.json', stageName),
          ],
        }),
      ],
    });
  }
}
