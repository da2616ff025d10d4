import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import { createTwilioClient, rewriteTwilioUri } from '../../lambdas/adapters/twilio/twilio-client';
import { assertMatchesSpec, type SpecName } from '../contract/openapi-schema';

/** One webhook the receiver accepted (answered 200), with when it arrived. */
export interface ReceivedWebhook {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * A stand-in for the service's webhook endpoint, for the Twilio simulator to post to. It answers 500 to the next
 * `state.failNext` posts and 503 to any post on a path in `state.refusedPaths` (the service down); `received` holds
 * the posts it accepted.
 */
export async function startWebhookReceiver() {
  const received: ReceivedWebhook[] = [];
  const state = { failNext: 0, refusedPaths: new Set<string>() };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (state.refusedPaths.has(new URL(req.url ?? '/', baseUrl).pathname)) {
        res.writeHead(503).end();
        return;
      }
      if (state.failNext > 0) {
        state.failNext -= 1;
        res.writeHead(500).end();
        return;
      }
      received.push({
        url: `${baseUrl}${req.url}`,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path: string) => `${baseUrl}${path}`,
    received,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A running {@link startWebhookReceiver}. */
export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

let numberCounter = 0;

/** A fresh local number (area code 628, so as not to meet the contract tests' 415 ones). */
export function nextSimulatorNumber(): string {
  numberCounter += 1;
  return `+1628${String(2_000_000 + numberCounter)}`;
}

/**
 * The full twilio-node client (every product, unlike the service's createTwilioClient) with its requests sent to the
 * simulator: for tests of the resources the service's client does not carry (Calls).
 */
export function fullTwilioClient(accountSid: string, authToken: string, simulatorUrl: string): twilio.Twilio {
  class RedirectingRequestClient extends twilio.RequestClient {
    override request<TData>(opts: RequestClient.RequestOptions<TData>) {
      return super.request<TData>({ ...opts, uri: rewriteTwilioUri(opts.uri, simulatorUrl) });
    }
  }
  return twilio(accountSid, authToken, { httpClient: new RedirectingRequestClient() });
}

/** A Twilio account on the simulator at `simulatorUrl`, set up as a tenant's: its webhooks to a URL, one bill. */
export class SimulatorAccount {
  readonly sid = `AC${randomBytes(16).toString('hex')}`;
  readonly token = randomBytes(16).toString('hex');
  readonly client: ReturnType<typeof createTwilioClient>;
  private documentSid = '';

  private constructor(readonly simulatorUrl: string) {
    this.client = createTwilioClient(this.sid, this.token, { apiBaseUrl: simulatorUrl });
  }

  /** Configures the account's porting webhooks to `webhookUrl` and uploads a utility bill. */
  static async connect(simulatorUrl: string, webhookUrl: string): Promise<SimulatorAccount> {
    const account = new SimulatorAccount(simulatorUrl);
    await account.client.numbers.v1.portingWebhookConfigurations.create({
      port_in_target_url: webhookUrl,
    } as never);
    const form = new FormData();
    form.set('document_type', 'utility_bill');
    form.set('File', new Blob([Buffer.from('%PDF-1.4\n%bill\n')], { type: 'application/pdf' }), 'bill.pdf');
    const response = await fetch(rewriteTwilioUri('https://numbers-upload.twilio.com/v1/Documents', simulatorUrl), {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${account.sid}:${account.token}`).toString('base64')}` },
      body: form,
    });
    if (response.status !== 201) throw new Error(`bill upload answered ${response.status}`);
    account.documentSid = ((await response.json()) as { sid: string }).sid;
    return account;
  }

  /** Creates a port-in of these numbers (fresh ones by default) with twilio-node; answers its KW sid. */
  async portIn(numbers: readonly string[] = [nextSimulatorNumber()]): Promise<string> {
    const created = await this.client.numbers.v1.portingPortIns.create({
      account_sid: this.sid,
      documents: [this.documentSid],
      losing_carrier_information: {
        customer_type: 'Business',
        customer_name: 'Acme Plumbing LLC',
        account_number: '5551234',
        account_telephone_number: numbers[0],
        authorized_representative: 'Jane Doe',
        authorized_representative_email: 'jane@acme.example',
        address: { street: '1 Main St', city: 'San Francisco', state: 'CA', zip: '94105', country: 'US' },
      },
      phone_numbers: numbers.map((phone_number) => ({ phone_number, pin: '0123' })),
      notification_emails: ['owner@acme.example'],
    } as never);
    return created.portInRequestSid;
  }

  /** The port-in's status and its first number's, as "Completed/completed". */
  async status(sid: string): Promise<string> {
    const fetched = await this.client.numbers.v1.portingPortIns(sid).fetch();
    return `${fetched.portInRequestStatus}/${fetched.phoneNumbers?.[0]?.portInPhoneNumberStatus}`;
  }
}

/** A twilio-node client: the service's narrow one (createTwilioClient) or the full `twilio()` one. */
type AnyTwilioClient = { readonly httpClient?: unknown };

/** What twilio-node really received on the last call of this client, before it built its objects. */
export function lastTwilioResponse(client: AnyTwilioClient): { statusCode: number; body: unknown } {
  const response = (client.httpClient as twilio.RequestClient | undefined)?.lastResponse;
  if (!response) throw new Error('no response recorded');
  return { statusCode: response.statusCode, body: response.body };
}

/** Runs a twilio-node call and checks the raw answer's status and body against Twilio's spec for the operation. */
export async function specCall<T>(
  client: AnyTwilioClient,
  [spec, method, pathTemplate, status]: [SpecName, string, string, number],
  call: () => Promise<T>,
): Promise<T> {
  const result = await call();
  const response = lastTwilioResponse(client);
  expect(response.statusCode).toBe(status);
  if (status !== 204) assertMatchesSpec(spec, method, pathTemplate, status, response.body);
  return result;
}
