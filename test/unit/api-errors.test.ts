import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { problemJsonErrors } from '../../lambdas/handlers/api/http';
import { HttpProblem, TwilioRequestError, TwilioTransientError } from '../../lambdas/shared/errors';
import { RETRY_AFTER_SECONDS, retryAfterSeconds } from '../../lambdas/shared/retry-after';
import { isTransientError } from '../../lambdas/shared/transient-errors';

/** An AWS SDK v3 service error as the SDK throws it. */
const awsError = (name: string, status: number, fault: 'client' | 'server' = status >= 500 ? 'server' : 'client') =>
  Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });

describe('isTransientError: worth retrying later, not a refusal or a bug', () => {
  it.each([
    ['DynamoDB past its throughput', awsError('ProvisionedThroughputExceededException', 400)],
    ['DynamoDB throttling', awsError('ThrottlingException', 400)],
    ['DynamoDB unavailable', awsError('InternalServerError', 500)],
    ['Step Functions throttled (unmodeled: name from __type)', awsError('ThrottlingException', 400)],
    ['any AWS 5xx', awsError('SomethingNew', 503)],
    ['an AWS 429', awsError('SlowDownPlease', 429)],
    ['the SDK timing out', Object.assign(new Error('aborted'), { name: 'TimeoutError' })],
    ['a dropped connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a refused connection', Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })],
    ['Twilio 429/5xx', new TwilioTransientError('503')],
  ])('%s', (_what, error) => {
    expect(isTransientError(error)).toBe(true);
  });

  it.each([
    ['a failed condition', awsError('ConditionalCheckFailedException', 400)],
    ['a validation error', awsError('ValidationException', 400)],
    ['Twilio refusing', new TwilioRequestError('bad', 400, 21211)],
    ['a bug', new TypeError('x is undefined')],
    ['not an error', 'ThrottlingException'],
  ])('%s is not', (_what, error) => {
    expect(isTransientError(error)).toBe(false);
  });
});

describe('problemJsonErrors: one way of answering errors', () => {
  async function answerTo(error: unknown): Promise<APIGatewayProxyResult> {
    const request = { event: {} as APIGatewayProxyEvent, error, response: undefined } as unknown as {
      error: unknown;
      response: APIGatewayProxyResult;
    };
    await problemJsonErrors().onError?.(request as never);
    return request.response;
  }

  it('answers a dependency that throttles 503 with Retry-After, showing nothing of it', async () => {
    const answer = await answerTo(awsError('ProvisionedThroughputExceededException', 400));
    expect(answer.statusCode).toBe(503);
    expect(answer.headers).toEqual({
      'content-type': 'application/problem+json',
      'retry-after': String(RETRY_AFTER_SECONDS.unavailable),
    });
    expect(JSON.parse(answer.body)).toEqual({
      type: 'https://ringtonic.example/problems/503',
      title: 'Service Unavailable',
      status: 503,
      detail: 'A service we depend on did not answer; please retry.',
    });
  });

  it('answers anything unexpected 500, with Retry-After too', async () => {
    const answer = await answerTo(new TypeError('x is undefined'));
    expect(answer.statusCode).toBe(500);
    expect(answer.headers?.['retry-after']).toBe(String(RETRY_AFTER_SECONDS.failed));
    expect(answer.body).not.toContain('undefined');
  });

  it('answers a 4xx without Retry-After', async () => {
    const answer = await answerTo(new HttpProblem(409, 'Conflict', 'no'));
    expect(answer.statusCode).toBe(409);
    expect(answer.headers).toEqual({ 'content-type': 'application/problem+json' });
  });

  it('gives every 429 and 5xx a Retry-After, and nothing else one', () => {
    expect([400, 404, 409, 413].map(retryAfterSeconds)).toEqual([undefined, undefined, undefined, undefined]);
    expect([429, 500, 502, 503, 504].map(retryAfterSeconds)).toEqual([1, 5, 5, 2, 5]);
  });
});
