import { randomBytes } from 'node:crypto';
import { parseUsPhoneNumber } from '../../lambdas/domain/phone-numbers';
import { SignedApiClient } from '../../local/signed-api-client';
import { LOCAL_CREDENTIALS, type LocalStack } from '../../local/stack';
import { waitUntil } from './stats';

/**
 * Drives one Ring Tonic account over the signed product API, as the main product would. A copy of the test
 * harness's TestAccount without jest's `expect`, so the bench runs outside jest.
 */

export type PortRequestView = {
  portRequestId: string;
  status: string;
  twilioPortInRequestSid: string | null;
  phoneNumbers: Array<{ phoneNumber: string; status: string; imported: boolean }>;
  safeToCancelOldService: boolean;
};

const address = { street: '1 Main St', city: 'San Francisco', state: 'CA', zip: '94105', country: 'US' };
const utilityBillBase64 = Buffer.from('%PDF-1.4\n% utility bill for the bench\n%%EOF\n').toString('base64');

/** A losing carrier as the main product sends it. */
export function losingCarrier(name: string, utilityBillDocumentSid: string, phoneNumbers: readonly string[]) {
  return {
    name,
    customerType: 'Business',
    customerName: 'Acme Plumbing LLC',
    accountNumber: '5551234',
    authorizedRepresentative: 'Jane Doe',
    authorizedRepresentativeEmail: 'jane@acme.example',
    address,
    utilityBillDocumentSid,
    phoneNumbers,
  };
}

const AREA_CODES = ['415', '510', '650', '408', '312', '206', '212', '303', '404', '512', '617', '702', '713', '801'];

/**
 * `count` distinct US numbers that the service parses as valid and the simulator finds portable (local: not
 * toll-free, not area code 917, not ...9999). `seed` (0..99) keeps the sets of different calls apart.
 */
export function localNumbers(count: number, seed: number): string[] {
  const numbers: string[] = [];
  for (let i = 0; numbers.length < count; i += 1) {
    const n = seed * 1_000_000 + i;
    const area = AREA_CODES[Math.floor(n / 10_000 / 700) % AREA_CODES.length] as string;
    const exchange = 200 + (Math.floor(n / 10_000) % 700);
    const line = String(n % 10_000).padStart(4, '0');
    const parsed = parseUsPhoneNumber(`+1${area}${exchange}${line}`);
    if (parsed.ok && !parsed.e164.endsWith('9999')) numbers.push(parsed.e164);
  }
  return numbers;
}

async function ok<T>(answer: Promise<{ status: number; body: T }>, expected: number, what: string): Promise<T> {
  const { status, body } = await answer;
  if (status !== expected) throw new Error(`${what}: HTTP ${status} ${JSON.stringify(body).slice(0, 500)}`);
  return body;
}

export class BenchAccount {
  readonly api: SignedApiClient;
  readonly accountId = `bench-${randomBytes(4).toString('hex')}`;
  readonly accountSid = `AC${randomBytes(16).toString('hex')}`;
  readonly authToken = randomBytes(16).toString('hex');
  readonly owner = `owner-${this.accountId}@acme.example`;
  readonly base = `/v1/accounts/${this.accountId}`;
  webhookUrl = '';
  documentSid = '';

  constructor(readonly stack: LocalStack) {
    this.api = new SignedApiClient(stack.urls.api, LOCAL_CREDENTIALS);
  }

  /** Connects Twilio (which points the simulator's porting webhook at us) and uploads a utility bill. */
  async connect(): Promise<void> {
    const connected = await ok(
      this.api.put<{ webhookUrl: string }>(`${this.base}/twilio-connection`, {
        accountSid: this.accountSid,
        authToken: this.authToken,
      }),
      200,
      'connect',
    );
    this.webhookUrl = connected.webhookUrl;
    const bill = await ok(
      this.api.post<{ documentSid: string }>(`${this.base}/documents`, {
        fileName: 'bill.pdf',
        contentType: 'application/pdf',
        contentBase64: utilityBillBase64,
      }),
      201,
      'upload the utility bill',
    );
    this.documentSid = bill.documentSid;
  }

