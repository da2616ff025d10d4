import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { MiddlewareObj } from '@middy/core';
import { lazy } from '../../shared/lazy';
import { logger } from '../../shared/logger';
import { powertoolsMetrics } from './metrics';
import { tracer, tracingOn } from './tracer';

const PORT_REQUEST_ID = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * Tags the rest of the invocation with a port request: every log line carries `portRequestId`, and the X-Ray
 * trace has it as an annotation (searchable). A value that is not an id is ignored.
 */
export function identifyPortRequest(portRequestId: unknown): void {
  if (typeof portRequestId !== 'string' || !PORT_REQUEST_ID.test(portRequestId)) return;
  logger.appendKeys({ portRequestId });
  tracer()?.putAnnotation('portRequestId', portRequestId);
}

/**
 * Powertools' handler subsegment (responses are not recorded: they carry customers' names and addresses), with the
 * tracer made when the first invocation starts rather than at init (lambdas/adapters/observability/tracer.ts).
 */
function handlerSubsegment<TEvent>(): MiddlewareObj<TEvent> {
  const capture = lazy(() => {
    const xray = tracer();
    return xray ? (captureLambdaHandler(xray, { captureResponse: false }) as MiddlewareObj<TEvent>) : undefined;
  });
  return {
    before: (request) => capture()?.before?.(request),
    after: (request) => capture()?.after?.(request),
    onError: (request) => capture()?.onError?.(request),
  };
}

/** Starts each invocation with no keys left from the last one, then tags it with its port request, if any. */
function portRequestContext<TEvent>(portRequestIdOf: (event: TEvent) => unknown): MiddlewareObj<TEvent> {
  return {
    before: (request) => {
      logger.resetKeys();
      identifyPortRequest(portRequestIdOf(request.event));
    },
  };
}

/**
 * The middlewares every handler runs, in this order: the X-Ray handler subsegment (responses are not recorded:
 * they carry customers' names and addresses); the port request id, taken from the event before anything is
 * logged; the Lambda context on every log line, keys reset after each invocation (so one request's id never
 * shows on the next) and the event logged when POWERTOOLS_LOGGER_LOG_EVENT is set (through the redaction);
 * and the metrics the invocation recorded, flushed as one EMF line at its end, failed or not.
 */
export function observability<TEvent = unknown, TResult = unknown>(
  portRequestIdOf: (event: TEvent) => unknown = () => undefined,
): MiddlewareObj<TEvent, TResult>[] {
  return [
    ...(tracingOn ? [handlerSubsegment<TEvent>()] : []),
    portRequestContext<TEvent>(portRequestIdOf),
    injectLambdaContext(logger, { resetKeys: true }),
    logMetrics(powertoolsMetrics),
  ] as MiddlewareObj<TEvent, TResult>[];
}

/** The port request id a workflow step's event names (`{ input: { portRequestId } }`, validated by the step). */
export const stepPortRequestId = (event: unknown): unknown => {
  const input = typeof event === 'object' && event !== null ? (event as { input?: unknown }).input : undefined;
  return typeof input === 'object' && input !== null ? (input as { portRequestId?: unknown }).portRequestId : undefined;
};

/** The port request id an API route names in its path (`.../port-requests/{portRequestId}`). */
export const pathPortRequestId = (event: { pathParameters?: Record<string, string | undefined> | null }): unknown =>
  event.pathParameters?.portRequestId;
