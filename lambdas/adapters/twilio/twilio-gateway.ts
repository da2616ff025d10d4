import type { NumberType, TwilioPortInSnapshot } from '../../domain/port-request';
import type { Portability } from '../../domain/split-order';
import { TwilioRequestError, TwilioTransientError } from '../../shared/errors';
import { lazy } from '../../shared/lazy';
import type {
  IncomingPhoneNumber,
  TestCallRequest,
  TwilioAccountGateway,
  TwilioCall,
  TwilioGateway,
  TwilioPortInCreateBody,
} from '../../use-cases/ports';
import type { TwilioClient } from './twilio-client';

/**
 * twilio-node (its base client, axios and the porting resources: about 100 ms of a cold start) is loaded with the
 * first client, not at init: a `require`, which the bundle evaluates only when it runs.
 */
const twilioClientModule = lazy(() => require('./twilio-client') as typeof import('./twilio-client'));

/** Turns twilio-node's errors into ours: 429, 5xx and no answer are transient; other 4xx are final. */
export function toTwilioError(error: unknown, operation: string): Error {
  const e = error as { status?: number; code?: number; message?: string };
  const status = typeof e?.status === 'number' ? e.status : undefined;
  if (status === undefined || status === 429 || status >= 500) {
    return new TwilioTransientError(`Twilio ${operation} failed (${status ?? 'no answer'})`, { cause: error });
  }
  return new TwilioRequestError(`Twilio ${operation} refused: ${e.message ?? status}`, status, e.code, {
    cause: error,
  });
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toTwilioError(error, operation);
  }
}

const NUMBER_TYPES: Record<string, NumberType> = {
  local: 'LOCAL',
  mobile: 'MOBILE',
  'toll-free': 'TOLL_FREE',
  toll_free: 'TOLL_FREE',
  tollfree: 'TOLL_FREE',
};

/** Twilio's number_type in any casing to ours. */
export function toNumberType(raw: unknown): NumberType {
  return NUMBER_TYPES[String(raw ?? '').toLowerCase()] ?? 'UNKNOWN';
}

interface PortInNumberLike {
  phoneNumber?: string;
  portInPhoneNumberStatus?: string;
  portDate?: string | null;
  rejectionReason?: string | null;
  rejectionReasonCode?: string | number | null;
}

/** Reads what the workflow needs from a Port In answer, tolerating the beta's shifting shapes. */
export function toSnapshot(instance: {
  portInRequestStatus?: string | null;
  phoneNumbers?: unknown;
}): TwilioPortInSnapshot {
  const numbers = Array.isArray(instance.phoneNumbers) ? (instance.phoneNumbers as PortInNumberLike[]) : [];
  return {
    status: instance.portInRequestStatus ?? '',
    phoneNumbers: numbers
      .filter((n) => typeof n.phoneNumber === 'string')
      .map((n) => ({
        phoneNumber: n.phoneNumber as string,
        status: n.portInPhoneNumberStatus ?? '',
        ...(n.portDate ? { focDate: String(n.portDate).slice(0, 10) } : {}),
        ...(n.rejectionReason || n.rejectionReasonCode
          ? { rejectionReason: String(n.rejectionReason ?? n.rejectionReasonCode) }
          : {}),
      })),
  };
}

class TwilioNodeAccountGateway implements TwilioAccountGateway {
  constructor(
    private readonly client: TwilioClient,
    private readonly accountSid: string,
    private readonly authToken: string,
    private readonly options: { apiBaseUrl?: string; timeoutMs?: number },
  ) {}

