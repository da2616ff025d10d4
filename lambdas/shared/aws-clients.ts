import type { NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import { lazy } from './lazy';

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

/**
 * An SDK client made on first use from its module, loaded then too (`import()` of the runtime's SDK: a client
 * package costs 100-200 ms to load, which a cold start would pay before the first event). `given` (a test's or
 * the local stack's own client) is used as it is; otherwise `create` makes the client once, the module's promise
 * shared by concurrent first callers.
 */
export function awsClientOnFirstUse<TModule, TClient>(
  loadModule: () => Promise<TModule>,
  create: (sdk: TModule) => TClient,
  given?: TClient,
): () => Promise<TClient> {
  return lazy(async () => given ?? create(await loadModule()));
}