  /**
   * Orders a port; each entry of `carriers` is one losing carrier's numbers. Answers the port request ids. As the
   * main product does (CONTRACT: 503 and 504 are worth retrying), retries a 503, 504 or "in progress" 409 with the
   * same Idempotency-Key and body until `retryForMs` has passed; `retries` counts them.
   */
  async order(
    carriers: ReadonlyArray<readonly string[]>,
    options: { retryForMs?: number; retries?: { count: number } } = {},
  ): Promise<string[]> {
    const key = `bench-${randomBytes(8).toString('hex')}`;
    const body = {
      losingCarriers: carriers.map((numbers, i) => losingCarrier(`Carrier ${i + 1}`, this.documentSid, numbers)),
      notificationEmails: [this.owner],
      attestations: { currentServiceActiveAndPaid: true, keepCurrentServiceUntilComplete: true },
    };
    const deadline = Date.now() + (options.retryForMs ?? 0);
    for (;;) {
      const answer = await this.api.post<{ portRequests: Array<{ portRequestId: string }> }>(
        `${this.base}/port-orders`,
        body,
        { 'Idempotency-Key': key },
      );
      // A 502 is the gateway telling that the function failed (crashed): the same key makes the retry safe.
      const retryable = [409, 502, 503, 504].includes(answer.status);
      if (answer.status === 202 || answer.status === 200 || !retryable || Date.now() > deadline) {
        const accepted = await ok(Promise.resolve(answer), answer.status === 200 ? 200 : 202, 'order a port');
        return accepted.portRequests.map((pr) => pr.portRequestId);
      }
      if (options.retries) options.retries.count += 1;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  async portRequest(portRequestId: string): Promise<PortRequestView> {
    return ok(this.api.get<PortRequestView>(`${this.base}/port-requests/${portRequestId}`), 200, 'read a port');
  }

  async waitFor(portRequestId: string, done: (pr: PortRequestView) => boolean, what: string, timeoutMs = 60_000) {
    return waitUntil(
      async () => {
        const pr = await this.portRequest(portRequestId);
        return done(pr) ? pr : undefined;
      },
      what,
      timeoutMs,
      50,
    );
  }

  /** Waits for the Twilio submission; answers the KW sid. */
  async submitted(portRequestId: string, timeoutMs = 60_000): Promise<string> {
    const pr = await this.waitFor(portRequestId, (p) => Boolean(p.twilioPortInRequestSid), 'the submission', timeoutMs);
    return pr.twilioPortInRequestSid as string;
  }

  /** Sets the Twilio side of a port-in as a real change would, with its webhooks. */
  async setTwilioStatus(sid: string, body: { status?: string; phoneNumbers?: Record<string, object> }) {
    const response = await fetch(`${this.stack.urls.twilio}/_sim/port-ins/${sid}/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`simulator status change: ${response.status} ${await response.text()}`);
    return (await response.json()) as { events: unknown[] };
  }
}

/** Emails the SES stand-in holds (aws-ses-v2-local's /store). */
export async function sesEmails(stack: LocalStack): Promise<Array<{ subject: string; destination: { to: string[] } }>> {
  const store = (await (await fetch(`${stack.urls.ses}/store`)).json()) as {
    emails: Array<{ subject: string; destination: { to: string[] } }>;
  };
  return store.emails;
}

/** The simulator's webhook deliveries (each POST attempt is one API Gateway request). */
export async function webhookDeliveries(stack: LocalStack): Promise<Array<{ attempts: unknown[]; outcome: string }>> {
  return (await (await fetch(`${stack.urls.twilio}/_sim/webhooks`)).json()) as Array<{
    attempts: unknown[];
    outcome: string;
  }>;
}