  async uploadUtilityBill(document: { fileName: string; contentType: string; content: Buffer }): Promise<string> {
    const form = new FormData();
    form.append('document_type', 'utility_bill');
    form.append('friendly_name', document.fileName);
    form.append(
      'File',
      new Blob([new Uint8Array(document.content)], { type: document.contentType }),
      document.fileName,
    );
    const url = this.options.apiBaseUrl
      ? `${this.options.apiBaseUrl.replace(/\/+$/, '')}${new URL(DOCUMENTS_UPLOAD_URL).pathname}`
      : DOCUMENTS_UPLOAD_URL;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        body: form,
        headers: { authorization: `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')}` },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30000),
      });
    } catch (error) {
      throw toTwilioError(error, 'uploadDocument');
    }
    const body = (await response.json().catch(() => ({}))) as { sid?: string; code?: number; message?: string };
    if (!response.ok || !body.sid) throw toTwilioError({ status: response.status, ...body }, 'uploadDocument');
    return body.sid;
  }

  async verifyCredentials(): Promise<boolean> {
    try {
      await this.client.api.v2010.accounts(this.accountSid).fetch();
      return true;
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 401 || status === 403 || status === 404) return false;
      throw toTwilioError(error, 'fetchAccount');
    }
  }

  async configurePortingWebhook(url: string): Promise<void> {
    // twilio-node sends the object as given; the API wants snake_case.
    const body = { port_in_target_url: url, notifications_of: [] as string[] };
    await call('configureWebhook', () =>
      this.client.numbers.v1.portingWebhookConfigurations.create(body as unknown as Record<string, never>),
    );
  }

  async checkPortability(phoneNumber: string): Promise<Portability> {
    const result = await call('fetchPortability', () =>
      this.client.numbers.v1.portingPortabilities(phoneNumber).fetch({ targetAccountSid: this.accountSid }),
    );
    const reasonCode = result.notPortableReasonCode;
    return {
      phoneNumber,
      portable: Boolean(result.portable),
      numberType: toNumberType(result.numberType),
      pinAndAccountNumberRequired: Boolean(result.pinAndAccountNumberRequired),
      ...(reasonCode !== null && reasonCode !== undefined ? { reasonCode: String(reasonCode) } : {}),
      ...(result.notPortableReason ? { reason: result.notPortableReason } : {}),
    };
  }

  async createPortIn(body: TwilioPortInCreateBody): Promise<{ sid: string; snapshot: TwilioPortInSnapshot }> {
    const created = await call('createPortIn', () =>
      // PORTING-FACTS: the generated type is camelCase but the wire format is snake_case; we send our own type.
      this.client.numbers.v1.portingPortIns.create(
        body as unknown as Parameters<TwilioClient['numbers']['v1']['portingPortIns']['create']>[0],
      ),
    );
    if (!created.portInRequestSid) throw new TwilioTransientError('Twilio answered the Port In create without a sid');
    return { sid: created.portInRequestSid, snapshot: toSnapshot(created) };
  }

  async fetchPortIn(sid: string): Promise<TwilioPortInSnapshot> {
    const instance = await call('fetchPortIn', () => this.client.numbers.v1.portingPortIns(sid).fetch());
    return toSnapshot(instance);
  }

  async findOpenPortIn(
    phoneNumbers: readonly string[],
    createdSince: string,
  ): Promise<{ sid: string; snapshot: TwilioPortInSnapshot } | undefined> {
    const wanted = [...phoneNumbers].sort().join(',');
    // CreatedAfter is a date: start the day before, then compare the numbers themselves.
    const createdAfter = new Date(Date.parse(createdSince) - 86_400_000).toISOString().slice(0, 10);
    let token: string | undefined;
    // PORTING-FACTS: twilio-node's list() stops at page 1 for this token-paged API, so the pages are read here.
    for (let page = 0; page < 20; page += 1) {
      const query = new URLSearchParams({
        Size: '100',
        CreatedAfter: createdAfter,
        ...(token ? { Token: token } : {}),
      });
      const body = await call('listPortIns', async () => {
        const response = (await this.client.request({
          method: 'get',
          uri: `https://numbers.twilio.com/v1/Porting/PortIn/PortInRequests?${query}`,
          headers: { Accept: 'application/json' },
        })) as { statusCode: number; body: unknown };
        const parsed = typeof response.body === 'string' ? JSON.parse(response.body || '{}') : response.body;
        if (response.statusCode >= 400) throw { status: response.statusCode, ...(parsed as object) };
        return parsed as PortInRequestList;
      });
      for (const item of body.port_in_requests ?? []) {
        const status = (item.port_in_request_status ?? '').toLowerCase();
        if (status === 'canceled' || status === 'expired') continue;
        if (item.phone_numbers_requested != null && item.phone_numbers_requested !== phoneNumbers.length) continue;
        const snapshot = await this.fetchPortIn(item.port_in_request_sid);
        const numbers = snapshot.phoneNumbers
          .map((n) => n.phoneNumber)
          .sort()
          .join(',');
        if (numbers === wanted) return { sid: item.port_in_request_sid, snapshot };
      }
      token = body.meta?.next_token ?? undefined;
      if (!token) return undefined;
    }
    return undefined;
  }

  async cancelPortIn(sid: string): Promise<void> {
    try {
      await this.client.numbers.v1.portingPortIns(sid).remove();
    } catch (error) {
      if ((error as { status?: number }).status === 404) return;
      throw toTwilioError(error, 'cancelPortIn');
    }
  }

  async listIncomingPhoneNumbers(): Promise<readonly IncomingPhoneNumber[]> {
    const numbers = await call('listIncomingPhoneNumbers', () =>
      this.client.api.v2010.accounts(this.accountSid).incomingPhoneNumbers.list({ pageSize: 1000 }),
    );
    return numbers.map((n) => ({
      sid: n.sid,
      phoneNumber: n.phoneNumber,
      friendlyName: n.friendlyName,
      ...(n.voiceUrl ? { voiceUrl: n.voiceUrl } : {}),
      voiceCapable: Boolean(n.capabilities?.voice),
    }));
  }

  async createCall(request: TestCallRequest): Promise<string> {
    const created = await call('createCall', () =>
      this.client.api.v2010.accounts(this.accountSid).calls.create({
        To: request.to,
        From: request.from,
        Twiml: request.twiml,
        Timeout: request.timeoutSeconds,
        TimeLimit: request.timeLimitSeconds,
      }),
    );
    if (!created.sid) throw new TwilioTransientError('Twilio answered the Call create without a sid');
    return created.sid;
  }

  async listCalls(filter: { to: string; from?: string; startedSince: string }): Promise<readonly TwilioCall[]> {
    const calls = await call('listCalls', () =>
      this.client.api.v2010.accounts(this.accountSid).calls.list({
        To: filter.to,
        ...(filter.from ? { From: filter.from } : {}),
        // As twilio-node serializes a Date for startTimeAfter: an instant, "on or after".
        'StartTime>': new Date(filter.startedSince).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      }),
    );
    return calls.map((c) => ({
      sid: c.sid,
      direction: c.direction,
      from: c.from,
      to: c.to,
      status: c.status,
      ...(c.start_time ? { startTime: new Date(c.start_time).toISOString() } : {}),
    }));
  }

  async setVoiceUrl(incomingPhoneNumberSid: string, voiceUrl: string): Promise<void> {
    await call('updateIncomingPhoneNumber', () =>
      this.client.api.v2010
        .accounts(this.accountSid)
        .incomingPhoneNumbers(incomingPhoneNumberSid)
        .update({ voiceUrl, voiceMethod: 'POST' }),
    );
  }
}

