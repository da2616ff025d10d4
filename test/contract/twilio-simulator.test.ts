import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { createTwilioClient, rewriteTwilioUri } from '../../lambdas/adapters/twilio/twilio-client';
import { startTwilioSimulator, type TwilioSimulator, type WebhookDelivery } from '../../local/twilio-simulator';
import {
  type ReceivedWebhook,
  SimulatorAccount,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/twilio-simulator';
import { assertMatchesSpec, compileSchema, responseValidator, type SpecName } from './openapi-schema';

type Client = ReturnType<typeof createTwilioClient>;
type Body = Record<string, unknown>;

interface TestAccount {
  sid: string;
  token: string;
  client: Client;
}

const PORT_IN = '/v1/Porting/PortIn';
const PORT_IN_ONE = '/v1/Porting/PortIn/{PortInRequestSid}';
const PORT_IN_LIST = '/v1/Porting/PortIn/PortInRequests';
const PORT_IN_NUMBER = '/v1/Porting/PortIn/{PortInRequestSid}/PhoneNumber/{PhoneNumberSid}';
const PORTABILITY = '/v1/Porting/Portability/PhoneNumber/{PhoneNumber}';
const WEBHOOK_CONFIGURATION = '/v1/Porting/Configuration/Webhook';
const ACCOUNT = '/2010-04-01/Accounts/{Sid}.json';
const INCOMING_LIST = '/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json';
const INCOMING_ONE = '/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json';

const twilioErrorSchema = compileSchema({
  type: 'object',
  required: ['code', 'message', 'more_info', 'status'],
  properties: {
    code: { type: 'integer' },
    message: { type: 'string' },
    more_info: { type: 'string', format: 'uri' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
  },
});

const documentSchema = compileSchema({
  type: 'object',
  required: ['sid', 'account_sid', 'document_type', 'mime_type', 'date_created', 'url'],
  properties: {
    sid: { type: 'string', pattern: '^RD[0-9a-f]{32}$' },
    account_sid: { type: 'string', pattern: '^AC[0-9a-f]{32}$' },
    friendly_name: { type: 'string' },
    document_type: { const: 'utility_bill' },
    mime_type: { type: 'string' },
    date_created: { type: 'string', format: 'date-time' },
    url: { type: 'string', format: 'uri' },
  },
});

let simulator: TwilioSimulator;
let numberCounter = 0;

/** A fresh local number (area code 415, never ...9999), so tests do not collide. */
function nextNumber(): string {
  numberCounter += 1;
  return `+1415${String(2_000_000 + numberCounter)}`;
}

function newAccount(options: { timeoutMs?: number } = {}): TestAccount {
  const sid = `AC${randomBytes(16).toString('hex')}`;
  const token = randomBytes(16).toString('hex');
  return { sid, token, client: createTwilioClient(sid, token, { apiBaseUrl: simulator.url, ...options }) };
}

function basicAuth(account: { sid: string; token: string }): string {
  return `Basic ${Buffer.from(`${account.sid}:${account.token}`).toString('base64')}`;
}

/** What twilio-node really received on the last call of this client, before it built its objects. */
function lastResponse(client: Client): { statusCode: number; body: unknown } {
  const response = (client.httpClient as twilio.RequestClient).lastResponse;
  if (!response) throw new Error('no response recorded');
  return { statusCode: response.statusCode, body: response.body };
}

/** Runs a twilio-node call and checks the raw answer's status and body against the spec. */
async function specCall<T>(
  client: Client,
  [spec, method, pathTemplate, status]: [SpecName, string, string, number],
  call: () => Promise<T>,
): Promise<T> {
  const result = await call();
  const response = lastResponse(client);
  expect(response.statusCode).toBe(status);
  if (status !== 204) assertMatchesSpec(spec, method, pathTemplate, status, response.body);
  return result;
}

/** Expects a twilio-node call to fail with Twilio's error JSON. */
async function expectTwilioError(call: Promise<unknown>, status: number, code?: number): Promise<twilio.RestException> {
  const error = (await call.then(
    () => {
      throw new Error(`expected a ${status} error`);
    },
    (e: unknown) => e,
  )) as twilio.RestException;
  expect(error).toBeInstanceOf(twilio.RestException);
  expect(error.status).toBe(status);
  if (code !== undefined) expect(error.code).toBe(code);
  return error;
}

async function control(path: string, body?: unknown, method = 'POST'): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${simulator.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Body) : {} };
}

/** `GET /_sim/port-ins`, optionally for one account. */
async function simPortIns(accountSid?: string): Promise<Body[]> {
  const response = await fetch(`${simulator.url}/_sim/port-ins${accountSid ? `?accountSid=${accountSid}` : ''}`);
  return (await response.json()) as Body[];
}

/** `GET /_sim/webhooks`, the deliveries of one account (all when no account is given). */
async function simWebhooks(accountSid?: string): Promise<WebhookDelivery[]> {
  const deliveries = (await (await fetch(`${simulator.url}/_sim/webhooks`)).json()) as WebhookDelivery[];
  return deliveries.filter((d) => !accountSid || d.accountSid === accountSid);
}

