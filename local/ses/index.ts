import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type IntrinsicResolver, type PseudoParameters, resolveIntrinsics } from '../cloudformation/resolve';
import type { CloudFormationTemplate } from '../cloudformation/synthesize';

/** SES event publishing, as the template configures it (see {@link configurationSetsFromTemplate}). */
export interface SesEventPublishing {
  /** Every configuration set, by name, with the event types it publishes to EventBridge (`send`, …; maybe none). */
  readonly configurationSets: ReadonlyMap<string, readonly string[]>;
  /** Puts an event on the default event bus. */
  readonly publish: (event: unknown) => void;
  readonly region: string;
  readonly accountId: string;
}

/** Options of {@link startSes}. */
export interface LocalSesOptions {
  readonly host: string;
  /** The port clients use (the faulting proxy's); 0 picks a free one. */
  readonly port: number;
  /**
   * Where the record of sent emails is kept (`ses-emails.jsonl`): each email is appended before SES answers, and
   * the emails of earlier runs are in `GET /store` again after a restart. In memory only when absent.
   */
  readonly dataDir?: string;
  readonly log?: (line: string) => void;
  /**
   * SES's configuration sets and their EventBridge event destinations: a SendEmail naming an unknown set is refused
   * (NotFoundException), and one through a set that publishes `send` puts SES's "Email Sent" event on the bus,
   * with the email's tags. Without it, configuration sets are not checked and nothing is published.
   */
  readonly eventPublishing?: SesEventPublishing;
}

/**
 * The template's SES configuration sets (named as the local resolver names them) with the event types each
 * publishes to EventBridge (AWS::SES::ConfigurationSetEventDestination with an EventBridgeDestination, enabled).
 * Other destinations (SNS, CloudWatch, Firehose) are not emulated: the stack refuses a template that has them.
 */
export function configurationSetsFromTemplate(
  template: CloudFormationTemplate,
  resolver: IntrinsicResolver,
  pseudo: PseudoParameters,
): Map<string, string[]> {
  const sets = new Map<string, string[]>();
  const resources = template.Resources ?? {};
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::SES::ConfigurationSet') continue;
    const name = (resource.Properties as { Name?: string } | undefined)?.Name ?? resolver.ref(logicalId);
    sets.set(name, []);
  }
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::SES::ConfigurationSetEventDestination') continue;
    const props = resolveIntrinsics(resource.Properties, resolver, pseudo) as {
      ConfigurationSetName: string;
      EventDestination: { Enabled?: boolean; MatchingEventTypes: string[]; EventBridgeDestination?: unknown };
    };
    const destination = props.EventDestination;
    if (!destination.EventBridgeDestination) {
      throw new Error(`${logicalId}: the local SES publishes events to EventBridge only`);
    }
    if (destination.Enabled === false) continue;
    const types = sets.get(props.ConfigurationSetName);
    if (!types) throw new Error(`${logicalId}: no configuration set ${props.ConfigurationSetName} in the template`);
    types.push(...destination.MatchingEventTypes.map((t) => t.toLowerCase()));
  }
  return sets;
}

/** The SendEmail request fields the event publishing reads. */
interface SendEmailRequest {
  readonly FromEmailAddress?: string;
  readonly Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
  readonly Content?: { Simple?: { Subject?: { Data?: string } } };
  readonly ConfigurationSetName?: string;
  readonly EmailTags?: Array<{ Name: string; Value: string }>;
}

/**
 * SES's Send event as EventBridge carries it (detail-type "Email Sent"): the mail object with the email's tags and
 * the ones SES adds itself (`ses:configuration-set`, `ses:from-domain`, …), each tag's value in a list.
 */
