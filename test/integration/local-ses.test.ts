import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SESv2Client, SendEmailCommand, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { hasOpenWork } from '../../local/resume';
import { type LocalSes, SES_THROTTLE_ROUTE, startSes } from '../../local/ses';

// The SES v2 stand-in: aws-ses-v2-local behind the faulting proxy (local/ses), through the real SES v2 client.

function clientFor(url: string, maxAttempts = 1): SESv2Client {
  return new SESv2Client({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'LOCALACCESSKEY', secretAccessKey: 'localsecretkey' },
    maxAttempts,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
  });
}

let sent = 0;
const send = (client: SESv2Client, to = `someone-${++sent}@acme.example`) =>
  client.send(
    new SendEmailCommand({
      FromEmailAddress: 'ports@ringtonic.example',
      Destination: { ToAddresses: [to] },
      Content: { Simple: { Subject: { Data: `Hello ${sent}` }, Body: { Text: { Data: 'Hi' } } } },
    }),
  );

type StoredEmail = { destination: { to: string[] }; subject: string };
const storedTo = async (ses: LocalSes, to: string): Promise<StoredEmail[]> => {
  const store = (await (await fetch(`${ses.url}/store`)).json()) as { emails: StoredEmail[] };
  return store.emails.filter((e) => e.destination.to.includes(to));
};

describe('local SES: throttling faults', () => {
  let ses: LocalSes;
  let client: SESv2Client;

  beforeAll(async () => {
    ses = await startSes({ host: '127.0.0.1', port: 0 });
    client = clientFor(ses.url);
  });

  afterAll(async () => {
    client?.destroy();
    await ses?.close();
  });

  it('forwards SendEmail to aws-ses-v2-local when no fault is armed', async () => {
    const answer = await send(client, 'plain@acme.example');
    expect(answer.MessageId).toEqual(expect.any(String));
    expect((await storedTo(ses, 'plain@acme.example')).map((e) => e.subject)).toHaveLength(1);
  });

  it("answers SES's throttling error, which the SDK reads as a TooManyRequestsException, and stores nothing", async () => {
    ses.throttleSendEmail(1);
    const before = ses.throttledCount;
    const failure = await send(client, 'throttled@acme.example').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TooManyRequestsException);
    expect(failure).toMatchObject({
      name: 'TooManyRequestsException',
      message: 'Maximum sending rate exceeded.',
      $metadata: { httpStatusCode: 429 },
    });
    expect(ses.throttledCount - before).toBe(1);
    expect(await storedTo(ses, 'throttled@acme.example')).toEqual([]);
    // Only the next N calls: this one goes through.
    await send(client, 'throttled@acme.example');
    expect(await storedTo(ses, 'throttled@acme.example')).toHaveLength(1);
  });

  it('is retried by the SDK as throttling: 2 throttled answers within 3 attempts still send once', async () => {
    const retrying = clientFor(ses.url, 3);
    ses.throttleSendEmail(2);
    const answer = await send(retrying, 'retried@acme.example');
    expect(answer.$metadata.attempts).toBe(3);
    expect(await storedTo(ses, 'retried@acme.example')).toHaveLength(1);
    retrying.destroy();
  });

  it('is armed over HTTP too, and refuses a bad count', async () => {
    const arm = (body: unknown) =>
      fetch(`${ses.url}${SES_THROTTLE_ROUTE}`, { method: 'POST', body: JSON.stringify(body) });
    expect((await arm({ times: -1 })).status).toBe(400);
    expect((await arm({ times: 'two' })).status).toBe(400);
    expect((await arm({ times: 1 })).status).toBe(201);
    await expect(send(client)).rejects.toBeInstanceOf(TooManyRequestsException);
    await expect(send(client)).resolves.toMatchObject({ MessageId: expect.any(String) });
  });
});