async function uploadDocument(
  account: { sid: string; token: string },
  fields: { documentType?: string; file?: { data: Buffer; type: string; name: string } | null } = {},
): Promise<{ status: number; body: Body }> {
  const form = new FormData();
  if (fields.documentType !== '') form.set('document_type', fields.documentType ?? 'utility_bill');
  form.set('friendly_name', 'Utility bill, October');
  const file =
    fields.file === undefined
      ? { data: Buffer.from('%PDF-1.4\n%bill\n'), type: 'application/pdf', name: 'bill.pdf' }
      : fields.file;
  if (file) form.set('File', new Blob([file.data], { type: file.type }), file.name);
  // The real host is numbers-upload.twilio.com: the same rewrite as twilio-node's requests.
  const url = rewriteTwilioUri('https://numbers-upload.twilio.com/v1/Documents', simulator.url);
  const response = await fetch(url, { method: 'POST', headers: { Authorization: basicAuth(account) }, body: form });
  return { status: response.status, body: (await response.json()) as Body };
}

async function uploadBill(account: TestAccount): Promise<string> {
  const { status, body } = await uploadDocument(account);
  expect(status).toBe(201);
  return body.sid as string;
}

function daysAhead(days: number): string {
  return new Date(Date.now() + days * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
}

function createBody(account: TestAccount, documentSid: string, phoneNumbers: readonly string[]): Body {
  return {
    account_sid: account.sid,
    documents: [documentSid],
    losing_carrier_information: {
      customer_type: 'Business',
      customer_name: 'Acme Plumbing LLC',
      account_number: '5551234',
      account_telephone_number: phoneNumbers[0],
      authorized_representative: 'Jane Doe',
      authorized_representative_email: 'jane@acme.example',
      address: {
        street: '1 Main St',
        street_2: 'Suite 2',
        city: 'San Francisco',
        state: 'CA',
        zip: '94105',
        country: 'US',
      },
    },
    phone_numbers: phoneNumbers.map((phone_number) => ({ phone_number, pin: '0123' })),
    notification_emails: ['owner@acme.example'],
    target_port_in_date: daysAhead(21),
  };
}

async function createPortIn(account: TestAccount, body: Body) {
  return specCall(account.client, ['numbers', 'post', PORT_IN, 202], () =>
    // PORTING-FACTS: the generated type is camelCase, the wire format snake_case.
    account.client.numbers.v1.portingPortIns.create(body as never),
  );
}

async function newPortIn(account: TestAccount, count = 1) {
  const numbers = Array.from({ length: count }, nextNumber);
  const created = await createPortIn(account, createBody(account, await uploadBill(account), numbers));
  return { sid: created.portInRequestSid, numbers, created };
}

async function fetchPortIn(account: TestAccount, sid: string) {
  return specCall(account.client, ['numbers', 'get', PORT_IN_ONE, 200], () =>
    account.client.numbers.v1.portingPortIns(sid).fetch(),
  );
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  simulator = await startTwilioSimulator({ port: 0, webhookRetryDelaysMs: [30, 60] });
});

afterAll(async () => {
  await simulator.close();
});

describe('the spec validator itself', () => {
  it('refuses a body that breaks the spec, and handles nullable', () => {
    const validate = responseValidator('numbers', 'get', PORT_IN_ONE, 200);
    expect(validate({ port_in_request_sid: 'KW123', support_ticket_id: 1 })).toBe(false);
    expect(validate({ port_in_request_sid: null, losing_carrier_information: null, support_ticket_id: 1 })).toBe(true);
    expect(validate({ losing_carrier_information: { customer_name: 1 } })).toBe(false);
    expect(responseValidator('api', 'get', INCOMING_ONE, 200)({ voice_method: 'PUT' })).toBe(false);
  });
});

describe('createTwilioClient', () => {
  it('rewrites any *.twilio.com URI onto the base URL, keeping path and query', () => {
    expect(rewriteTwilioUri('https://numbers.twilio.com/v1/Porting/PortIn?x=1', 'http://127.0.0.1:4010/')).toBe(
      'http://127.0.0.1:4010/v1/Porting/PortIn?x=1',
    );
    expect(rewriteTwilioUri('https://api.us1.twilio.com/2010-04-01/Accounts.json', 'http://h:1')).toBe(
      'http://h:1/2010-04-01/Accounts.json',
    );
    expect(rewriteTwilioUri('https://example.com/x', 'http://h:1')).toBe('https://example.com/x');
  });
});

describe('authentication', () => {
  it('accepts a new Account SID with its first token, then refuses another token with 401 20003', async () => {
    const account = newAccount();
    const fetched = await specCall(account.client, ['api', 'get', ACCOUNT, 200], () =>
      account.client.api.v2010.accounts(account.sid).fetch(),
    );
    expect(fetched.sid).toBe(account.sid);
    expect(fetched.status).toBe('active');

    const impostor = createTwilioClient(account.sid, 'another-token', { apiBaseUrl: simulator.url });
    await expectTwilioError(impostor.api.v2010.accounts(account.sid).fetch(), 401, 20003);
    expect(twilioErrorSchema(lastResponse(impostor).body)).toBe(true);
  });

  it('refuses a malformed Account SID and a missing Authorization header with 401', async () => {
    const malformed = await fetch(`${simulator.url}/v1/Porting/PortIn/PortInRequests`, {
      headers: { Authorization: basicAuth({ sid: 'ACnot-a-sid', token: 't' }) },
    });
    expect(malformed.status).toBe(401);
    expect(twilioErrorSchema(await malformed.json())).toBe(true);
    const missing = await fetch(`${simulator.url}/v1/Porting/PortIn/PortInRequests`);
    expect(missing.status).toBe(401);
  });

  it("answers 404 for another account's 2010 resources", async () => {
    const account = newAccount();
    await expectTwilioError(account.client.api.v2010.accounts(newAccount().sid).fetch(), 404, 20404);
  });
});

