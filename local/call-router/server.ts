import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';

/** Options of {@link startCallRouter}. */
export interface CallRouterOptions {
  /** 0 picks a free port. Default 4020. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /**
   * The voice URL Twilio is given for the router (the deployment's `callRouterUrl`): what Twilio signs, so what the
   * signature is checked against, and whose path the router answers on. Default: the router's own URL +
   * `/twilio/voice`.
   */
  readonly publicUrl?: string;
  /** The auth token of a Twilio account, to check its signatures with; undefined when unknown (then refused). */
  authTokenOf(accountSid: string): Promise<string | undefined> | string | undefined;
  readonly logger?: (line: string) => void;
}

/** One voice request the router received, and what it answered. */
export interface RoutedRequest {
  readonly at: string;
  readonly method: string;
  readonly accountSid: string | null;
  readonly callSid: string | null;
  readonly from: string | null;
  readonly to: string | null;
  /** answered: TwiML; refused: a missing or wrong signature (403); fault: `/_router/faults` answered. */
  readonly outcome: 'answered' | 'refused' | 'fault';
  /** The status answered; null for a "no answer" fault. */
  readonly status: number | null;
}

/** A running call router. */
export interface CallRouter {
  /** Base URL, e.g. http://127.0.0.1:4020 (the `/_router` routes). */
  readonly url: string;
  /** Where the voice route really listens (the public URL's path on this server). */
  readonly voiceUrl: string;
  /** The URL Twilio is given and signs. */
  readonly publicUrl: string;
  /** Every voice request, oldest first (also `GET /_router/requests`). */
  readonly requests: readonly RoutedRequest[];
  close(): Promise<void>;
}

interface RouterFault {
  status: number;
  remaining: number;
}

/** TwiML that ends the call at once: all a verification call needs, and costs no more than answering. */
export function hangUpTwiml(): string {
  const response = new twilio.twiml.VoiceResponse();
  response.hangup();
  return response.toString();
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

/**
 * A stand-in for Ring Tonic's call router, the voice URL imports give every number: it checks Twilio's
 * `X-Twilio-Signature` (with the account's auth token, over its public URL, as a router behind a load balancer
 * must) and answers TwiML that hangs up at once; a missing or wrong signature answers 403. `POST /_router/faults`
 * `{ "status", "times" }` makes the next `times` voice requests answer `status` (0: no answer at all).
 */
export async function startCallRouter(options: CallRouterOptions): Promise<CallRouter> {
  const logger = options.logger ?? (() => {});
  const requests: RoutedRequest[] = [];
  let fault: RouterFault | undefined;
  let publicUrl = options.publicUrl ?? '';
  let voicePath = options.publicUrl ? new URL(options.publicUrl).pathname : '/twilio/voice';

  async function voice(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const body = method === 'POST' ? await readBody(req) : '';
    const form = method === 'POST' ? new URLSearchParams(body) : url.searchParams;
    const record = (outcome: RoutedRequest['outcome'], status: number | null) => {
      requests.push({
        at: new Date().toISOString(),
        method,
        accountSid: form.get('AccountSid'),
        callSid: form.get('CallSid'),
        from: form.get('From'),
        to: form.get('To'),
        outcome,
        status,
      });
      logger(
        `${method} ${url.pathname} ${form.get('CallSid') ?? ''} to ${form.get('To') ?? '?'} -> ${status ?? 'no answer'}`,
      );
    };
    // A broken router answers its fault before it looks at the request.
    if (fault) {
      const { status } = fault;
      fault.remaining -= 1;
      if (fault.remaining <= 0) fault = undefined;
      record('fault', status === 0 ? null : status);
      if (status !== 0) res.writeHead(status, { 'Content-Type': 'text/plain' }).end('Simulated call router failure');
      // status 0: hold the request until Twilio gives up on it (or close() drops it).
      return;
    }
    const accountSid = form.get('AccountSid');
    const signature = req.headers['x-twilio-signature'];
    const authToken = accountSid ? await options.authTokenOf(accountSid) : undefined;
    // Twilio signs the URL it was given, query included, and for a POST the form parameters.
    const signedUrl = `${publicUrl}${url.search}`;
    const params = method === 'POST' ? Object.fromEntries(form) : {};
    const valid =
      typeof signature === 'string' &&
      authToken !== undefined &&
      twilio.validateRequest(authToken, signature, signedUrl, params);
    if (!valid) {
      record('refused', 403);
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('Invalid X-Twilio-Signature');
      return;
    }
    record('answered', 200);
    res.writeHead(200, { 'Content-Type': 'text/xml' }).end(hangUpTwiml());
  }

  async function control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    if (url.pathname === '/_router/health' && method === 'GET') return json(res, 200, { ok: true });
    if (url.pathname === '/_router/requests' && method === 'GET') return json(res, 200, requests);
    if (url.pathname === '/_router/faults' && method === 'DELETE') {
      fault = undefined;
      return json(res, 204);
    }
    if (url.pathname === '/_router/faults' && method === 'POST') {
      let body: { status?: unknown; times?: unknown };
      try {
        body = JSON.parse(await readBody(req)) as typeof body;
      } catch {
        return json(res, 400, { message: 'The body must be JSON' });
      }
      const { status } = body;
      const times = body.times ?? 1;
      if (typeof status !== 'number' || !(status === 0 || (status >= 400 && status <= 599))) {
        return json(res, 400, { message: 'status must be 0 (no answer) or an HTTP error status 400..599' });
      }
      if (typeof times !== 'number' || !Number.isInteger(times) || times < 1) {
        return json(res, 400, { message: 'times must be an integer >= 1' });
      }
      fault = { status, remaining: times };
      return json(res, 201, { status, times });
    }
    return json(res, 404, { message: `No route ${method} ${url.pathname}` });
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://router');
    const handled =
      url.pathname === voicePath && (req.method === 'POST' || req.method === 'GET')
        ? voice(req, res, url)
        : control(req, res, url);
    handled.catch((error: unknown) => {
      logger(`${req.method} ${url.pathname} failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4020, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!options.publicUrl) {
    publicUrl = `${url}${voicePath}`;
    voicePath = new URL(publicUrl).pathname;
  }
  publicUrl = publicUrl.replace(/\?.*$/, '');
  logger(`call router listening on ${url}${voicePath} for ${publicUrl}`);
  return {
    url,
    voiceUrl: `${url}${voicePath}`,
    publicUrl,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Also drops requests held by a "no answer" fault.
        server.closeAllConnections();
      }),
  };
}
