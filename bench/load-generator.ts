import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import twilio from 'twilio';

/**
 * A closed-loop load generator in its own process (the server under test keeps the other core): `concurrency`
 * workers each send one signed Twilio porting webhook, wait for the answer, and send the next, until `count`
 * requests were sent after `warmup` unmeasured ones. Every request is signed as Twilio signs a JSON webhook (the
 * URL with ?bodySHA256=…, HMAC-SHA1 with the account's auth token), so the floor and the service get the same
 * requests. Prints one JSON line: { sent, ok, statuses, seconds, latenciesMs }.
 */

export interface LoadConfig {
  readonly url: string;
  readonly authToken: string;
  readonly accountSid: string;
  /** Request n is about port-in n modulo their number (one port, or webhooks spread over several). */
  readonly portIns: ReadonlyArray<{ readonly sid: string; readonly phoneNumber: string }>;
  readonly count: number;
  readonly warmup: number;
  readonly concurrency: number;
}

export interface LoadResult {
  readonly sent: number;
  readonly ok: number;
  readonly statuses: Record<string, number>;
  readonly seconds: number;
  readonly latenciesMs: number[];
}

function signedWebhook(config: LoadConfig, n: number) {
  const portIn = config.portIns[n % config.portIns.length];
  if (!portIn) throw new Error('no port-ins to send webhooks about');
  const body = JSON.stringify({
    event_type: 'PortInPhoneNumberPending',
    account_sid: config.accountSid,
    port_in_request_sid: portIn.sid,
    port_in_phone_number_sid: `PU${createHash('md5').update(String(n)).digest('hex')}`,
    phone_number: portIn.phoneNumber,
    status: 'port_pending',
    port_date: '2030-01-15T00:00:00Z',
    last_date_updated: new Date(Date.UTC(2030, 0, 1, 0, 0, n % 86_400)).toISOString().replace('.000', ''),
  });
  const url = `${config.url}?bodySHA256=${createHash('sha256').update(body).digest('hex')}`;
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'TwilioProxy/1.1',
    'x-twilio-signature': twilio.getExpectedTwilioSignature(config.authToken, url, {}),
  };
  return { url: new URL(url), body, headers };
}

function send(agent: Agent, webhook: ReturnType<typeof signedWebhook>): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        method: 'POST',
        host: webhook.url.hostname,
        port: webhook.url.port,
        path: `${webhook.url.pathname}${webhook.url.search}`,
        headers: webhook.headers,
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(webhook.body);
  });
}

export async function runLoad(config: LoadConfig): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: config.concurrency });
  const total = config.warmup + config.count;
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  let measuredStart = 0;
  const worker = async () => {
    while (next < total) {
      const n = next++;
      // Signing is part of the client's work, not the server's: done before the clock starts.
      const webhook = signedWebhook(config, n);
      if (n === config.warmup) measuredStart = performance.now();
      const started = performance.now();
      const status = await send(agent, webhook);
      if (n < config.warmup) continue;
      latenciesMs.push(performance.now() - started);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, worker));
  const seconds = (performance.now() - measuredStart) / 1000;
  agent.destroy();
  const ok = Object.entries(statuses).reduce((n, [status, c]) => (status.startsWith('2') ? n + c : n), 0);
  return { sent: latenciesMs.length, ok, statuses, seconds, latenciesMs };
}

if (require.main === module) {
  const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
  runLoad(config)
    .then((result) => process.stdout.write(`${JSON.stringify(result)}\n`))
    .catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
}
