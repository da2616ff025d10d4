import type { LocalStack } from '../../local/stack';
import { CALL_ROUTER_URL, startTestStack, TestAccount } from '../support/harness';

type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
};

describe('imports, open-request conflicts and tenancy, end to end', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startTestStack();
  }, 60000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('imports numbers already in the Twilio account, idempotently, with the voice URL set', async () => {
    const account = new TestAccount(stack);
    await account.connect();
    for (const phoneNumber of ['+14155550180', '+14155550181']) {
      await account.sim(`/_sim/accounts/${account.accountSid}/incoming-phone-numbers`, { phoneNumber });
    }
    const importable = await account.api.get<{
      items: Array<{ phoneNumber: string; twilioSid: string; imported: boolean }>;
    }>(`${account.base}/importable-numbers`);
    expect(importable.status).toBe(200);
    expect(importable.body.items.map((n) => [n.phoneNumber, n.imported])).toEqual([
      ['+14155550180', false],
      ['+14155550181', false],
    ]);

    const first = await account.api.post(`${account.base}/imports`, {
      phoneNumbers: ['(415) 555-0180', '+14155550199'],
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      imported: ['+14155550180'],
      alreadyImported: [],
      notInTwilioAccount: ['+14155550199'],
    });
    const again = await account.api.post(`${account.base}/imports`, { phoneNumbers: ['+14155550180', '+14155550181'] });
    expect(again.body).toEqual({
      imported: ['+14155550181'],
      alreadyImported: ['+14155550180'],
      notInTwilioAccount: [],
    });

    const repeated = await account.api.post<Problem>(`${account.base}/imports`, {
      phoneNumbers: ['+14155550180', '415-555-0180'],
    });
    expect(repeated.status).toBe(400);
    expect(repeated.body.errors).toEqual([
      { path: 'phoneNumbers[1]', message: '+14155550180 is also at phoneNumbers[0]' },
    ]);

    const inventory = await account.api.get<{ items: Array<Record<string, unknown>> }>(`${account.base}/inventory`);
    expect(inventory.body.items.map((n) => [n.phoneNumber, n.source])).toEqual([
      ['+14155550180', 'IMPORTED'],
      ['+14155550181', 'IMPORTED'],
    ]);
    expect(inventory.body.items[0]).not.toHaveProperty('accountId');
    const incoming = (await (
      await fetch(`${stack.urls.twilio}/2010-04-01/Accounts/${account.accountSid}/IncomingPhoneNumbers.json`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString('base64')}`,
        },
      })
    ).json()) as { incoming_phone_numbers: Array<{ voice_url: string }> };
    expect(incoming.incoming_phone_numbers.map((n) => n.voice_url)).toEqual([CALL_ROUTER_URL, CALL_ROUTER_URL]);
  }, 30000);

  it('answers 409 naming the open port request that already holds a number, and frees it once that request ends', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [first] = (await account.order(bill, ['(415) 555-0190', '(415) 555-0191'])) as [string];
    await account.submitted(first);

    const conflict = await account.api.post<Problem>(
      `${account.base}/port-orders`,
      {
        losingCarriers: [
          {
            name: 'Marchex',
            customerName: 'Acme',
            authorizedRepresentative: 'Jane Doe',
            authorizedRepresentativeEmail: 'jane@acme.example',
            address: { street: '1 Main St', city: 'San Francisco', state: 'CA', zip: '94105', country: 'US' },
            utilityBillDocumentSid: bill,
            phoneNumbers: ['+14155550192', '415.555.0191'],
          },
        ],
        notificationEmails: [account.owner],
        attestations: { currentServiceActiveAndPaid: true, keepCurrentServiceUntilComplete: true },
      },
      { 'Idempotency-Key': 'conflict-1' },
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.errors).toEqual([
      { path: 'losingCarriers[0].phoneNumbers[1]', message: `+14155550191 is already in open port request ${first}` },
    ]);

    const cancel = await account.api.post(`${account.base}/port-requests/${first}/cancel`, undefined);
    expect(cancel.status).toBe(202);
    const [second] = (await account.order(bill, ['415.555.0191'], 'Marchex')) as [string];
    expect(second).not.toBe(first);
  }, 30000);

  it("never shows or lets one account act on another account's records", async () => {
    const owner = new TestAccount(stack);
    const bill = await owner.connect();
    const [portRequestId] = (await owner.order(bill, ['(415) 555-0195'])) as [string];
    await owner.submitted(portRequestId);
    const orders = await owner.api.get<{ items: Array<{ orderId: string }> }>(`${owner.base}/port-requests`);
    const orderId = orders.body.items[0]?.orderId as string;

    const other = new TestAccount(stack);
    await other.connect();
    for (const path of [
      `/port-requests/${portRequestId}`,
      `/port-requests/${portRequestId}/events`,
      `/port-orders/${orderId}`,
    ]) {
      const answer = await other.api.get<Problem>(`${other.base}${path}`);
      expect([path, answer.status, answer.headers.get('content-type')]).toEqual([
        path,
        404,
        'application/problem+json',
      ]);
      expect(JSON.stringify(answer.body)).not.toContain('+14155550195');
    }
    for (const path of [`/port-requests/${portRequestId}/cancel`, `/port-requests/${portRequestId}/corrections`]) {
      const answer = await other.api.post(`${other.base}${path}`, { pin: '1111' });
      expect([path, answer.status]).toEqual([path, 404]);
    }
    const list = await other.api.get<{ items: unknown[] }>(`${other.base}/port-requests`);
    expect(list.body.items).toEqual([]);
    const inventory = await other.api.get<{ items: unknown[] }>(`${other.base}/inventory`);
    expect(inventory.body.items).toEqual([]);
    expect((await owner.portRequest(portRequestId)).status).not.toBe('CANCELED');
  }, 30000);
});