describe('documents upload (numbers-upload)', () => {
  it('answers 201 with an RD sid for a utility bill', async () => {
    const account = newAccount();
    const { status, body } = await uploadDocument(account);
    expect(status).toBe(201);
    expect(documentSchema(body)).toBe(true);
    expect(body.account_sid).toBe(account.sid);
    expect(body.friendly_name).toBe('Utility bill, October');
  });

  it.each([
    ['no file', { file: null }],
    ['another document_type', { documentType: 'passport' }],
    ['no document_type', { documentType: '' }],
    ['an unsupported file type', { file: { data: Buffer.from('hello'), type: 'text/plain', name: 'a.txt' } }],
  ])('refuses %s with 400', async (_, fields) => {
    const { status, body } = await uploadDocument(newAccount(), fields);
    expect(status).toBe(400);
    expect(twilioErrorSchema(body)).toBe(true);
  });
});

describe('Port In create', () => {
  it('answers 202 In Review, and keeps the body exactly as sent', async () => {
    const account = newAccount();
    const numbers = [nextNumber(), nextNumber()];
    const body = createBody(account, await uploadBill(account), numbers);
    const created = await createPortIn(account, body);
    expect(created.portInRequestSid).toMatch(/^KW[0-9a-f]{32}$/);
    expect(created.portInRequestStatus).toBe('In Review');
    expect(created.accountSid).toBe(account.sid);
    expect(created.phoneNumbers?.map((n) => [n.phoneNumber, n.portInPhoneNumberStatus])).toEqual([
      [numbers[0], 'in_review'],
      [numbers[1], 'in_review'],
    ]);
    for (const number of created.phoneNumbers ?? []) expect(number.portInPhoneNumberSid).toMatch(/^PU[0-9a-f]{32}$/);

    const stored = await control(`/_sim/port-ins/${created.portInRequestSid}`, undefined, 'GET');
    expect(stored.body.createBody).toEqual(body);
    expect(stored.body.rawCreateBody).toBe(JSON.stringify(body));
    expect(stored.body.status).toBe('In Review');
    expect((await simPortIns(account.sid)).map((p) => p.sid)).toEqual([created.portInRequestSid]);
  });

  const refusals: Array<[string, (account: TestAccount, body: Body) => Body, number, RegExp]> = [
    [
      'a camelCase body',
      (_, body) => ({
        accountSid: body.account_sid,
        documents: body.documents,
        losingCarrierInformation: body.losing_carrier_information,
        phoneNumbers: [{ phoneNumber: nextNumber() }],
      }),
      20001,
      /account_sid/,
    ],
    ['no documents', (_, { documents: _d, ...rest }) => rest, 20001, /documents/],
    ['an empty documents list', (_, body) => ({ ...body, documents: [] }), 20001, /documents/],
    ['a document never uploaded', (_, body) => ({ ...body, documents: [`RD${'0'.repeat(32)}`] }), 20404, /RD0+/],
    [
      'no authorized_representative_email',
      (_, body) => {
        const { authorized_representative_email: _e, ...carrier } = body.losing_carrier_information as Body;
        return { ...body, losing_carrier_information: carrier };
      },
      20001,
      /authorized_representative_email/,
    ],
    [
      'no address',
      (_, body) => {
        const { address: _a, ...carrier } = body.losing_carrier_information as Body;
        return { ...body, losing_carrier_information: carrier };
      },
      20001,
      /address/,
    ],
    ['another account_sid', (_, body) => ({ ...body, account_sid: newAccount().sid }), 20001, /account_sid/],
    ['no phone numbers', (_, body) => ({ ...body, phone_numbers: [] }), 20001, /phone_numbers/],
    [
      '1001 phone numbers',
      (_, body) => ({ ...body, phone_numbers: Array.from({ length: 1001 }, () => ({ phone_number: nextNumber() })) }),
      20001,
      /1000/,
    ],
    [
      'a number not in E.164',
      (_, body) => ({ ...body, phone_numbers: [{ phone_number: '415-555-0100' }] }),
      22102,
      /E\.164/,
    ],
    [
      'a toll-free number',
      (_, body) => ({ ...body, phone_numbers: [{ phone_number: '+18005550100' }] }),
      22133,
      /toll-free/,
    ],
    [
      'mixed countries',
      (_, body) => ({ ...body, phone_numbers: [{ phone_number: nextNumber() }, { phone_number: '+442071234567' }] }),
      22172,
      /one country/,
    ],
    [
      'a mobile number without a pin',
      (_, body) => ({ ...body, phone_numbers: [{ phone_number: '+19175550100' }] }),
      20001,
      /pin/,
    ],
    ['a target date 3 days ahead', (_, body) => ({ ...body, target_port_in_date: daysAhead(3) }), 20001, /7 days/],
    [
      'a PIN sent as a number',
      (_, body) => ({ ...body, phone_numbers: [{ phone_number: nextNumber(), pin: 123 }] }),
      20001,
      /pin must be a string/,
    ],
  ];

  it.each(refusals)('refuses %s with 400', async (_, mutate, code, message) => {
    const account = newAccount();
    const body = mutate(account, createBody(account, await uploadBill(account), [nextNumber()]));
    const error = await expectTwilioError(account.client.numbers.v1.portingPortIns.create(body as never), 400, code);
    expect(error.message).toMatch(message);
    expect(twilioErrorSchema(lastResponse(account.client).body)).toBe(true);
  });

  it('refuses a number already in another open request with 22137, and frees it once that one is canceled', async () => {
    const first = newAccount();
    const { sid, numbers } = await newPortIn(first);
    const second = newAccount();
    const body = createBody(second, await uploadBill(second), numbers);
    await expectTwilioError(second.client.numbers.v1.portingPortIns.create(body as never), 400, 22137);
    await first.client.numbers.v1.portingPortIns(sid).remove();
    await createPortIn(second, body);
  });

  it('refuses a number already in the account with 22131', async () => {
    const account = newAccount();
    const number = nextNumber();
    await control(`/_sim/accounts/${account.sid}/incoming-phone-numbers`, { phoneNumber: number });
    const body = createBody(account, await uploadBill(account), [number]);
    await expectTwilioError(account.client.numbers.v1.portingPortIns.create(body as never), 400, 22131);
  });

  it('accepts a mobile number with its pin and account number', async () => {
    const account = newAccount();
    const body = createBody(account, await uploadBill(account), ['+19175550123']);
    const created = await createPortIn(account, body);
    expect(created.phoneNumbers?.[0]?.numberType).toBe('MOBILE');
    await account.client.numbers.v1.portingPortIns(created.portInRequestSid).remove();
  });
});

