import type { Tracer } from '@aws-lambda-powertools/tracer';
import { lazy } from '../../shared/lazy';
import { SERVICE_NAME } from '../../shared/metric-names';

/**
 * Tracing runs in Lambda only. Outside it (the local stack, tests) Powertools would switch itself off anyway, but
 * loading it loads the X-Ray SDK, whose async hooks slow every promise of the process: the local stack, which runs
 * every function in one process, completed 765 of 1,000 concurrent ports without it against about 600 with it.
 * POWERTOOLS_TRACE_ENABLED=false turns it off in Lambda too.
 */
export const tracingOn = Boolean(process.env.AWS_EXECUTION_ENV) && process.env.POWERTOOLS_TRACE_ENABLED !== 'false';

/**
 * The function's X-Ray tracer, or undefined where there is no tracing. Made on first use, which is the first
 * invocation's tracing middleware (lambdas/adapters/observability/middleware.ts), before any SDK client or Twilio
 * request: the X-Ray SDK under it (about 70 ms of a cold start) is loaded then rather than at init, and the tracer
 * does what it did (the cold start annotation on the first invocation, HTTP and SDK calls captured).
 */
export const tracer: () => Tracer | undefined = lazy(() =>
  tracingOn
    ? // A require, not an import: the module (and the X-Ray SDK under it) is evaluated only when tracing is on.
      new (require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')).Tracer({
        serviceName: SERVICE_NAME,
      })
    : undefined,
);

/** An AWS SDK v3 client whose calls show as X-Ray subsegments (the client itself when tracing is off). */
export function traced<T>(client: T): T {
  const xray = tracer();
  return xray ? xray.captureAWSv3Client(client) : client;
}
