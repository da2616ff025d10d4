import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SERVICE_NAME } from '../../shared/metric-names';

/**
 * Tracing runs in Lambda only. Outside it (the local stack, tests) Powertools would switch itself off anyway, but
 * loading it loads the X-Ray SDK, whose async hooks slow every promise of the process: the local stack, which runs
 * every function in one process, completed 765 of 1,000 concurrent ports without it against about 600 with it.
 * POWERTOOLS_TRACE_ENABLED=false turns it off in Lambda too.
 */
const tracingOn = Boolean(process.env.AWS_EXECUTION_ENV) && process.env.POWERTOOLS_TRACE_ENABLED !== 'false';

/** The function's X-Ray tracer, or undefined where there is no tracing. */
export const tracer: Tracer | undefined = tracingOn
  ? // A require, not an import: the module (and the X-Ray SDK under it) is evaluated only when tracing is on.
    new (require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')).Tracer({
      serviceName: SERVICE_NAME,
    })
  : undefined;

/** An AWS SDK v3 client whose calls show as X-Ray subsegments (the client itself when tracing is off). */
export function traced<T>(client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}
