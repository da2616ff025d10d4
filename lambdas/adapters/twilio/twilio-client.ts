import twilio from 'twilio';

type Twilio = ReturnType<typeof twilio>;
type RequestOptions<TData> = Parameters<twilio.RequestClient['request']>[0] & { data?: TData };

const TWILIO_HOST = /^https:\/\/[^/]*\.twilio\.com(?::\d+)?(?=\/|$)/i;

/** Rewrites `https://<anything>.twilio.com/path?query` onto `apiBaseUrl`, keeping path and query. */
export function rewriteTwilioUri(uri: string, apiBaseUrl: string): string {
  return uri.replace(TWILIO_HOST, apiBaseUrl.replace(/\/+$/, ''));
}

/** A RequestClient that sends twilio-node's unchanged requests to another base URL (locally: the simulator). */
class RedirectingRequestClient extends twilio.RequestClient {
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

/** Builds a twilio-node client; with `apiBaseUrl` every *.twilio.com request goes there instead. */
export function createTwilioClient(
  accountSid: string,
  authToken: string,
  options: { apiBaseUrl?: string; timeoutMs?: number } = {},
): Twilio {
  const timeout = options.timeoutMs;
  const httpClient = options.apiBaseUrl
    ? new RedirectingRequestClient(options.apiBaseUrl, { timeout })
    : timeout
      ? new twilio.RequestClient({ timeout })
      : undefined;
  return twilio(accountSid, authToken, httpClient ? { httpClient } : {});
}