function emailSentEvent(request: SendEmailRequest, messageId: string, publishing: SesEventPublishing): unknown {
  const now = new Date().toISOString();
  const from = request.FromEmailAddress ?? '';
  const destination = [
    ...(request.Destination?.ToAddresses ?? []),
    ...(request.Destination?.CcAddresses ?? []),
    ...(request.Destination?.BccAddresses ?? []),
  ];
  const tags: Record<string, string[]> = {
    'ses:operation': ['SendEmail'],
    'ses:configuration-set': [request.ConfigurationSetName ?? ''],
    'ses:source-ip': ['127.0.0.1'],
    'ses:from-domain': [from.split('@')[1] ?? ''],
    'ses:caller-identity': ['local'],
  };
  for (const tag of request.EmailTags ?? []) tags[tag.Name] = [tag.Value];
  const { region, accountId } = publishing;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Email Sent',
    source: 'aws.ses',
    account: accountId,
    time: `${now.slice(0, 19)}Z`,
    region,
    resources: [`arn:aws:ses:${region}:${accountId}:configuration-set/${request.ConfigurationSetName}`],
    detail: {
      eventType: 'Send',
      mail: {
        timestamp: now,
        source: from,
        sendingAccountId: accountId,
        messageId,
        destination,
        headersTruncated: false,
        commonHeaders: {
          from: [from],
          to: request.Destination?.ToAddresses ?? [],
          messageId,
          subject: request.Content?.Simple?.Subject?.Data ?? '',
        },
        tags,
      },
      send: {},
    },
  };
}

/** SES v2's answer to a SendEmail through a configuration set that does not exist. */
function writeNoSuchConfigurationSet(res: ServerResponse, name: string): void {
  const body = JSON.stringify({ message: `Configuration set <${name}> does not exist.` });
  res
    .writeHead(404, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'x-amzn-ErrorType': 'NotFoundException:http://internal.amazon.com/coral/com.amazonaws.sesv2/',
      'x-amzn-RequestId': `not-found-${Date.now()}`,
    })
    .end(body);
}

/** The SES v2 stand-in: aws-ses-v2-local behind a proxy that can answer SendEmail with SES's throttling error. */
export interface LocalSes {
  readonly url: string;
  /** The next `times` SendEmail calls answer 429 TooManyRequestsException, as SES does past the sending rate. */
  throttleSendEmail(times: number): void;
  /** SendEmail calls answered with a throttling error so far. */
  readonly throttledCount: number;
  close(): Promise<void>;
}

/** The control route of the proxy: POST `{ "times": N }` throttles the next N SendEmail calls. */
export const SES_THROTTLE_ROUTE = '/_faults/throttle-send-email';

const SEND_EMAIL_PATH = '/v2/email/outbound-emails';
const EMAILS_FILE = 'ses-emails.jsonl';

type SesStoreModule = {
  saveEmail: (email: unknown) => void;
  getStoreReadonly: () => { emails: unknown[] };
};

/** The SES v2 service's answer past the account's sending rate (restJson1: the error type is in x-amzn-ErrorType). */
function writeThrottled(res: ServerResponse): void {
  const body = JSON.stringify({ message: 'Maximum sending rate exceeded.' });
  res
    .writeHead(429, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'x-amzn-ErrorType': 'TooManyRequestsException:http://internal.amazon.com/coral/com.amazonaws.sesv2/',
      'x-amzn-RequestId': `throttled-${Date.now()}`,
    })
    .end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

let persistence: { file: string | undefined } | undefined;

/**
 * aws-ses-v2-local keeps its emails in a module-level store: with a data dir, every saved email is also appended to
 * a file (synchronously, so an email SES answered for is on disk even if the process is killed right after), and
 * the file's emails are put back into the store at start.
 */
function persistEmails(dataDir: string | undefined): void {
  const store = require('aws-ses-v2-local/dist/store') as SesStoreModule;
  if (!persistence) {
    const state = { file: undefined as string | undefined };
    const save = store.saveEmail;
    store.saveEmail = (email) => {
      if (state.file) appendFileSync(state.file, `${JSON.stringify(email)}\n`);
      save(email);
    };
    persistence = state;
  }
  persistence.file = dataDir ? path.join(dataDir, EMAILS_FILE) : undefined;
  if (!persistence.file || !existsSync(persistence.file)) return;
  // The store holds what the file holds: a stack started again in the same process does not list emails twice.
  const emails = store.getStoreReadonly().emails;
  emails.length = 0;
  for (const line of readFileSync(persistence.file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      emails.push(JSON.parse(line));
    } catch {
      // A line cut short by a kill mid-write: that email was never answered for.
    }
  }
}