describe('Port In fetch, numbers, list and cancel', () => {
  it('fetches a request and one of its numbers', async () => {
    const account = newAccount();
    const { sid, created } = await newPortIn(account, 2);
    const fetched = await fetchPortIn(account, sid);
    expect(fetched.portInRequestStatus).toBe('In Review');
    expect(fetched.losingCarrierInformation?.customerName).toBe('Acme Plumbing LLC');

    const numberSid = created.phoneNumbers?.[0]?.portInPhoneNumberSid ?? '';
    const number = await specCall(account.client, ['numbers', 'get', PORT_IN_NUMBER, 200], () =>
      account.client.numbers.v1.portingPortInPhoneNumber(sid, numberSid).fetch(),
    );
    expect(number.phoneNumberSid).toBe(numberSid);
    expect(number.portInPhoneNumberStatus).toBe('in_review');
    expect(number.portOutPin).toBe(123); // the API answers the PIN as an integer: "0123" loses its zero

    await expectTwilioError(account.client.numbers.v1.portingPortIns(`KW${'0'.repeat(32)}`).fetch(), 404, 20404);
    await expectTwilioError(newAccount().client.numbers.v1.portingPortIns(sid).fetch(), 404);
  });

  it('cancels one number, and the request with its last number', async () => {
    const account = newAccount();
    const { sid, created } = await newPortIn(account, 2);
    const [first, second] = (created.phoneNumbers ?? []).map((n) => n.portInPhoneNumberSid);
    await specCall(account.client, ['numbers', 'delete', PORT_IN_NUMBER, 204], () =>
      account.client.numbers.v1.portingPortInPhoneNumber(sid, first ?? '').remove(),
    );
    let fetched = await fetchPortIn(account, sid);
    expect(fetched.portInRequestStatus).toBe('In Review');
    expect(fetched.phoneNumbers?.map((n) => n.portInPhoneNumberStatus)).toEqual(['canceled', 'in_review']);
    await account.client.numbers.v1.portingPortInPhoneNumber(sid, second ?? '').remove();
    fetched = await fetchPortIn(account, sid);
    expect(fetched.portInRequestStatus).toBe('Canceled');
  });

  it('cancels a request: 204, Canceled, numbers canceled; a second cancel is refused', async () => {
    const account = newAccount();
    const { sid } = await newPortIn(account, 2);
    const removed = await specCall(account.client, ['numbers', 'delete', PORT_IN_ONE, 204], () =>
      account.client.numbers.v1.portingPortIns(sid).remove(),
    );
    expect(removed).toBe(true);
    const fetched = await fetchPortIn(account, sid);
    expect(fetched.portInRequestStatus).toBe('Canceled');
    expect(fetched.phoneNumbers?.every((n) => n.portInPhoneNumberStatus === 'canceled')).toBe(true);
    await expectTwilioError(account.client.numbers.v1.portingPortIns(sid).remove(), 400);
  });

  it('lists requests newest first with token paging', async () => {
    const account = newAccount();
    const sids: string[] = [];
    for (let i = 0; i < 5; i += 1) sids.push((await newPortIn(account)).sid);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await specCall(account.client, ['numbers', 'get', PORT_IN_LIST, 200], () =>
        account.client.numbers.v1.portingAllPortIns.page({ size: 2, ...(token ? { token } : {}) }),
      );
      const body = lastResponse(account.client).body as {
        meta: { next_token: string | null; previous_token: string | null };
      };
      if (pages > 0) expect(body.meta.previous_token).not.toBeNull();
      seen.push(...page.instances.map((r) => r.portInRequestSid));
      expect(page.instances.every((r) => r.phoneNumbersRequested === 1)).toBe(true);
      token = body.meta.next_token ?? undefined;
      pages += 1;
    } while (token && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...sids].reverse());

    await account.client.numbers.v1.portingPortIns(sids[0] ?? '').remove();
    const canceled = await account.client.numbers.v1.portingAllPortIns.page({ portInRequestStatus: 'Canceled' });
    expect(canceled.instances.map((r) => r.portInRequestSid)).toEqual([sids[0]]);
    await expectTwilioError(account.client.numbers.v1.portingAllPortIns.page({ size: 101 }), 400);
    await expectTwilioError(account.client.numbers.v1.portingAllPortIns.page({ token: 'nope' }), 400);
  });
});

