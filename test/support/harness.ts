import { type ApiAnswer, SignedApiClient } from '../../local/signed-api-client';
import { LOCAL_CREDENTIALS, type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack';
import { curlPut, type UploadTicket } from './document-uploads';
import { eventually } from './eventually';
import { attestations, losingCarrier, newAccount, utilityBillBase64 } from './fixtures';
import { expectMatchesOpenApi } from './openapi-validation';

/** A signed client whose every answer must match the service's OpenAPI document. */
export class CheckedApiClient extends SignedApiClient {
  override async request<T = unknown>(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; sign?: boolean } = {},
  ): Promise<ApiAnswer<T>> {
    const answer = await super.request<T>(method, path, options);
    expectMatchesOpenApi(method, path, answer.status, answer.body, answer.headers.get('content-type') ?? undefined);
    // Every 429 and 5xx, from a handler or from the gateway, says when to retry.
    if (answer.status === 429 || answer.status >= 500) {
      const route = `${method} ${path} ${answer.status}`;
      expect({ route, retryAfter: answer.headers.get('retry-after') }).toEqual({
        route,
        retryAfter: expect.stringMatching(/^[1-9]\d*$/),
      });
    }
    return answer;
  }
}

/** A port request as GET port-requests/{id} answers it (the fields the tests read). */
export type PortRequestView = {
  portRequestId: string;
  status: string;
  route: string;
  twilioPortInRequestSid: string | null;
  losingCarrier: Record<string, unknown>;
  phoneNumbers: Array<{
    phoneNumber: string;
    status: string;
    imported: boolean;
    focDate?: string;
    rejectionReason?: string;
    verification: { status: string; checkedAt?: string; detail?: string };
  }>;
  safeToCancelOldService: boolean;
  focDate?: string;
  updatedAt: string;
};
export type Email = { subject: string; destination: { to: string[] }; body: { text: string; html: string } };
export type TimelineEvent = { at: string; type: string; status?: string; detail?: string };

export const CALL_ROUTER_URL = 'https://calls.ringtonic.example/twilio/voice';

/** A problem+json answer, as far as the tests read it. */
export type Problem = {
  status: number;
  title: string;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
};

/** The local stack on free ports, with short retries; its log is shown when a test fails (LOCAL_STACK_LOG=1: always). */
export async function startTestStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({
    apiPort: 0,
    twilioPort: 0,
    sesPort: 0,
    pollIntervalSeconds: 30,
    retryIntervalScale: 0.01,
    // VerifyNumbers' 2-minute answer window is 1 s, its 15-minute re-checks 9 s.
    verificationTimeScale: 0.01,
    callRouterUrl: CALL_ROUTER_URL,
    log: (line: string) => process.stdout.write(`${line}\n`),
    ...options,
  });
}

/** Drives one account on a running local stack: the product API (signed), the Twilio simulator, the SES store. */
export class TestAccount {
  readonly api: CheckedApiClient;
  readonly accountId: string;
  readonly accountSid: string;
  readonly authToken: string;
  readonly owner: string;
  readonly base: string;

  constructor(readonly stack: LocalStack) {
    this.api = new CheckedApiClient(stack.urls.api, LOCAL_CREDENTIALS);
    const account = newAccount();
    this.accountId = account.accountId;
    this.accountSid = account.accountSid;
    this.authToken = account.authToken;
    this.owner = `owner-${account.accountId}@acme.example`;
    this.base = `/v1/accounts/${account.accountId}`;
  }

  /** Connects Twilio and uploads a utility bill; answers the bill's RD sid. */
  async connect(): Promise<string> {
    const connected = await this.api.put(`${this.base}/twilio-connection`, {
      accountSid: this.accountSid,
      authToken: this.authToken,
    });
    expect(connected.status).toBe(200);
    const bill = await this.api.post<{ documentSid: string }>(`${this.base}/documents`, {
      fileName: 'bill.pdf',
      contentType: 'application/pdf',
      contentBase64: utilityBillBase64,
    });
    expect(bill.status).toBe(201);
    return bill.body.documentSid;
  }