/** Starts aws-ses-v2-local on a free port and the faulting proxy in front of it on `options.port`. */
export async function startSes(options: LocalSesOptions): Promise<LocalSes> {
  const log = options.log ?? (() => undefined);
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  persistEmails(options.dataDir);
  const startBackend = require('aws-ses-v2-local').default as (config: {
    host: string;
    port: number;
  }) => Promise<Server>;
  const backend = await startBackend({ host: options.host, port: 0 });
  const backendPort = (backend.address() as AddressInfo).port;

  let throttleRemaining = 0;
  let throttledCount = 0;

  /** Forwards to aws-ses-v2-local; `taken` hears the MessageId of a SendEmail it answered 200 for. */
  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    taken?: (messageId: string) => void,
  ): void => {
    const upstream = request(
      {
        host: options.host,
        port: backendPort,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'content-length': String(body.length) },
      },
      (answer) => {
        if (!taken || answer.statusCode !== 200) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        readBody(answer).then(
          (answered) => {
            const messageId = (JSON.parse(answered.toString('utf8')) as { MessageId?: string }).MessageId;
            // Published before the caller hears the answer: SES took the email, whatever happens to the caller.
            if (messageId) taken(messageId);
            res.writeHead(200, answer.headers).end(answered);
          },
          () => res.writeHead(502).end(),
        );
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`SES stand-in unreachable: ${error.message}`);
    });
    upstream.end(body);
  };

  const proxy = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        const pathname = new URL(req.url ?? '/', 'http://ses').pathname;
        if (req.method === 'POST' && pathname === SES_THROTTLE_ROUTE) {
          let times: unknown;
          try {
            times = (JSON.parse(body.toString('utf8') || '{}') as { times?: unknown }).times;
          } catch {
            times = undefined;
          }
          if (typeof times !== 'number' || !Number.isInteger(times) || times < 0) {
            res
              .writeHead(400, { 'Content-Type': 'application/json' })
              .end('{"message":"times must be an integer >= 0"}');
            return;
          }
          throttleRemaining = times;
          res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ times }));
          return;
        }
        if (req.method === 'POST' && pathname === SEND_EMAIL_PATH && throttleRemaining > 0) {
          throttleRemaining -= 1;
          throttledCount += 1;
          log(`SendEmail -> 429 TooManyRequestsException (fault, ${throttleRemaining} left)`);
          writeThrottled(res);
          return;
        }
        const publishing = options.eventPublishing;
        if (req.method === 'POST' && pathname === SEND_EMAIL_PATH && publishing) {
          let sendEmail: SendEmailRequest;
          try {
            sendEmail = JSON.parse(body.toString('utf8')) as SendEmailRequest;
          } catch {
            forward(req, res, body);
            return;
          }
          const setName = sendEmail.ConfigurationSetName;
          const publishes = setName === undefined ? [] : publishing.configurationSets.get(setName);
          if (publishes === undefined) {
            writeNoSuchConfigurationSet(res, setName ?? '');
            return;
          }
          if (!publishes.includes('send')) {
            forward(req, res, body);
            return;
          }
          forward(req, res, body, (messageId) => publishing.publish(emailSentEvent(sendEmail, messageId, publishing)));
          return;
        }
        forward(req, res, body);
      },
      () => res.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(options.port, options.host, () => {
      proxy.off('error', reject);
      resolve();
    });
  });
  const url = `http://${options.host}:${(proxy.address() as AddressInfo).port}`;

  const closeServer = (server: Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });

  return {
    url,
    throttleSendEmail(times: number) {
      throttleRemaining = times;
    },
    get throttledCount() {
      return throttledCount;
    },
    close: async () => {
      await closeServer(proxy);
      await closeServer(backend);
    },
  };
}
