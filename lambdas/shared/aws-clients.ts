import type { NodeHttpHandlerOptions } from '@smithy/node-http-handler';

/**
 * Settings every AWS SDK client here shares. Endpoints are not set: the SDK reads AWS_ENDPOINT_URL_<SERVICE>
 * itself, which is how the local stack points the same clients at its stand-ins. A stuck call fails instead of
 * hanging the Lambda until its own timeout (LOCAL-STACK-FACTS: requestTimeout alone only warns).
 *
 * `requestHandler` is given as options, not as a `new NodeHttpHandler(...)`: each client builds its handler with
 * `NodeHttpHandler.create(options)` from the runtime's SDK, so the bundle does not carry its own copy of
 * @smithy/node-http-handler and @smithy/core (about 125 KB).
 */
export const awsClientConfig = {
  maxAttempts: 3,
  requestHandler: {
    connectionTimeout: 3000,
    requestTimeout: 10000,
    throwOnRequestTimeout: true,
  } satisfies NodeHttpHandlerOptions,
};
