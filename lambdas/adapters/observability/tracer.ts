import { Tracer } from '@aws-lambda-powertools/tracer';
import { SERVICE_NAME } from '../../shared/metric-names';

/**
 * The function's X-Ray tracer. Powertools turns itself off outside Lambda (no AWS_EXECUTION_ENV), so the local
 * stack, which has no X-Ray daemon, runs the same code untraced; POWERTOOLS_TRACE_ENABLED=false does the same.
 */
export const tracer = new Tracer({ serviceName: SERVICE_NAME });

/** An AWS SDK v3 client whose calls show as X-Ray subsegments (the client itself when tracing is off). */
export function traced<T>(client: T): T {
  return tracer.captureAWSv3Client(client);
}
