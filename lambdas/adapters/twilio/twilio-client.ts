// Narrow imports: `import twilio from 'twilio'` bundles every Twilio product (3.3 MB). These are the pieces the
// full client is made of, so the requests (auth, user agent, paging, error objects) are still twilio-node's own.
import { Client, type ClientOpts } from 'twilio/lib/base/BaseTwilio';
import Domain from 'twilio/lib/base/Domain';
import RequestClient from 'twilio/lib/base/RequestClient';
import { isValidPathParam } from 'twilio/lib/base/utility';
import Version from 'twilio/lib/base/Version';
import type V2010 from 'twilio/lib/rest/api/V2010';
import { IncomingPhoneNumberListInstance } from 'twilio/lib/rest/api/v2010/account/incomingPhoneNumber';
import type NumbersV1 from 'twilio/lib/rest/numbers/V1';
import { PortingAllPortInListInstance } from 'twilio/lib/rest/numbers/v1/portingAllPortIn';
import { PortingPortabilityListInstance } from 'twilio/lib/rest/numbers/v1/portingPortability';
import { PortingPortInListInstance } from 'twilio/lib/rest/numbers/v1/portingPortIn';
import { PortingPortInPhoneNumberListInstance } from 'twilio/lib/rest/numbers/v1/portingPortInPhoneNumber';
import { PortingWebhookConfigurationListInstance } from 'twilio/lib/rest/numbers/v1/portingWebhookConfiguration';

type RequestOptions<TData> = RequestClient.RequestOptions<TData>;

const TWILIO_HOST = /^https:\/\/[^/]*\.twilio\.com(?::\d+)?(?=\/|$)/i;

/** Rewrites `https://<anything>.twilio.com/path?query` onto `apiBaseUrl`, keeping path and query. */
export function rewriteTwilioUri(uri: string, apiBaseUrl: string): string {
  return uri.replace(TWILIO_HOST, apiBaseUrl.replace(/\/+$/, ''));
}

/** A RequestClient that sends twilio-node's unchanged requests to another base URL (locally: the simulator). */
class RedirectingRequestClient extends RequestClient {
  constructor(
    private readonly apiBaseUrl: string,
    options: { timeout?: number },
  ) {
    super(options);
  }

  override request<TData>(opts: RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: rewriteTwilioUri(opts.uri, this.apiBaseUrl) });
  }
}

/**
 * Numbers v1 with only its porting resources, as twilio-node's NumbersV1 builds them (which would also load the
 * verification, eligibility and sender-id resources). The list instances only use the Version part of NumbersV1.
 */
class PortingV1 extends Version {
  private _portingPortIns?: PortingPortInListInstance;
  private _portingAllPortIns?: PortingAllPortInListInstance;
  private _portingPortInPhoneNumber?: PortingPortInPhoneNumberListInstance;
  private _portingPortabilities?: PortingPortabilityListInstance;
  private _portingWebhookConfigurations?: PortingWebhookConfigurationListInstance;

  constructor(domain: Domain) {
    super(domain, 'v1');
  }

  private get asV1(): NumbersV1 {
    return this as unknown as NumbersV1;
  }

  get portingPortIns(): PortingPortInListInstance {
    this._portingPortIns ??= PortingPortInListInstance(this.asV1);
    return this._portingPortIns;
  }

  get portingAllPortIns(): PortingAllPortInListInstance {
    this._portingAllPortIns ??= PortingAllPortInListInstance(this.asV1);
    return this._portingAllPortIns;
  }

  get portingPortInPhoneNumber(): PortingPortInPhoneNumberListInstance {
    this._portingPortInPhoneNumber ??= PortingPortInPhoneNumberListInstance(this.asV1);
    return this._portingPortInPhoneNumber;
  }

  get portingPortabilities(): PortingPortabilityListInstance {
    this._portingPortabilities ??= PortingPortabilityListInstance(this.asV1);
    return this._portingPortabilities;
  }

  get portingWebhookConfigurations(): PortingWebhookConfigurationListInstance {
    this._portingWebhookConfigurations ??= PortingWebhookConfigurationListInstance(this.asV1);
    return this._portingWebhookConfigurations;
  }
}

/** What an Account fetch answers, as twilio-node's AccountInstance names it (the fields used here). */
export interface TwilioAccount {
  sid: string;
  friendlyName: string;
  status: string;
}

/** A Call resource as the 2010 API answers it (snake_case, the fields the number checks read). */
export interface TwilioCallPayload {
  sid: string;
  direction: string;
  from: string;
  to: string;
  status: string;
  start_time: string | null;
}