  /** Starts a presigned upload (POST document-uploads); answers the whole answer, for the tests of its refusals. */
  createUpload(body: { fileName: string; contentType: string; sizeBytes: number } | Record<string, unknown>) {
    return this.api.post<UploadTicket & Problem>(`${this.base}/document-uploads`, body);
  }

  /** Completes a presigned upload (POST document-uploads/{uploadId}/complete). */
  completeUpload(uploadId: string) {
    return this.api.post<{ documentSid: string } & Problem>(
      `${this.base}/document-uploads/${uploadId}/complete`,
      undefined,
    );
  }

  /** A utility bill through the presigned upload routes, its bytes sent with curl; answers its RD sid. */
  async uploadBill(bytes: Buffer, contentType = 'application/pdf', fileName = 'bill.pdf'): Promise<string> {
    const ticket = await this.createUpload({ fileName, contentType, sizeBytes: bytes.length });
    expect(ticket.status).toBe(201);
    expect((await curlPut(ticket.body, bytes)).status).toBe(200);
    const completed = await this.completeUpload(ticket.body.uploadId);
    expect(completed.status).toBe(201);
    return completed.body.documentSid;
  }

  /** Orders a port of the given numbers from one losing carrier; answers the port request ids. */
  async order(
    documentSid: string,
    phoneNumbers: unknown[],
    carrier = 'CallRail',
    extra: object = {},
  ): Promise<string[]> {
    const answer = await this.api.post<{ portRequests: Array<{ portRequestId: string }> }>(
      `${this.base}/port-orders`,
      {
        losingCarriers: [losingCarrier(carrier, documentSid, phoneNumbers, extra)],
        notificationEmails: [this.owner],
        attestations,
      },
      { 'Idempotency-Key': `key-${Math.random().toString(36).slice(2)}` },
    );
    expect(answer.status).toBe(202);
    return answer.body.portRequests.map((pr) => pr.portRequestId);
  }

  async portRequest(portRequestId: string): Promise<PortRequestView> {
    const answer = await this.api.get<PortRequestView>(`${this.base}/port-requests/${portRequestId}`);
    expect(answer.status).toBe(200);
    return answer.body;
  }

  /** Waits until the port request satisfies `done`, answering it. */
  async waitFor(portRequestId: string, done: (pr: PortRequestView) => boolean, what: string, timeoutMs = 20000) {
    return eventually(
      async () => {
        const pr = await this.portRequest(portRequestId);
        return done(pr) ? pr : undefined;
      },
      { what, timeoutMs },
    );
  }

  /** Waits for the Twilio submission; answers the KW sid. */
  async submitted(portRequestId: string): Promise<string> {
    const pr = await this.waitFor(portRequestId, (p) => Boolean(p.twilioPortInRequestSid), 'the Twilio submission');
    return pr.twilioPortInRequestSid as string;
  }

  async events(portRequestId: string): Promise<TimelineEvent[]> {
    const answer = await this.api.get<{ items: TimelineEvent[] }>(`${this.base}/port-requests/${portRequestId}/events`);
    expect(answer.status).toBe(200);
    return answer.body.items;
  }

  /** Emails sent to this account's owner, oldest first. */
  async emails(): Promise<Email[]> {
    const store = (await (await fetch(`${this.stack.urls.ses}/store`)).json()) as { emails: Email[] };
    return store.emails.filter((e) => e.destination.to.includes(this.owner));
  }

  /** Calls a control route of the Twilio simulator (POST with a body, GET without). */
  async sim<T = unknown>(path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.stack.urls.twilio}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status).toBeLessThan(300);
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Sets the Twilio side of a port-in as a real status change would (with its webhook by default). */
  setTwilioStatus(sid: string, body: { status?: string; phoneNumbers?: Record<string, object>; webhook?: string }) {
    return this.sim(`/_sim/port-ins/${sid}/status`, body);
  }
}
