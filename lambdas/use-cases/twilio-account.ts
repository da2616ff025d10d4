import type { PortInRepository, TwilioAccountGateway, TwilioGateway, TwilioTokenStore } from './ports';

/** Raised when an account has no usable Twilio connection. */
export class TwilioNotConnectedError extends Error {
  override readonly name = 'TwilioNotConnectedError';
}

/** The Twilio gateway of a Ring Tonic account, built from its stored connection and token. */
export async function twilioForAccount(
  accountId: string,
  deps: { repository: PortInRepository; tokens: TwilioTokenStore; twilio: TwilioGateway },
): Promise<{ gateway: TwilioAccountGateway; accountSid: string }> {
  const connection = await deps.repository.getConnection(accountId);
  const authToken = connection ? await deps.tokens.getAuthToken(accountId) : undefined;
  if (!connection || !authToken) throw new TwilioNotConnectedError(`Account ${accountId} has no Twilio connection`);
  return {
    gateway: deps.twilio.forAccount({ accountSid: connection.accountSid, authToken }),
    accountSid: connection.accountSid,
  };
}

/**
 * How many calls one bulk operation keeps in flight against one Twilio account. Twilio limits concurrent requests
 * per account (error 20429) without publishing the figure; 80 stays under the 100 the benchmarks assume and leaves
 * room for the other steps. A 429 all the same fails the call as transient: the step is retried with backoff.
 */
export const TWILIO_CONCURRENCY = 80;

/**
 * How many independent single-item writes one bulk operation keeps in flight (claims of an order's numbers,
 * inventory items of an import): the SDK's default of 50 sockets per client, so none waits for a connection.
 */
export const DYNAMODB_WRITE_CONCURRENCY = 50;

/** Runs `fn` over `items` with at most `limit` calls in flight, keeping input order in the answer. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}