describe('local SES: the record of sent emails in a data dir', () => {
  it('keeps every sent email on disk and lists it again after a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'local-ses-'));
    try {
      const first = await startSes({ host: '127.0.0.1', port: 0, dataDir });
      const firstClient = clientFor(first.url);
      await send(firstClient, 'kept@acme.example');
      first.throttleSendEmail(1);
      await expect(send(firstClient, 'kept@acme.example')).rejects.toBeInstanceOf(TooManyRequestsException);
      firstClient.destroy();
      await first.close();
      const lines = readFileSync(path.join(dataDir, 'ses-emails.jsonl'), 'utf8').trim().split('\n');
      expect(lines.map((line) => (JSON.parse(line) as StoredEmail).destination.to)).toContainEqual([
        'kept@acme.example',
      ]);

      const second = await startSes({ host: '127.0.0.1', port: 0, dataDir });
      expect(await storedTo(second, 'kept@acme.example')).toHaveLength(1);
      await send(clientFor(second.url), 'kept@acme.example');
      expect(await storedTo(second, 'kept@acme.example')).toHaveLength(2);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('resume at start: which port requests still have work', () => {
  const email = (sentAt?: string) => ({
    id: 'e1',
    template: 'PORT_SUBMITTED' as const,
    createdAt: 'x',
    ...(sentAt ? { sentAt } : {}),
  });
  const number = (status: 'COMPLETED' | 'SUBMITTED', imported: boolean) => ({
    phoneNumber: '+14155550100',
    numberType: 'LOCAL' as const,
    status,
    imported,
  });

  it.each([
    {
      what: 'an open port',
      pr: { status: 'IN_REVIEW', outbox: [email('t')], phoneNumbers: [number('SUBMITTED', false)] },
      open: true,
    },
    { what: 'a MANUAL port', pr: { status: 'MANUAL', outbox: [], phoneNumbers: [] }, open: true },
    {
      what: 'done',
      pr: { status: 'COMPLETED', outbox: [email('t')], phoneNumbers: [number('COMPLETED', true)] },
      open: false,
    },
    {
      what: 'COMPLETED, not imported yet',
      pr: { status: 'COMPLETED', outbox: [email('t')], phoneNumbers: [number('COMPLETED', false)] },
      open: true,
    },
    {
      what: 'FAILED, its email unsent',
      pr: { status: 'FAILED', outbox: [email()], phoneNumbers: [number('SUBMITTED', false)] },
      open: true,
    },
    {
      what: 'CANCELED, told',
      pr: { status: 'CANCELED', outbox: [email('t')], phoneNumbers: [number('SUBMITTED', false)] },
      open: false,
    },
  ] as const)('$what: $open', ({ pr, open }) => {
    expect(hasOpenWork(pr as unknown as Parameters<typeof hasOpenWork>[0])).toBe(open);
  });
});

describe('local SES: configuration sets and their Send events, as the template configures them', () => {
  let ses: LocalSes;
  let client: SESv2Client;
  const published: unknown[] = [];

  beforeAll(async () => {
    ses = await startSes({
      host: '127.0.0.1',
      port: 0,
      eventPublishing: {
        configurationSets: new Map([
          ['port-emails', ['send']],
          ['quiet', []],
        ]),
        publish: (event) => published.push(event),
        region: 'us-east-1',
        accountId: '000000000000',
      },
    });
    client = clientFor(ses.url);
  });

  afterAll(async () => {
    client?.destroy();
    await ses?.close();
  });

  const sendThrough = (ConfigurationSetName: string | undefined, to: string) =>
    client.send(
      new SendEmailCommand({
        FromEmailAddress: 'ports@ringtonic.example',
        Destination: { ToAddresses: [to] },
        Content: { Simple: { Subject: { Data: 'Tagged' }, Body: { Text: { Data: 'Hi' } } } },
        ...(ConfigurationSetName ? { ConfigurationSetName } : {}),
        EmailTags: [{ Name: 'portRequestId', Value: 'pr_tagged' }],
      }),
    );

  it('publishes "Email Sent" with the email tags and SES\'s own, before the sender hears the message id', async () => {
    published.length = 0;
    const { MessageId } = await sendThrough('port-emails', 'tagged@acme.example');
    expect(published).toEqual([
      expect.objectContaining({
        source: 'aws.ses',
        'detail-type': 'Email Sent',
        detail: expect.objectContaining({
          eventType: 'Send',
          mail: expect.objectContaining({
            messageId: MessageId,
            destination: ['tagged@acme.example'],
            tags: expect.objectContaining({
              portRequestId: ['pr_tagged'],
              'ses:configuration-set': ['port-emails'],
              'ses:from-domain': ['ringtonic.example'],
            }),
          }),
        }),
      }),
    ]);
  });

  it('publishes nothing for a set without a Send destination, or for no set', async () => {
    published.length = 0;
    await sendThrough('quiet', 'quiet@acme.example');
    await sendThrough(undefined, 'noset@acme.example');
    expect(published).toEqual([]);
    expect(await storedTo(ses, 'quiet@acme.example')).toHaveLength(1);
  });

  it('refuses a configuration set the template lacks, as SES does (NotFoundException), and stores nothing', async () => {
    const error = await sendThrough('missing', 'missing@acme.example').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'NotFoundException', $metadata: { httpStatusCode: 404 } });
    expect(await storedTo(ses, 'missing@acme.example')).toEqual([]);
  });
});
