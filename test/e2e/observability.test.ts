import { createHash } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { isSecretKey, REDACTED } from '../../lambdas/shared/redaction';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack } from '../../local/stack';
import { eventually } from '../support/eventually';
import { armFault } from '../support/faults';
import { startTestStack, TestAccount } from '../support/harness';
import { startRefusingSes, templateOf } from '../support/refusing-ses';

/**
 * Logs, metrics and dead letters of real ports on the local stack. The functions run in their own processes
 * (local/lambda), so what they print (JSON log lines, EMF metric lines) is read from the runtime's log feed, as
 * CloudWatch Logs would collect it.
 */

const CARRIER_PIN = '604931';
const NUMBER_PIN = '728315';
const ACCOUNT_NUMBER = '5551234'; // test/support/fixtures.ts losingCarrier
const STEP_FUNCTION = /(SubmitPortIn|WaitForPortUpdate|SyncPortStatus|DeliverEmails|ImportNumbers|MarkFailed)Function/;

type Line = Record<string, unknown>;

/** Everything the functions print (stdout and stderr, one entry per line) while the stack runs. */
class Capture {
  readonly text: string[] = [];
  private unsubscribe: (() => void) | undefined;

  start(stack: LocalStack): void {
    this.unsubscribe = stack.lambdas.onLog(({ line }) => {
      this.text.push(`${line}\n`);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  get mark(): number {
    return this.text.length;
  }

  /** The JSON lines written since `from` (a `mark`). */
  lines(from = 0): Line[] {
    return this.text
      .slice(from)
      .join('')
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Line];
        } catch {
          return [];
        }
      });
  }

  /** The EMF metric lines since `from`. */
  metrics(from = 0): Line[] {
    return this.lines(from).filter((l) => typeof l._aws === 'object');
  }

  /** The values of one metric since `from` (one EMF line may carry several). */
  values(name: string, from = 0): number[] {
    return this.metrics(from).flatMap((l) => {
      const value = l[name];
      return value === undefined ? [] : Array.isArray(value) ? (value as number[]) : [value as number];
    });
  }

  sum(name: string, from = 0): number {
    return this.values(name, from).reduce((a, b) => a + b, 0);
  }

  /** The log lines (not metrics) since `from`. */
  logs(from = 0): Line[] {
    return this.lines(from).filter((l) => typeof l._aws !== 'object' && 'level' in l);
  }
}

/** Every (key, value) of a JSON value, at any depth. */
function* entries(value: unknown): Generator<[string, unknown]> {
  if (Array.isArray(value)) {
    for (const item of value) yield* entries(item);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      yield [key, inner];
      yield* entries(inner);
    }
  }
}

type LoggedEvent = {
  /** A workflow step's state input (StepEvent). */
  input?: { portRequestId?: string; token?: string };
  resource?: string;
  httpMethod?: string;
  pathParameters?: Record<string, string> | null;
  headers?: Record<string, string>;
  body?: unknown;
};

