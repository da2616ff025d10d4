import type { LocalStack } from '../../local/stack';
import { attestations, losingCarrier } from '../support/fixtures';
import { startTestStack, TestAccount } from '../support/harness';

type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
};
type OrderAnswer = {
  orderId: string;
  portRequests: Array<{ portRequestId: string }>;
  notPortable: unknown[];
  warnings: string[];
};

describe('POST port-orders: validation and idempotency, end to end', () => {
  let stack: LocalStack;
  let account: TestAccount;
  let bill: string;

  beforeAll(async () => {
    stack = await startTestStack();
    account = new TestAccount(stack);
    bill = await account.connect();
  }, 60000);

  afterAll(async () => {
    await stack?.stop();
  });

  const body = (phoneNumbers: unknown[], extra: object = {}) => ({
    losingCarriers: [losingCarrier('CallRail', bill, phoneNumbers)],
    notificationEmails: [account.owner],
    attestations,
    ...extra,
  });
  const post = (payload: unknown, key: string | undefined) =>
    account.api.post<OrderAnswer & Problem>(
      `${account.base}/port-orders`,
      payload,
      key === undefined ? {} : { 'Idempotency-Key': key },
    );

  it('answers the same order on replay, 409 for another body with the same key, and one order for concurrent calls', async () => {
    const first = await post(body(['(415) 555-0120']), 'same-key');
    expect(first.status).toBe(202);
    const replay = await post(body(['(415) 555-0120']), 'same-key');
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    const other = await post(body(['(415) 555-0121']), 'same-key');
    expect(other.status).toBe(409);
    expect(other.body.errors).toEqual([{ path: 'Idempotency-Key', message: 'already used with a different body' }]);

    const racers = await Promise.all(Array.from({ length: 5 }, () => post(body(['(415) 555-0122']), 'race-key')));
    const accepted = racers.filter((r) => r.status === 202);
    expect(accepted).toHaveLength(1);
    for (const r of racers) expect([200, 202, 409]).toContain(r.status);
    const list = await account.api.get<{
      items: Array<{ orderId: string; phoneNumbers: Array<{ phoneNumber: string }> }>;
    }>(`${account.base}/port-requests?limit=100`);
    const withNumber = list.body.items.filter((pr) => pr.phoneNumbers.some((n) => n.phoneNumber === '+14155550122'));
    expect(withNumber).toHaveLength(1);
  }, 30000);

  it('refuses bad input with problem+json naming each field, and stores nothing', async () => {
    const missingKey = await post(body(['(415) 555-0123']), undefined);
    expect(missingKey.status).toBe(400);
    expect(missingKey.body.errors?.[0]?.path).toBe('Idempotency-Key');

    const repeated = await post(body(['(415) 555-0124', '+1 415 555 0124']), 'dup-1');
    expect(repeated.status).toBe(400);
    expect(repeated.body.errors).toEqual([
      {
        path: 'losingCarriers[0].phoneNumbers[1]',
        message: '+14155550124 is also at losingCarriers[0].phoneNumbers[0]',
      },
    ]);

    const unattested = await post(
      body(['(415) 555-0125'], {
        attestations: { currentServiceActiveAndPaid: true, keepCurrentServiceUntilComplete: false },
      }),
      'att-1',
    );
    expect(unattested.status).toBe(400);
    expect(unattested.body.errors?.map((e) => e.path)).toEqual(['attestations.keepCurrentServiceUntilComplete']);

    const soon = new Date(Date.now() + 3 * 86400000).toISOString().slice(0, 10);
    const tooSoon = await post(body(['(415) 555-0126'], { targetPortInDate: soon }), 'date-1');
    expect(tooSoon.status).toBe(400);
    expect(tooSoon.body.errors?.map((e) => e.path)).toEqual(['targetPortInDate']);

    const invalid = await post(body(['not a number', '(415) 555-0127']), 'bad-1');
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors?.map((e) => e.path)).toEqual(['losingCarriers[0].phoneNumbers[0]']);

    const wrongType = await account.api.request<Problem>('POST', `${account.base}/port-orders`, {
      body: 'x',
      headers: { 'content-type': 'text/plain', 'Idempotency-Key': 'ct-1' },
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.headers.get('content-type')).toBe('application/problem+json');

    const list = await account.api.get<{ items: Array<{ phoneNumbers: Array<{ phoneNumber: string }> }> }>(
      `${account.base}/port-requests?limit=100`,
    );
    const stored = list.body.items.flatMap((pr) => pr.phoneNumbers.map((n) => n.phoneNumber));
    for (const n of ['+14155550123', '+14155550124', '+14155550125', '+14155550126', '+14155550127']) {
      expect(stored).not.toContain(n);
    }
  }, 30000);

  it('warns when the target date is less than 14 days ahead and lists the numbers that cannot be ported', async () => {
    const target = new Date(Date.now() + 10 * 86400000).toISOString().slice(0, 10);
    const answer = await post(body(['(415) 555-0128', '(415) 555-9999'], { targetPortInDate: target }), 'warn-1');
    expect(answer.status).toBe(202);
    expect(answer.body.warnings).toHaveLength(1);
    expect(answer.body.notPortable).toEqual([
      expect.objectContaining({ phoneNumber: '+14155559999', reasonCode: '22130' }),
    ]);
  }, 30000);

  it('pages the port requests newest first with a cursor', async () => {
    const pageAccount = new TestAccount(stack);
    const pageBill = await pageAccount.connect();
    const ids: string[] = [];
    for (const n of ['0130', '0131', '0132']) {
      const [id] = (await pageAccount.order(pageBill, [`(510) 555-${n}`])) as [string];
      ids.push(id);
    }
    const first = await pageAccount.api.get<{ items: Array<{ portRequestId: string }>; nextCursor?: string }>(
      `${pageAccount.base}/port-requests?limit=2`,
    );
    expect(first.body.items.map((pr) => pr.portRequestId)).toEqual([ids[2], ids[1]]);
    expect(first.body.nextCursor).toBeDefined();
    const second = await pageAccount.api.get<{ items: Array<{ portRequestId: string }>; nextCursor?: string }>(
      `${pageAccount.base}/port-requests?limit=2&cursor=${encodeURIComponent(first.body.nextCursor as string)}`,
    );
    expect(second.body.items.map((pr) => pr.portRequestId)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeUndefined();
    const badLimit = await pageAccount.api.get<Problem>(`${pageAccount.base}/port-requests?limit=0`);
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.errors?.[0]?.path).toBe('query.limit');
  }, 30000);

  it('serves its OpenAPI 3.1 document, signed like every product route', async () => {
    const answer = await account.api.get<{ openapi: string; paths: Record<string, unknown> }>('/v1/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.1.0');
    expect(Object.keys(answer.body.paths)).toContain('/v1/accounts/{accountId}/port-orders');
    const unsigned = await account.api.request('GET', '/v1/openapi.json', { sign: false });
    expect(unsigned.status).toBe(403);
  });
});