/**
 * The account's Calls: create and list. twilio-node's `account/call` module loads every call sub-resource
 * (recordings, payments, streams, siprec...) into the bundle; these are the requests its CallListInstance makes,
 * through the same Version (auth, user agent, errors as RestException).
 */
export interface TwilioCalls {
  create(params: {
    To: string;
    From: string;
    Twiml: string;
    Timeout: number;
    TimeLimit: number;
  }): Promise<TwilioCallPayload>;
  /** One page of up to 1,000 calls per filter, newest first, following next_page_uri. */
  list(params: { To: string; From?: string; 'StartTime>': string }): Promise<TwilioCallPayload[]>;
}

/** `api.v2010.accounts(sid)`: the account fetch, its IncomingPhoneNumbers and Calls, nothing else of the 2010 API. */
export interface TwilioAccountContext {
  fetch(): Promise<TwilioAccount>;
  readonly incomingPhoneNumbers: IncomingPhoneNumberListInstance;
  readonly calls: TwilioCalls;
}

/**
 * The 2010 API version with only what the service uses. twilio-node's `api.v2010.accounts` module loads every
 * account resource (calls, messages, queues...); the fetch below is the one its AccountContext makes.
 */
class Api2010 extends Version {
  constructor(domain: Domain) {
    super(domain, '2010-04-01');
  }

  accounts(sid: string): TwilioAccountContext {
    if (!isValidPathParam(sid)) throw new Error("Parameter 'sid' is not valid.");
    // The list instance only uses the Version part of V2010 (and its Domain for the next-page URLs).
    const version = this;
    let incomingPhoneNumbers: IncomingPhoneNumberListInstance | undefined;
    return {
      async fetch() {
        const payload = (await version.fetch({
          uri: `/Accounts/${sid}.json`,
          method: 'get',
          headers: { Accept: 'application/json' },
        })) as { sid: string; friendly_name: string; status: string };
        return { sid: payload.sid, friendlyName: payload.friendly_name, status: payload.status };
      },
      get incomingPhoneNumbers() {
        incomingPhoneNumbers ??= IncomingPhoneNumberListInstance(version as unknown as V2010, sid);
        return incomingPhoneNumbers;
      },
      calls: {
        async create(params) {
          return (await version.create({
            uri: `/Accounts/${sid}/Calls.json`,
            method: 'post',
            data: params,
            headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
          })) as TwilioCallPayload;
        },
        async list(params) {
          const calls: TwilioCallPayload[] = [];
          let page = (await version.fetch({
            uri: `/Accounts/${sid}/Calls.json`,
            method: 'get',
            params: { ...params, PageSize: 1000 },
            headers: { Accept: 'application/json' },
          })) as { calls?: TwilioCallPayload[]; next_page_uri?: string | null };
          // A number's test calls are a handful a check; the pages are bounded all the same.
          for (let pages = 1; ; pages += 1) {
            calls.push(...(page.calls ?? []));
            if (!page.next_page_uri || pages >= 10) return calls;
            // next_page_uri is the whole path (/2010-04-01/Accounts/...) with the paging query.
            const next = new URL(page.next_page_uri, 'https://api.twilio.com');
            page = (await version.fetch({
              uri: next.pathname.replace(/^\/2010-04-01/, ''),
              method: 'get',
              params: Object.fromEntries(next.searchParams),
              headers: { Accept: 'application/json' },
            })) as typeof page;
          }
        },
      },
    };
  }
}

/** twilio-node's base client with the two Twilio products the service talks to, built as the full client does. */
export class TwilioClient extends Client {
  readonly numbers: { readonly v1: PortingV1 };
  readonly api: { readonly v2010: Api2010 };

  constructor(accountSid: string, authToken: string, opts: ClientOpts) {
    super(accountSid, authToken, opts);
    this.numbers = { v1: new PortingV1(new Domain(this, 'https://numbers.twilio.com')) };
    this.api = { v2010: new Api2010(new Domain(this, 'https://api.twilio.com')) };
  }
}

/** Builds a twilio-node client; with `apiBaseUrl` every *.twilio.com request goes there instead. */
export function createTwilioClient(
  accountSid: string,
  authToken: string,
  options: { apiBaseUrl?: string; timeoutMs?: number } = {},
): TwilioClient {
  const timeout = options.timeoutMs;
  const httpClient = options.apiBaseUrl
    ? new RedirectingRequestClient(options.apiBaseUrl, { timeout })
    : timeout
      ? new RequestClient({ timeout })
      : undefined;
  return new TwilioClient(accountSid, authToken, httpClient ? { httpClient } : {});
}
