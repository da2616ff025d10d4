import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * Settings every AWS SDK client here shares. Endpoints are not set: the SDK reads AWS_ENDPOINT_URL_<SERVICE>
 * itself, which is how the local stack points the same clients at its stand-ins. A stuck call fails instead of
 * hanging the Lambda until its own timeout (LOCAL-STACK-FACTS: requestTimeout alone only warns).
 */
export const awsClientConfig = {
  maxAttempts: 3,
  requestHandler: new NodeHttpHandler({ connectionTimeout: 3000, requestTimeout: 10000, throwOnRequestTimeout: true }),
};
