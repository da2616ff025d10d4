import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { parseJsonBody, parseParam } from '../../lambdas/handlers/api/http';
import { accountIdSchema, listPortRequestsQuerySchema, portOrderSchema } from '../../lambdas/handlers/api/schemas';
import { env, loadConfig } from '../../lambdas/shared/config';
import { HttpProblem } from '../../lambdas/shared/errors';

// The Lambdas use zod/mini, which loads no locale by itself: without lambdas/shared/zod-locale.ts every message
// below would read "Invalid input".

function problemOf(run: () => unknown): HttpProblem {
  try {
    run();
  } catch (error) {
    if (error instanceof HttpProblem) return error;
    throw error;
  }
  throw new Error('expected an HttpProblem');
}

const jsonEvent = (body: unknown) =>
  ({ headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }) as unknown as APIGatewayProxyEvent;

describe('validation messages', () => {
  it("name each bad field of a body with zod's English messages and our own", () => {
    const problem = problemOf(() =>
      parseJsonBody(
        jsonEvent({
          losingCarriers: [{ name: ' ', address: { zip: '1' } }],
          notificationEmails: ['not-an-email'],
          attestations: { currentServiceActiveAndPaid: false, keepCurrentServiceUntilComplete: true },
          extra: 1,
        }),
        portOrderSchema,
      ),
    );
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { path: 'losingCarriers[0].name', message: 'Too small: expected string to have >=1 characters' },
        { path: 'losingCarriers[0].customerName', message: 'Invalid input: expected string, received undefined' },
        { path: 'losingCarriers[0].address.zip', message: 'ZIP or ZIP+4' },
        { path: 'losingCarriers[0].address.country', message: 'Invalid input: expected "US"' },
        { path: 'notificationEmails[0]', message: 'Invalid email address' },
        { path: 'attestations.currentServiceActiveAndPaid', message: 'must be true' },
        { path: '(body)', message: 'Unrecognized key: "extra"' },
      ]),
    );
  });

  it('name the parameter and the query field', () => {
    expect(problemOf(() => parseParam('accountId', 'a/b', accountIdSchema)).errors).toEqual([
      { path: 'accountId', message: 'must be 1 to 64 of A-Za-z0-9_-' },
    ]);
    expect(problemOf(() => parseParam('query', { limit: '0' }, listPortRequestsQuerySchema)).errors).toEqual([
      { path: 'query.limit', message: 'Too small: expected number to be >=1' },
    ]);
  });

  it('name each bad environment variable', () => {
    const schema = z.object({ SENDER_EMAIL: env.SENDER_EMAIL, POLL_INTERVAL_SECONDS: env.POLL_INTERVAL_SECONDS });
    expect(() => loadConfig(schema, { SENDER_EMAIL: 'a@', POLL_INTERVAL_SECONDS: '1.5' })).toThrow(
      'Invalid configuration: SENDER_EMAIL: Invalid email address; POLL_INTERVAL_SECONDS: Invalid input: expected int, received number',
    );
  });
});