describe('portability', () => {
  it.each([
    ['+14155550142', true, 'LOCAL', false, null],
    ['+19175550142', true, 'MOBILE', true, null],
    ['+18885550142', false, 'TOLL-FREE', false, 22133],
    ['+14155559999', false, 'LOCAL', false, 22130],
    ['+1415555', false, 'UNKNOWN', false, 22102],
    ['4155550142', false, 'UNKNOWN', false, 22102],
  ])('%s: portable %s, %s, pin required %s, code %s', async (phoneNumber, portable, numberType, pinRequired, code) => {
    const account = newAccount();
    const result = await specCall(account.client, ['numbers', 'get', PORTABILITY, 200], () =>
      account.client.numbers.v1.portingPortabilities(phoneNumber).fetch({ targetAccountSid: account.sid }),
    );
    expect(result.portable).toBe(portable);
    expect(result.numberType).toBe(numberType);
    expect(result.pinAndAccountNumberRequired).toBe(pinRequired);
    expect(result.notPortableReasonCode).toBe(code);
  });

  it('says 22131 for a number already in the target account', async () => {
    const account = newAccount();
    const number = nextNumber();
    await control(`/_sim/accounts/${account.sid}/incoming-phone-numbers`, { phoneNumber: number });
    const result = await specCall(account.client, ['numbers', 'get', PORTABILITY, 200], () =>
      account.client.numbers.v1.portingPortabilities(number).fetch({ targetAccountSid: account.sid }),
    );
    expect(result.portable).toBe(false);
    expect(result.notPortableReasonCode).toBe(22131);
    expect(result.accountSid).toBe(account.sid);
  });
});

