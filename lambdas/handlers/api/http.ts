import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type * as z from 'zod/mini';
import { type FieldError, HttpProblem } from '../../shared/errors';
import { logger } from '../../shared/logger';
import { retryAfterSeconds } from '../../shared/retry-after';
import { isTransientError } from '../../shared/transient-errors';
import '../../shared/zod-locale';

/**
 * Bodies above this are refused with 413 before parsing. Above a document's 4 MB of base64, so that a somewhat
 * larger one is still read and answered with the 413 that names the upload routes.
 */
export const MAX_JSON_BODY_BYTES = 7 * 1024 * 1024;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
};

/** A problem+json answer; a 429 or 5xx also says when to retry (`Retry-After`), as every such answer does. */
export function problem(
  status: number,
  title: string,
  detail: string,
  errors?: readonly FieldError[],
): APIGatewayProxyResult {
  const retryAfter = retryAfterSeconds(status);
  return {
    statusCode: status,
    headers: {
      'content-type': 'application/problem+json',
      ...(retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}),
    },
    body: JSON.stringify({
      type: `https://ringtonic.example/problems/${status}`,
      title: title || TITLES[status] || 'Error',
      status,
      detail,
      ...(errors && errors.length > 0 ? { errors } : {}),
    }),
  };
}

/**
 * middy error handler: HttpProblem becomes problem+json; anything else a 5xx that shows no internals: 503 when a
 * dependency was busy or did not answer (throttling, timeouts, AWS 5xx), 500 otherwise, each with `Retry-After`.
 */
export function problemJsonErrors(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request) => {
      const error = request.error;
      if (error instanceof HttpProblem) {
        request.response = problem(error.status, error.title, error.detail, error.errors);
        return;
      }
      const name = (error as Error | undefined)?.name ?? 'Error';
      if (name === 'TwilioNotConnectedError') {
        request.response = problem(
          409,
          'Twilio not connected',
          'Connect a Twilio account (PUT twilio-connection) first.',
        );
        return;
      }
      if (name === 'TwilioRequestError') {
        request.response = problem(502, 'Bad Gateway', 'Twilio refused the request.');
        return;
      }
      const transient = isTransientError(error);
      logger.error('request failed', { errorName: name, errorMessage: (error as Error | undefined)?.message });
      request.response = transient
        ? problem(503, 'Service Unavailable', 'A service we depend on did not answer; please retry.')
        : problem(500, 'Internal Server Error', 'Something went wrong on our side; it has been logged.');
    },
  };
}

/** Turns zod issues into problem+json field errors: `losingCarriers[0].address.zip`. */
export function toFieldErrors(issues: readonly z.core.$ZodIssue[], prefix = ''): FieldError[] {
  return issues.map((issue) => {
    const path = issue.path.reduce<string>(
      (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
      prefix,
    );
    return { path: path || '(body)', message: issue.message };
  });
}

/** Parses and validates a JSON body: 415 for another content type, 413 when too large, 400 naming each bad field. */
export function parseJsonBody<T extends z.ZodMiniType>(event: APIGatewayProxyEvent, schema: T): z.infer<T> {
  // Header names arrive in the client's own case; the media type is compared exactly, parameters aside.
  const contentType = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new HttpProblem(415, 'Unsupported Media Type', 'Send the body as application/json.');
  }
  const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  if (Buffer.byteLength(raw) > MAX_JSON_BODY_BYTES) {
    throw new HttpProblem(413, 'Payload Too Large', `The body is larger than ${MAX_JSON_BODY_BYTES} bytes.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new HttpProblem(400, 'Bad Request', 'The body is not valid JSON.', [
      { path: '(body)', message: 'invalid JSON' },
    ]);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new HttpProblem(400, 'Bad Request', 'The body has invalid fields.', toFieldErrors(result.error.issues));
  }
  return result.data;
}

/** Validates one of the request's parameters (path, query, header) with a schema; 400 names it. */
export function parseParam<T extends z.ZodMiniType>(name: string, value: unknown, schema: T): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new HttpProblem(400, 'Bad Request', `Invalid ${name}.`, toFieldErrors(result.error.issues, name));
  }
  return result.data;
}
