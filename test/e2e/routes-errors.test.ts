import { randomBytes } from 'node:crypto';
import type { LocalStack } from '../../local/stack';
import { utilityBillBase64 } from '../support/fixtures';
import { startTestStack, TestAccount } from '../support/harness';

type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
};

describe('the smaller routes: success and each error, over HTTP with SigV4', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startTestStack();
  }, 60000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('PUT twilio-connection answers 400 naming the field for a bad body, and when Twilio refuses the credentials', async () => {
    const account = new TestAccount(stack);
    const malformed = await account.api.put<Problem>(`${account.base}/twilio-connection`, {
      accountSid: 'XX12',
      authToken: 'short',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors?.map((e) => e.path).sort()).toEqual(['accountSid', 'authToken']);

    await account.connect();
    const refused = await account.api.put<Problem>(`${account.base}/twilio-connection`, {
      accountSid: account.accountSid,
      authToken: randomBytes(16).toString('hex'),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      { path: 'authToken', message: 'Twilio refused this Account SID and auth token' },
    ]);
    expect(JSON.stringify(refused.body)).not.toContain(account.authToken);
  });

  it('POST portability-checks answers one result per input in order, invalid numbers included', async () => {
    const account = new TestAccount(stack);
    const notConnected = await account.api.post<Problem>(`${account.base}/portability-checks`, {
      phoneNumbers: ['4155550100'],
    });
    expect(notConnected.status).toBe(409);
    await account.connect();
    const answer = await account.api.post<{ results: Array<Record<string, unknown>> }>(
      `${account.base}/portability-checks`,
      {
        phoneNumbers: ['(415) 555-0100', 'nonsense', '(800) 555-0100', '+1 415 555 9999'],
      },
    );
    expect(answer.status).toBe(200);
    expect(
      answer.body.results.map((r) => [r.input, r.phoneNumber, r.portable, r.numberType, r.reasonCode ?? null]),
    ).toEqual([
      ['(415) 555-0100', '+14155550100', true, 'LOCAL', null],
      ['nonsense', null, false, 'UNKNOWN', 'INVALID_PHONE_NUMBER'],
      ['(800) 555-0100', '+18005550100', false, 'TOLL_FREE', '22133'],
      ['+1 415 555 9999', '+14155559999', false, 'LOCAL', '22130'],
    ]);
    const empty = await account.api.post<Problem>(`${account.base}/portability-checks`, { phoneNumbers: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.errors?.[0]?.path).toBe('phoneNumbers');
  });

  it('POST documents checks type and size: 400 for a mislabelled file, 413 above 5 MB', async () => {
    const account = new TestAccount(stack);
    await account.connect();
    const upload = (body: object) =>
      account.api.post<Problem & { documentSid: string }>(`${account.base}/documents`, body);
    const ok = await upload({ fileName: 'bill.pdf', contentType: 'application/pdf', contentBase64: utilityBillBase64 });
    expect(ok.status).toBe(201);
    const wrongType = await upload({
      fileName: 'bill.gif',
      contentType: 'image/gif',
      contentBase64: utilityBillBase64,
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.errors?.[0]?.path).toBe('contentType');
    const mislabelled = await upload({
      fileName: 'bill.png',
      contentType: 'image/png',
      contentBase64: utilityBillBase64,
    });
    expect(mislabelled.status).toBe(400);
    expect(mislabelled.body.errors).toEqual([
      { path: 'contentBase64', message: 'does not start like a image/png file' },
    ]);
    const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(5 * 1024 * 1024)]).toString('base64');
    const tooLarge = await upload({ fileName: 'big.pdf', contentType: 'application/pdf', contentBase64: big });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.errors?.[0]?.path).toBe('contentBase64');
  });

  it('GET port-orders/{orderId} answers the order with current statuses, and 404 for an unknown one', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [portRequestId] = (await account.order(bill, ['(415) 555-0105'])) as [string];
    await account.submitted(portRequestId);
    const pr = await account.portRequest(portRequestId);
    const order = await account.api.get<{
      orderId: string;
      portRequests: Array<{ portRequestId: string; status: string }>;
    }>(`${account.base}/port-orders/${(pr as unknown as { orderId: string }).orderId}`);
    expect(order.status).toBe(200);
    expect(order.body.portRequests).toEqual([expect.objectContaining({ portRequestId, status: 'IN_REVIEW' })]);
    const missing = await account.api.get<Problem>(`${account.base}/port-orders/ord_missing`);
    expect(missing.status).toBe(404);
    const badId = await account.api.get<Problem>(`${account.base}/port-requests/${'x'.repeat(200)}`);
    expect(badId.status).toBe(400);
    expect(badId.body.errors?.[0]?.path).toBe('portRequestId');
  });

  it('refuses unsigned and wrongly signed calls with 403', async () => {
    const account = new TestAccount(stack);
    const unsigned = await account.api.request<Problem>('GET', `${account.base}/inventory`, { sign: false });
    expect(unsigned.status).toBe(403);
    const badAccountId = await account.api.get<Problem>('/v1/accounts/not%20valid!/inventory');
    expect(badAccountId.status).toBe(400);
    expect(badAccountId.body.errors?.[0]?.path).toBe('accountId');
  });
});