/** GET /v1/Porting/PortIn/PortInRequests, as the spec names it (snake_case on the wire). */
interface PortInRequestList {
  port_in_requests?: Array<{
    port_in_request_sid: string;
    port_in_request_status?: string | null;
    phone_numbers_requested?: number | null;
  }>;
  meta?: { next_token?: string | null };
}

/** Twilio's documents upload host: not in twilio-node nor the spec, so a raw multipart request (PORTING-FACTS). */
const DOCUMENTS_UPLOAD_URL = 'https://numbers-upload.twilio.com/v1/Documents';

/** Twilio through twilio-node; `apiBaseUrl` (locally: the simulator) replaces *.twilio.com. */
export class TwilioNodeGateway implements TwilioGateway {
  private readonly options: { apiBaseUrl?: string; timeoutMs: number };

  /** Twilio answers in about a second; a call that hangs fails after `timeoutMs` and is retried as transient. */
  constructor(options: { apiBaseUrl?: string | undefined; timeoutMs?: number } = {}) {
    this.options = {
      ...(options.apiBaseUrl ? { apiBaseUrl: options.apiBaseUrl } : {}),
      timeoutMs: options.timeoutMs ?? 10_000,
    };
  }

  forAccount(credentials: { accountSid: string; authToken: string }): TwilioAccountGateway {
    const client = twilioClientModule().createTwilioClient(credentials.accountSid, credentials.authToken, this.options);
    return new TwilioNodeAccountGateway(client, credentials.accountSid, credentials.authToken, this.options);
  }
}