describe('webhook configuration', () => {
  it('stores the configuration sent by twilio-node (JSON) and answers it on GET', async () => {
    const account = newAccount();
    const created = await specCall(account.client, ['numbers', 'post', WEBHOOK_CONFIGURATION, 201], () =>
      account.client.numbers.v1.portingWebhookConfigurations.create({
        port_in_target_url: 'https://hooks.example/port-in',
        notifications_of: [],
      } as never),
    );
    expect(created.portInTargetUrl).toBe('https://hooks.example/port-in');
    const fetched = await account.client.request({
      method: 'get',
      uri: 'https://numbers.twilio.com/v1/Porting/Configuration/Webhook',
    });
    expect(fetched.statusCode).toBe(200);
    assertMatchesSpec('numbers', 'get', WEBHOOK_CONFIGURATION, 200, fetched.body);
    expect(fetched.body).toMatchObject({ port_in_target_url: 'https://hooks.example/port-in', notifications_of: [] });
  });

  it('accepts a form body with notifications_of repeated', async () => {
    const account = newAccount();
    const form = new URLSearchParams([
      ['port_in_target_url', 'https://hooks.example/in'],
      ['port_out_target_url', 'https://hooks.example/out'],
      ['notifications_of', 'PortInCompleted'],
      ['notifications_of', 'PortInCanceled'],
    ]);
    const response = await fetch(`${simulator.url}${WEBHOOK_CONFIGURATION}`, {
      method: 'POST',
      headers: { Authorization: basicAuth(account), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Body;
    assertMatchesSpec('numbers', 'post', WEBHOOK_CONFIGURATION, 201, body);
    expect(body.notifications_of).toEqual(['PortInCompleted', 'PortInCanceled']);
  });

  it('refuses camelCase keys and a URL that is not http(s)', async () => {
    const account = newAccount();
    const configurations = account.client.numbers.v1.portingWebhookConfigurations;
    await expectTwilioError(configurations.create({ portInTargetUrl: 'https://hooks.example/x' } as never), 400);
    await expectTwilioError(configurations.create({ port_in_target_url: 'ftp://hooks.example/x' } as never), 400);
  });
});

describe('IncomingPhoneNumbers', () => {
  it('pages through the numbers and filters by PhoneNumber', async () => {
    const account = newAccount();
    const numbers = [nextNumber(), nextNumber(), nextNumber()];
    for (const phoneNumber of numbers) {
      const added = await control(`/_sim/accounts/${account.sid}/incoming-phone-numbers`, { phoneNumber });
      expect(added.status).toBe(201);
      assertMatchesSpec('api', 'get', INCOMING_ONE, 200, added.body);
    }
    const incoming = account.client.api.v2010.accounts(account.sid).incomingPhoneNumbers;
    const first = await specCall(account.client, ['api', 'get', INCOMING_LIST, 200], () =>
      incoming.page({ pageSize: 2 }),
    );
    expect(first.instances.map((n) => n.phoneNumber)).toEqual(numbers.slice(0, 2));
    const second = await specCall(account.client, ['api', 'get', INCOMING_LIST, 200], async () => {
      const next = await first.nextPage();
      if (!next) throw new Error('no second page');
      return next;
    });
    expect(second.instances.map((n) => n.phoneNumber)).toEqual(numbers.slice(2));
    expect(await second.nextPage()).toBeUndefined();

    const all = await incoming.list({ pageSize: 2 });
    expect(all.map((n) => n.phoneNumber)).toEqual(numbers);
    const filtered = await incoming.list({ phoneNumber: numbers[1] });
    expect(filtered.map((n) => n.phoneNumber)).toEqual([numbers[1]]);
  });

  it('updates the voice URL and answers the number as the spec says', async () => {
    const account = newAccount();
    const added = await control(`/_sim/accounts/${account.sid}/incoming-phone-numbers`, { phoneNumber: nextNumber() });
    const sid = added.body.sid as string;
    const numberContext = account.client.api.v2010.accounts(account.sid).incomingPhoneNumbers(sid);
    const updated = await specCall(account.client, ['api', 'post', INCOMING_ONE, 200], () =>
      numberContext.update({
        voiceUrl: 'https://router.example/voice',
        voiceMethod: 'POST',
        friendlyName: 'Tracking line',
        statusCallback: 'https://router.example/status',
      }),
    );
    expect(updated.voiceUrl).toBe('https://router.example/voice');
    const fetched = await specCall(account.client, ['api', 'get', INCOMING_ONE, 200], () => numberContext.fetch());
    expect([fetched.voiceUrl, fetched.friendlyName, fetched.statusCallback]).toEqual([
      'https://router.example/voice',
      'Tracking line',
      'https://router.example/status',
    ]);
    await expectTwilioError(numberContext.update({ voiceUrl: 'not a url' }), 400);
    await expectTwilioError(
      account.client.api.v2010
        .accounts(account.sid)
        .incomingPhoneNumbers(`PN${'0'.repeat(32)}`)
        .fetch(),
      404,
    );
  });
});

describe('faults', () => {
  it('answers the configured status for the next `times` calls, then recovers', async () => {
    const account = newAccount();
    const fault = await control('/_sim/faults', { operation: 'fetchAccount', status: 503, times: 2 });
    expect(fault.status).toBe(201);
    const accounts = account.client.api.v2010.accounts(account.sid);
    await expectTwilioError(accounts.fetch(), 503, 20503);
    expect(twilioErrorSchema(lastResponse(account.client).body)).toBe(true);
    await expectTwilioError(accounts.fetch(), 503);
    await expect(accounts.fetch()).resolves.toMatchObject({ sid: account.sid });
  });

  it('fails createPortIn with 429 without creating anything', async () => {
    const account = newAccount();
    const body = createBody(account, await uploadBill(account), [nextNumber()]);
    await control('/_sim/faults', { operation: 'createPortIn', status: 429, times: 1 });
    await expectTwilioError(account.client.numbers.v1.portingPortIns.create(body as never), 429, 20429);
    expect(await simPortIns(account.sid)).toEqual([]);
    await createPortIn(account, body);
  });

  it('status 0 gives no answer until the client times out', async () => {
    const account = newAccount({ timeoutMs: 300 });
    await control('/_sim/faults', { operation: 'fetchPortability', status: 0, times: 1 });
    const portability = account.client.numbers.v1.portingPortabilities(nextNumber());
    const error = await portability.fetch().then(
      () => undefined,
      (e: unknown) => e as { status?: number; code?: string },
    );
    expect(error).toBeDefined();
    expect(error?.status).toBeUndefined();
    await expect(portability.fetch()).resolves.toMatchObject({ portable: true });
  });

  it('refuses an unknown operation', async () => {
    expect((await control('/_sim/faults', { operation: 'launchRocket', status: 500 })).status).toBe(400);
  });
});

describe('control status route', () => {
  it('moves a Completed request numbers into IncomingPhoneNumbers with PN sids', async () => {
    const account = newAccount();
    const { sid, numbers } = await newPortIn(account, 2);
    const moved = await control(`/_sim/port-ins/${sid}/status`, { status: 'completed' });
    expect(moved.status).toBe(200);
    const fetched = await fetchPortIn(account, sid);
    expect(fetched.portInRequestStatus).toBe('Completed');
    expect(fetched.phoneNumbers?.every((n) => n.portInPhoneNumberStatus === 'completed' && n.portDate)).toBe(true);
    const incoming = await specCall(account.client, ['api', 'get', INCOMING_LIST, 200], () =>
      account.client.api.v2010.accounts(account.sid).incomingPhoneNumbers.list({ pageSize: 1000 }),
    );
    expect(incoming.map((n) => n.phoneNumber).sort()).toEqual([...numbers].sort());
    for (const number of incoming) expect(number.sid).toMatch(/^PN[0-9a-f]{32}$/);
    const portability = await account.client.numbers.v1
      .portingPortabilities(numbers[0] ?? '')
      .fetch({ targetAccountSid: account.sid });
    expect(portability.notPortableReasonCode).toBe(22131);
  });

  it('sets per-number status, FOC date and rejection reason, normalising casing', async () => {
    const account = newAccount();
    const { sid, numbers, created } = await newPortIn(account, 2);
    const [a, b] = numbers as [string, string];
    const answer = await control(`/_sim/port-ins/${sid}/status`, {
      status: 'IN_PROGRESS',
      phoneNumbers: { [a]: { status: 'Port Pending', focDate: '2030-01-15' } },
    });
    expect(answer.status).toBe(200);
    let fetched = await fetchPortIn(account, sid);
    expect(fetched.portInRequestStatus).toBe('In Progress');
    expect(fetched.phoneNumbers?.map((n) => [n.portInPhoneNumberStatus, n.portDate])).toEqual([
      ['port_pending', '2030-01-15T00:00:00Z'],
      ['port_submitted', null],
    ]);
    await control(`/_sim/port-ins/${sid}/status`, {
      status: 'Action Required',
      phoneNumbers: { [b]: { status: 'port_rejected', rejectionReason: 'INVALID_PIN' } },
    });
    fetched = await fetchPortIn(account, sid);
    expect(fetched.portInRequestStatus).toBe('Action Required');
    expect(fetched.phoneNumbers?.[1]?.rejectionReason).toBe('INVALID_PIN');
    const number = await specCall(account.client, ['numbers', 'get', PORT_IN_NUMBER, 200], () =>
      account.client.numbers.v1
        .portingPortInPhoneNumber(sid, created.phoneNumbers?.[1]?.portInPhoneNumberSid ?? '')
        .fetch(),
    );
    expect([number.portInPhoneNumberStatus, number.rejectionReason]).toEqual(['port_rejected', 'INVALID_PIN']);

    expect((await control(`/_sim/port-ins/${sid}/status`, { status: 'Launched' })).status).toBe(400);
    expect((await control(`/_sim/port-ins/${sid}/status`, { phoneNumbers: { '+15550000000': {} } })).status).toBe(400);
    expect((await control(`/_sim/port-ins/KW${'0'.repeat(32)}/status`, { status: 'Completed' })).status).toBe(404);
  });
});

describe('webhook delivery', () => {
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  async function accountWithWebhook(path: string, notificationsOf: string[] = []) {
    const account = newAccount();
    await account.client.numbers.v1.portingWebhookConfigurations.create({
      port_in_target_url: receiver.url(path),
      notifications_of: notificationsOf,
    } as never);
    return account;
  }

  const receivedOn = (path: string) => receiver.received.filter((r) => new URL(r.url).pathname === path);

  it('posts signed JSON events that validate with twilio-node, request event first', async () => {
    const path = '/hooks/signed';
    const account = await accountWithWebhook(path);
    const { sid, numbers } = await newPortIn(account, 1);
    await control(`/_sim/port-ins/${sid}/status`, { status: 'In Progress' });
    const hooks = await waitFor('two webhooks', () => (receivedOn(path).length >= 2 ? receivedOn(path) : undefined));
    const events = hooks.map((hook) => JSON.parse(hook.body) as Body);
    expect(events[0]).toMatchObject({
      event_type: 'PortInInProgress',
      account_sid: account.sid,
      port_in_request_sid: sid,
      status: 'In Progress',
    });
    expect(events[1]).toMatchObject({
      event_type: 'PortInPhoneNumberSubmitted',
      port_in_request_sid: sid,
      phone_number: numbers[0],
      status: 'port_submitted',
    });
    expect(events[1]?.port_in_phone_number_sid).toMatch(/^PU[0-9a-f]{32}$/);
    for (const hook of hooks) {
      const signature = hook.headers['x-twilio-signature'] as string;
      expect(hook.headers['content-type']).toBe('application/json');
      expect(new URL(hook.url).searchParams.get('bodySHA256')).toMatch(/^[0-9a-f]{64}$/);
      expect(twilio.validateRequestWithBody(account.token, signature, hook.url, hook.body)).toBe(true);
      // The same signature must not validate another body, another token or another URL.
      expect(twilio.validateRequestWithBody(account.token, signature, hook.url, `${hook.body} `)).toBe(false);
      expect(twilio.validateRequestWithBody('wrong-token', signature, hook.url, hook.body)).toBe(false);
      expect(
        twilio.validateRequestWithBody(account.token, signature, hook.url.replace(path, '/other'), hook.body),
      ).toBe(false);
    }
    const mine = await simWebhooks(account.sid);
    expect(mine.map((d) => [d.eventType, d.outcome, d.responseStatus])).toEqual([
      ['PortInInProgress', 'delivered', 200],
      ['PortInPhoneNumberSubmitted', 'delivered', 200],
    ]);
  });

  it('keeps the query of a target URL and appends &bodySHA256=', async () => {
    const path = '/hooks/query';
    const account = await accountWithWebhook(`${path}?tenant=acme`);
    const { sid } = await newPortIn(account);
    await control(`/_sim/port-ins/${sid}/status`, { status: 'Waiting for Signature' });
    const [hook] = await waitFor('a webhook', () => (receivedOn(path).length > 0 ? receivedOn(path) : undefined));
    expect(hook?.url).toMatch(/\?tenant=acme&bodySHA256=[0-9a-f]{64}$/);
    expect(
      twilio.validateRequestWithBody(
        account.token,
        String(hook?.headers['x-twilio-signature']),
        hook?.url ?? '',
        hook?.body ?? '',
      ),
    ).toBe(true);
  });

  it('drops a webhook when asked, and records it', async () => {
    const path = '/hooks/drop';
    const account = await accountWithWebhook(path);
    const { sid } = await newPortIn(account);
    await control(`/_sim/port-ins/${sid}/status`, { status: 'Completed', webhook: 'drop' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receivedOn(path)).toEqual([]);
    const mine = await simWebhooks(account.sid);
    expect(mine.map((d) => [d.eventType, d.outcome])).toEqual([
      ['PortInCompleted', 'dropped'],
      ['PortInPhoneNumberCompleted', 'dropped'],
    ]);
  });

  it('duplicates a webhook when asked: same body, signature and idempotency token', async () => {
    const path = '/hooks/duplicate';
    const account = await accountWithWebhook(path, ['PortInCompleted']);
    const { sid } = await newPortIn(account);
    await control(`/_sim/port-ins/${sid}/status`, { status: 'Completed', webhook: 'duplicate' });
    const hooks = await waitFor('two copies', () => (receivedOn(path).length >= 2 ? receivedOn(path) : undefined));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // notifications_of lists PortInCompleted only: the per-number event is not sent.
    expect(receivedOn(path)).toHaveLength(2);
    const [one, two] = hooks as [ReceivedWebhook, ReceivedWebhook];
    expect(JSON.parse(one.body).event_type).toBe('PortInCompleted');
    expect(two.body).toBe(one.body);
    expect(two.headers['x-twilio-signature']).toBe(one.headers['x-twilio-signature']);
    expect(two.headers['i-twilio-idempotency-token']).toBe(one.headers['i-twilio-idempotency-token']);
  });

  it('retries a delivery answered 500', async () => {
    const path = '/hooks/retry';
    const account = await accountWithWebhook(path, ['PortInCanceled']);
    const { sid } = await newPortIn(account);
    receiver.state.failNext = 1;
    await account.client.numbers.v1.portingPortIns(sid).remove();
    const [hook] = await waitFor('the retried webhook', () =>
      receivedOn(path).length > 0 ? receivedOn(path) : undefined,
    );
    expect(JSON.parse(hook?.body ?? '{}')).toMatchObject({ event_type: 'PortInCanceled', status: 'Canceled' });
    const [delivery] = await simWebhooks(account.sid);
    expect(delivery?.outcome).toBe('delivered');
    expect(delivery?.attempts.map((a) => a.responseStatus)).toEqual([500, 200]);
  });
});

describe('auto-advance', () => {
  it('walks a new request to Completed with webhooks, and puts its numbers in the account', async () => {
    const receiver = await startWebhookReceiver();
    const autoSimulator = await startTwilioSimulator({ port: 0, autoAdvance: true, autoAdvanceStepMs: 40 });
    try {
      const account = await SimulatorAccount.connect(autoSimulator.url, receiver.url('/auto'));
      const { client } = account;
      const number = nextNumber();
      const sid = await account.portIn([number]);
      const seen = new Set<string>();
      await waitFor('Completed', async () => {
        const fetched = await client.numbers.v1.portingPortIns(sid).fetch();
        const phone = fetched.phoneNumbers?.[0];
        seen.add(`${fetched.portInRequestStatus}/${phone?.portInPhoneNumberStatus}`);
        return fetched.portInRequestStatus === 'Completed' ? fetched : undefined;
      });
      expect(seen.has('Completed/completed')).toBe(true);
      const events = await waitFor('7 webhooks', () =>
        receiver.received.length >= 7 ? receiver.received.map((r) => JSON.parse(r.body).event_type) : undefined,
      );
      expect(events).toEqual([
        'PortInWaitingForSignature',
        'PortInPhoneNumberWaitingForSignature',
        'PortInInProgress',
        'PortInPhoneNumberSubmitted',
        'PortInPhoneNumberPending',
        'PortInCompleted',
        'PortInPhoneNumberCompleted',
      ]);
      const incoming = await client.api.v2010.accounts(account.sid).incomingPhoneNumbers.list();
      expect(incoming.map((n) => n.phoneNumber)).toEqual([number]);
    } finally {
      await autoSimulator.close();
      await receiver.close();
    }
  });
});

describe('reset', () => {
  it('forgets accounts, tokens, requests and the webhook log', async () => {
    const account = newAccount();
    const { sid } = await newPortIn(account);
    expect((await control('/_sim/reset')).status).toBe(204);
    expect((await control(`/_sim/port-ins/${sid}`, undefined, 'GET')).status).toBe(404);
    expect(await simWebhooks()).toEqual([]);
    // The token is forgotten too: the same SID now accepts another token.
    const reborn = createTwilioClient(account.sid, 'a-new-token', { apiBaseUrl: simulator.url });
    await expect(reborn.api.v2010.accounts(account.sid).fetch()).resolves.toMatchObject({ sid: account.sid });
  });
});
