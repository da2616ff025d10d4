import { WorkflowErrorNames } from './error-names';

/**
 * Error names that mean "busy or briefly unavailable, the same call may work in a moment": AWS throttling and
 * service faults (the SDK gives unmodeled ones their `__type` as the name), SDK timeouts, our own transient errors.
 */
const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  WorkflowErrorNames.TwilioTransient,
  WorkflowErrorNames.ConcurrentUpdate,
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'InternalServerError',
  'InternalFailure',
  'InternalServerException',
  'ServiceException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Socket-level failures: the other side was not reachable or dropped the connection. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * True when `error` is worth retrying later rather than a refusal or a bug: throttling, a 5xx or timeout of AWS,
 * a dropped connection, Twilio's transient errors. An answer built on this says "retry", never "wrong request".
 */
export function isTransientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: unknown;
    code?: unknown;
    $fault?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  if (typeof e.name === 'string' && TRANSIENT_ERROR_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) return true;
  // AWS SDK v3 service errors: modeled as retryable, or a server-side fault (5xx).
  if (e.$retryable !== undefined || e.$fault === 'server') return true;
  const status = e.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status === 429 || status >= 500);
}