describe('observability, end to end: logs, metrics and dead letters of real ports', () => {
  const capture = new Capture();
  let stack: LocalStack;
  let dynamo: DynamoDBClient;
  let ses: Awaited<ReturnType<typeof startRefusingSes>>;
  /** Owners whose PORT_SUBMITTED email SES refuses for good. */
  const refusedOwners = new Set<string>();
  const secrets = new Set([CARRIER_PIN, NUMBER_PIN, ACCOUNT_NUMBER]);
  let completedPortRequestId: string;

  beforeAll(async () => {
    // Everything logged, events included: the redaction must hold for what an operator can turn on.
    stack = await startTestStack({
      lambdaEnvironment: { POWERTOOLS_LOG_LEVEL: 'DEBUG', POWERTOOLS_LOGGER_LOG_EVENT: 'true' },
    });
    capture.start(stack);
    dynamo = new DynamoDBClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: stack.urls.dynamoDb,
    });
    ses = await startRefusingSes(stack.urls.ses, (body) => {
      const to = (body.Destination as { ToAddresses?: string[] } | undefined)?.ToAddresses ?? [];
      return to.some((address) => refusedOwners.has(address)) && templateOf(body) === 'PORT_SUBMITTED'
        ? { status: 400, type: 'MessageRejected', message: 'Email address is on the suppression list.' }
        : undefined;
    });
    // As a configuration change would: the functions' next instances talk to the refusing endpoint.
    stack.lambdas.updateEnvironment({ AWS_ENDPOINT_URL_SESV2: ses.url });
  }, 60000);

  afterAll(async () => {
    capture.stop();
    await stack?.stop();
    await ses?.close();
  });

  const rawPortRequest = async (account: TestAccount, portRequestId: string) => {
    const item = await dynamo.send(
      new GetItemCommand({
        TableName: stack.tableName,
        Key: { PK: { S: `ACCOUNT#${account.accountId}` }, SK: { S: `PORT_REQUEST#${portRequestId}` } },
        ConsistentRead: true,
      }),
    );
    return item.Item ? unmarshall(item.Item) : undefined;
  };

  it('counts a completed port: submitted once, completed once, and times each webhook-announced change', async () => {
    const from = capture.mark;
    const account = new TestAccount(stack);
    secrets.add(account.authToken);
    const bill = await account.connect();
    const [portRequestId] = (await account.order(
      bill,
      ['(415) 555-0140', { phoneNumber: '415.555.0141', pin: NUMBER_PIN }],
      'CallRail',
      { pin: CARRIER_PIN },
    )) as [string];
    completedPortRequestId = portRequestId;
    const sid = await account.submitted(portRequestId);

    // The PINs went to Twilio and are gone from the table; nothing else in the item holds them.
    const stored = await rawPortRequest(account, portRequestId);
    expect(stored?.twilioPortInRequestSid).toBe(sid);
    expect(stored).not.toHaveProperty('pins');
    expect(JSON.stringify(stored)).not.toContain(CARRIER_PIN);
    expect(JSON.stringify(stored)).not.toContain(NUMBER_PIN);

    // A webhook-announced change: the latency reported fits between the webhook's sending and our seeing the change.
    const latenciesBefore = capture.values('WebhookToTransitionLatency', from).length;
    const sentAt = Date.now();
    await account.setTwilioStatus(sid, { status: 'Waiting for Signature' });
    await account.waitFor(portRequestId, (pr) => pr.status === 'WAITING_FOR_SIGNATURE', 'WAITING_FOR_SIGNATURE');
    const seenWithin = Date.now() - sentAt;
    const latencies = await eventually(async () => {
      const values = capture.values('WebhookToTransitionLatency', from).slice(latenciesBefore);
      return values.length > 0 ? values : undefined;
    });
    expect(latencies).toHaveLength(1);
    expect(latencies[0]).toBeGreaterThanOrEqual(0);
    expect(latencies[0]).toBeLessThanOrEqual(seenWithin);

    await account.setTwilioStatus(sid, {
      status: 'In Progress',
      phoneNumbers: {
        '+14155550140': { status: 'port_pending', focDate: '2026-12-10' },
        '+14155550141': { status: 'port_pending', focDate: '2026-12-10' },
      },
    });
    await account.waitFor(portRequestId, (pr) => pr.status === 'FOC_RECEIVED', 'FOC_RECEIVED');
    await account.setTwilioStatus(sid, { status: 'Completed' });
    await account.waitFor(portRequestId, (pr) => pr.safeToCancelOldService, 'safeToCancelOldService', 30000);
    await eventually(async () => (capture.sum('PortsCompleted', from) > 0 ? true : undefined));

    expect(capture.sum('PortsSubmitted', from)).toBe(1);
    expect(capture.sum('PortsCompleted', from)).toBe(1);
    expect(capture.sum('PortsFailed', from)).toBe(0);
    expect(capture.sum('DeadLetters', from)).toBe(0);
    // Three changes, each announced by its webhook. A change that a sync already running picks up from Twilio
    // before the webhook is recorded is not the webhook's doing, and is not timed: at most three latencies.
    const all = capture.values('WebhookToTransitionLatency', from);
    expect(all.length).toBeGreaterThanOrEqual(1);
    expect(all.length).toBeLessThanOrEqual(3);
    for (const value of all) expect(value).toBeLessThan(30000);
    // Every metric line is RingTonic/PortIn EMF with the service dimension.
    for (const line of capture.metrics(from)) {
      expect(line).toMatchObject({
        service: 'port-in',
        _aws: { CloudWatchMetrics: [{ Namespace: 'RingTonic/PortIn', Dimensions: [['service']] }] },
      });
    }
  }, 60000);

  it('counts a port Twilio refuses as failed, and not as submitted', async () => {
    const from = capture.mark;
    const account = new TestAccount(stack);
    secrets.add(account.authToken);
    const bill = await account.connect();
    await armFault(stack, { operation: 'createPortIn', status: 400, code: 22137, times: 1 });
    const [portRequestId] = (await account.order(bill, ['(415) 555-0150'], 'CallRail', { pin: CARRIER_PIN })) as [
      string,
    ];
    await account.waitFor(portRequestId, (pr) => pr.status === 'FAILED', 'FAILED');
    await eventually(async () => (capture.sum('PortsFailed', from) > 0 ? true : undefined));
    expect(capture.sum('PortsFailed', from)).toBe(1);
    expect(capture.sum('PortsSubmitted', from)).toBe(0);
    expect(capture.sum('PortsCompleted', from)).toBe(0);
  }, 30000);

  it('dead-letters an email SES refuses for good, and the port and its other emails go on', async () => {
    const from = capture.mark;
    const account = new TestAccount(stack);
    secrets.add(account.authToken);
    refusedOwners.add(account.owner);
    const bill = await account.connect();
    const [portRequestId] = (await account.order(bill, ['(415) 555-0160'], 'CallRail', { pin: CARRIER_PIN })) as [
      string,
    ];
    const sid = await account.submitted(portRequestId);
    await eventually(
      async () =>
        (await account.events(portRequestId)).some((e) => e.type === 'EMAIL_DEAD_LETTERED') ? true : undefined,
      { what: 'EMAIL_DEAD_LETTERED' },
    );
    await account.setTwilioStatus(sid, { status: 'Waiting for Signature' });
    await account.waitFor(portRequestId, (pr) => pr.status === 'WAITING_FOR_SIGNATURE', 'WAITING_FOR_SIGNATURE');
    const events = await eventually(async () => {
      const all = await account.events(portRequestId);
      return all.some((e) => e.type === 'EMAIL_SENT' && e.detail === 'LOA_SIGNATURE_NEEDED') ? all : undefined;
    });
    const emailEvents = events.filter((e) => e.type.startsWith('EMAIL_')).map((e) => `${e.type}:${e.detail}`);
    expect(emailEvents).toEqual([
      'EMAIL_DEAD_LETTERED:PORT_SUBMITTED: MessageRejected',
      'EMAIL_SENT:LOA_SIGNATURE_NEEDED',
    ]);
    expect(ses.refused.filter((body) => templateOf(body) === 'PORT_SUBMITTED')).toHaveLength(1);
    const received = (await account.emails()).map((e) => e.subject);
    expect(received).toHaveLength(1);
    expect(received[0]?.toLowerCase()).toContain('sign');
    expect(capture.sum('DeadLetters', from)).toBe(1);
    const stored = await rawPortRequest(account, portRequestId);
    expect(stored?.outbox).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          template: 'PORT_SUBMITTED',
          deadLetteredAt: expect.any(String),
          deadLetterReason: 'MessageRejected',
        }),
      ]),
    );
  }, 30000);

  it('keeps a signed webhook about a port-in it does not know as a dead letter, and still answers 200', async () => {
    const from = capture.mark;
    const account = new TestAccount(stack);
    secrets.add(account.authToken);
    await account.connect();
    const unknownSid = `KW${'0badc0de'.repeat(4)}`;
    const raw = JSON.stringify({ event_type: 'PortInCompleted', port_in_request_sid: unknownSid, status: 'Completed' });
    const url = `${stack.urls.api}/v1/webhooks/twilio/${account.accountId}/port-in?bodySHA256=${createHash('sha256').update(raw).digest('hex')}`;
    const answer = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-twilio-signature': getExpectedTwilioSignature(account.authToken, url, {}),
      },
      body: raw,
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ received: true });

    const items = await dynamo.send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: `ACCOUNT#${account.accountId}` }, ':prefix': { S: 'DEAD_LETTER#' } },
      }),
    );
    const letters = (items.Items ?? []).map((item) => unmarshall(item));
    expect(letters).toEqual([
      expect.objectContaining({
        entity: 'DeadLetter',
        kind: 'UNKNOWN_PORT_IN_REQUEST',
        payload: { portInRequestSid: unknownSid, contentType: 'application/json', body: raw, truncated: false },
      }),
    ]);
    // Expires (DynamoDB TTL) two weeks after it arrived.
    const expiresIn = (letters[0]?.expiresAt as number) - Date.now() / 1000;
    expect(expiresIn).toBeGreaterThan(14 * 24 * 3600 - 120);
    expect(expiresIn).toBeLessThanOrEqual(14 * 24 * 3600);
    expect(capture.sum('DeadLetters', from)).toBe(1);
    const webhookLine = capture.logs(from).find((l) => l.message === 'twilio webhook');
    expect(webhookLine).toMatchObject({ accepted: false, deadLetterId: letters[0]?.deadLetterId });
    expect(webhookLine).not.toHaveProperty('portRequestId');
  }, 30000);

  it('never logs a PIN, an account number or an auth token; every line of a port request names it', async () => {
    // One more call, about no port request, after all the others: no port request id may leak onto its lines.
    const account = new TestAccount(stack);
    const lastFrom = capture.mark;
    await account.connect();
    secrets.add(account.authToken);

    const all = capture.text.join('');
    for (const secret of secrets) expect(all).not.toContain(secret);
    const logs = capture.logs();

    // Secret keys, wherever they are, are redacted (and there were some to redact: the events are logged).
    let redacted = 0;
    for (const line of logs) {
      for (const [key, value] of entries(line)) {
        if (!isSecretKey(key) || value === null) continue;
        expect({ key, value }).toEqual({ key, value: REDACTED });
        redacted += 1;
      }
    }
    expect(redacted).toBeGreaterThan(0);
    const events = logs.filter((l) => typeof l.event === 'object' && l.event !== null);
    const eventOf = (l: Line) => l.event as LoggedEvent;
    const order = events.find((l) => eventOf(l).resource === '/v1/accounts/{accountId}/port-orders');
    expect(eventOf(order as Line).body).toMatchObject({
      losingCarriers: [
        {
          pin: REDACTED,
          accountNumber: REDACTED,
          phoneNumbers: ['(415) 555-0140', { phoneNumber: '415.555.0141', pin: REDACTED }],
        },
      ],
    });
    const connection = events.find((l) => eventOf(l).resource === '/v1/accounts/{accountId}/twilio-connection');
    expect(eventOf(connection as Line).body).toMatchObject({ authToken: REDACTED });
    expect(eventOf(connection as Line).headers).toMatchObject({ authorization: REDACTED });
    const webhook = events.find((l) => eventOf(l).resource?.startsWith('/v1/webhooks/twilio'));
    const webhookHeaders = Object.entries(eventOf(webhook as Line).headers ?? {});
    expect(webhookHeaders.filter(([name]) => name.toLowerCase() === 'x-twilio-signature')).toEqual([
      [expect.any(String), REDACTED],
    ]);
    const wait = events.find((l) => eventOf(l).input?.token !== undefined);
    expect(eventOf(wait as Line).input).toMatchObject({ token: REDACTED, portRequestId: expect.any(String) });

    // The port request id on every line of a workflow step, a port-request route, and a webhook that found its port.
    // Each invocation's own event line is what ties a line to its invocation.
    const stepLines = logs.filter((l) => STEP_FUNCTION.test(String(l.function_name)) && l.message !== 'twilio webhook');
    expect(stepLines.length).toBeGreaterThan(10);
    for (const line of stepLines) expect(line).toHaveProperty('portRequestId', expect.stringMatching(/^pr_/));
    for (const line of events) {
      const event = eventOf(line);
      const named = event.input?.portRequestId ?? event.pathParameters?.portRequestId;
      if (named) expect(line.portRequestId).toBe(named);
    }
    const routeLines = events.filter((l) => eventOf(l).pathParameters?.portRequestId === completedPortRequestId);
    expect(routeLines.length).toBeGreaterThan(0);
    const acceptedWebhooks = logs.filter((l) => l.message === 'twilio webhook' && l.accepted === true);
    expect(acceptedWebhooks.length).toBeGreaterThanOrEqual(3);
    for (const line of acceptedWebhooks) expect(line).toHaveProperty('portRequestId', expect.stringMatching(/^pr_/));
    // Keys are reset between invocations: the last calls name no port request, and their lines show none.
    const last = capture.logs(lastFrom).filter((l) => eventOf(l)?.resource?.startsWith('/v1/accounts/'));
    expect(last.length).toBe(2);
    for (const line of last) expect(line).not.toHaveProperty('portRequestId');

    // The tracer is off without Lambda's X-Ray environment and says nothing; Powertools' "no metrics" notice is
    // dropped. Nothing is logged at ERROR but MarkFailed's own line for the refused port.
    expect(all).not.toMatch(/x-?ray|segment|No application metrics/i);
    expect(logs.filter((l) => l.level === 'ERROR').map((l) => l.message)).toEqual(['port-in submission failed']);
  }, 30000);
});
