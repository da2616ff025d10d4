/**
 * How long a client is told to wait (`Retry-After`, in seconds) before it sends a request again that was answered
 * 429 or 5xx: every such answer carries one, from the handlers and from API Gateway alike (lib/constructs/api.ts).
 * Throttling clears quickly; a dependency that did not answer usually within seconds; anything else may take longer.
 */
export const RETRY_AFTER_SECONDS = {
  /** 429: API Gateway's throttling. */
  throttled: 1,
  /** 503: a dependency (DynamoDB, Step Functions, Twilio) throttled or did not answer. */
  unavailable: 2,
  /** Every other 5xx. */
  failed: 5,
} as const;

/** The `Retry-After` seconds an answer with this status carries; undefined for one that should not be retried. */
export function retryAfterSeconds(status: number): number | undefined {
  if (status === 429) return RETRY_AFTER_SECONDS.throttled;
  if (status === 503) return RETRY_AFTER_SECONDS.unavailable;
  if (status >= 500) return RETRY_AFTER_SECONDS.failed;
  return undefined;
}
