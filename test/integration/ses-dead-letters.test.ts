import { SESv2Client } from '@aws-sdk/client-sesv2';
import { isPermanentRefusal, SesMailer } from '../../lambdas/adapters/ses/ses-mailer';
import type { PortRequest } from '../../lambdas/domain/port-request';
import { EmailDeliveryFailedError, EmailRejectedError } from '../../lambdas/shared/errors';
import type { PortInRepository } from '../../lambdas/use-cases/ports';
import { deliverEmails } from '../../lambdas/use-cases/workflow/deliver-emails';
import { recordingMetrics } from '../support/recording-metrics';
import { type SesRefusal, startRefusingSes, templateOf } from '../support/refusing-ses';

/**
 * The local SES stand-in refuses nothing, so SES's refusals come from a small endpoint that answers as SES v2
 * does; the SDK client, its error parsing and the mailer's classification are the real ones.
 */

const REFUSALS: Record<string, SesRefusal> = {
  rejected: { status: 400, type: 'MessageRejected', message: 'Email address is not verified.' },
  badAddress: { status: 400, type: 'BadRequestException', message: 'Invalid address' },
  throttled: { status: 429, type: 'TooManyRequestsException', message: 'Maximum sending rate exceeded.' },
  quota: { status: 400, type: 'LimitExceededException', message: 'Daily message quota exceeded.' },
  suspended: { status: 400, type: 'AccountSuspendedException', message: 'Account suspended.' },
  internal: { status: 500, type: 'InternalFailure', message: 'Internal failure' },
};

let ses: Awaited<ReturnType<typeof startRefusingSes>>;
let refuseTemplate: Record<string, SesRefusal> = {};
/** The first recipient of every SendEmail the endpoint got. */
const requestedTo: string[] = [];
let mailer: SesMailer;

beforeAll(async () => {
  ses = await startRefusingSes(undefined, (body) => {
    const to = ((body.Destination as { ToAddresses?: string[] }).ToAddresses ?? [])[0] ?? '';
    requestedTo.push(to);
    const kind = to.split('@')[0] as string;
    return REFUSALS[kind] ?? refuseTemplate[templateOf(body) ?? ''];
  });
  const client = new SESv2Client({
    endpoint: ses.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  mailer = new SesMailer('ports@ringtonic.example', undefined, client);
});

afterAll(async () => {
  await ses?.close();
});

const email = (to: string) => ({ to: [to], subject: 'Subject', html: '<p>hi</p>', text: 'hi' });

describe('SesMailer: which SES errors refuse an email for good', () => {
  it.each([['rejected'], ['badAddress']])('%s: EmailRejectedError (dead letter, not retried)', async (kind) => {
    const error = await mailer.send(email(`${kind}@acme.example`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmailRejectedError);
    expect((error as Error).cause).toMatchObject({ name: REFUSALS[kind]?.type, $fault: 'client' });
    expect(isPermanentRefusal((error as Error).cause)).toBe(true);
  });

  it.each([['throttled'], ['quota'], ['suspended'], ['internal']])(
    '%s: EmailDeliveryFailedError (the state machine retries; an account fault stops the line)',
    async (kind) => {
      const error = await mailer.send(email(`${kind}@acme.example`)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmailDeliveryFailedError);
      expect((error as Error).cause).toMatchObject({ name: REFUSALS[kind]?.type });
      expect(isPermanentRefusal((error as Error).cause)).toBe(false);
    },
  );

  it('a connection refused is retried too', async () => {
    const offline = new SesMailer(
      'ports@ringtonic.example',
      undefined,
      new SESv2Client({
        endpoint: 'http://127.0.0.1:1',
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
        maxAttempts: 1,
      }),
    );
    await expect(offline.send(email('owner@acme.example'))).rejects.toBeInstanceOf(EmailDeliveryFailedError);
  });

  it('answers the message id when SES takes the email', async () => {
    await expect(mailer.send(email('owner@acme.example'))).resolves.toEqual({
      messageId: expect.stringMatching(/^local-/),
    });
  });
});

/** A port request as DeliverEmails reads it, with three emails owed. */
function portRequestOwing(templates: PortRequest['outbox'][number]['template'][]): PortRequest {
  const at = '2026-11-20T10:00:00.000Z';
  return {
    accountId: 'acct-dl',
    portRequestId: 'pr_dead_letters',
    orderId: 'ord_dl',
    status: 'IN_REVIEW',
    route: 'API',
    losingCarrier: {
      name: 'CallRail',
      customerName: 'Acme Plumbing LLC',
      authorizedRepresentative: 'Jane Doe',
      authorizedRepresentativeEmail: 'jane@acme.example',
      address: { street: '1 Main St', city: 'San Francisco', state: 'CA', zip: '94105', country: 'US' },
    },
    phoneNumbers: [{ phoneNumber: '+14155550140', numberType: 'LOCAL', status: 'PENDING', imported: false }],
    notificationEmails: ['owner@acme.example'],
    twilioAccountSid: 'AC0123456789abcdef0123456789abcdef',
    events: [],
    outbox: templates.map((template, i) => ({ id: `${template}#${i + 1}`, template, createdAt: at })),
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
}

/** Just the two calls DeliverEmails makes, on one stored port request. */
function oneItemRepository(initial: PortRequest) {
  let stored = initial;
  const repository = {
    getPortRequest: async () => stored,
    updatePortRequest: async (_a: string, _p: string, change: (current: PortRequest) => PortRequest | undefined) => {
      const next = change(stored);
      if (next) stored = { ...next, version: stored.version + 1 };
      return stored;
    },
  } as unknown as PortInRepository;
  return { repository, current: () => stored };
}

describe('DeliverEmails: an email SES refuses for good is dead-lettered, the rest still go out', () => {
  const clock = { now: () => new Date('2026-11-20T10:05:00.000Z') };

  afterEach(() => {
    refuseTemplate = {};
  });

  it('marks the refused email, adds its timeline event, counts a dead letter, and sends the others', async () => {
    refuseTemplate = { FOC_DATE_SET: REFUSALS.rejected as SesRefusal };
    const store = oneItemRepository(portRequestOwing(['PORT_SUBMITTED', 'FOC_DATE_SET', 'DO_NOT_CANCEL_REMINDER']));
    const { metrics, counts } = recordingMetrics();
    const before = ses.refused.length;

    await expect(
      deliverEmails(store.current(), { repository: store.repository, mailer, clock, metrics }),
    ).resolves.toEqual({ sent: 2, deadLettered: 1 });
    const pr = store.current();
    expect(pr.outbox).toEqual([
      expect.objectContaining({ template: 'PORT_SUBMITTED', sentAt: expect.any(String) }),
      {
        id: 'FOC_DATE_SET#2',
        template: 'FOC_DATE_SET',
        createdAt: '2026-11-20T10:00:00.000Z',
        deadLetteredAt: '2026-11-20T10:05:00.000Z',
        deadLetterReason: 'MessageRejected',
      },
      expect.objectContaining({ template: 'DO_NOT_CANCEL_REMINDER', sentAt: expect.any(String) }),
    ]);
    expect(pr.events.map((e) => `${e.type}:${e.detail}`)).toEqual([
      'EMAIL_SENT:PORT_SUBMITTED',
      'EMAIL_DEAD_LETTERED:FOC_DATE_SET: MessageRejected',
      'EMAIL_SENT:DO_NOT_CANCEL_REMINDER',
    ]);
    expect(counts).toEqual({ DeadLetters: 1 });
    expect(ses.refused.length - before).toBe(1);

    // Delivered again (a later cycle): the dead letter is not tried again, nor counted again.
    await expect(deliverEmails(pr, { repository: store.repository, mailer, clock, metrics })).resolves.toEqual({
      sent: 0,
      deadLettered: 0,
    });
    expect(ses.refused.length - before).toBe(1);
    expect(counts).toEqual({ DeadLetters: 1 });
  });

  it('leaves a throttled email in the outbox, unclaimed, and fails the step, for the state machine to retry', async () => {
    refuseTemplate = { FOC_DATE_SET: REFUSALS.throttled as SesRefusal };
    const store = oneItemRepository(portRequestOwing(['PORT_SUBMITTED', 'FOC_DATE_SET']));
    const { metrics, counts } = recordingMetrics();
    await expect(
      deliverEmails(store.current(), { repository: store.repository, mailer, clock, metrics }),
    ).rejects.toBeInstanceOf(EmailDeliveryFailedError);
    const refusedEntry = store.current().outbox[1];
    expect(refusedEntry?.sentAt).toBeUndefined();
    expect(refusedEntry?.deadLetteredAt).toBeUndefined();
    // SES answered no, so it did not take the email: the claim is released and the retry sends at once.
    expect(refusedEntry?.sendingSince).toBeUndefined();
    expect(counts).toEqual({});
  });
});

describe('DeliverEmails: an email whose sender died mid-send is settled, never sent twice', () => {
  const claimedAt = '2026-11-20T10:04:00.000Z';
  const inDoubt = (): PortRequest => {
    const pr = portRequestOwing(['PORT_SUBMITTED']);
    return { ...pr, outbox: pr.outbox.map((e) => ({ ...e, sendingSince: claimedAt })) };
  };
  /** SendEmail calls to this recipient (none is refused here: SES took each). */
  const sentTo = (to: string) => requestedTo.filter((t) => t === to).length;

  it('within the window: waits, sends nothing, and fails the step with EmailSendUnconfirmedError', async () => {
    const store = oneItemRepository({ ...inDoubt(), notificationEmails: ['in-doubt@acme.example'] });
    const { metrics, counts } = recordingMetrics();
    let now = Date.parse('2026-11-20T10:05:00.000Z');
    const clock = { now: () => new Date(now) };
    const sleep = async (ms: number) => {
      now += ms;
    };
    const confirmation = { windowSeconds: 600, waitMs: 5000, pollMs: 250 };
    const error = await deliverEmails(store.current(), {
      repository: store.repository,
      mailer,
      clock,
      metrics,
      confirmation,
      sleep,
    }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('EmailSendUnconfirmedError');
    expect(now - Date.parse('2026-11-20T10:05:00.000Z')).toBe(5000);
    expect(sentTo('in-doubt@acme.example')).toBe(0);
    expect(store.current().outbox[0]?.sendingSince).toBe(claimedAt);
    expect(counts).toEqual({});
  });

  it('past the window with no Send event: SES never took it, so it is sent, once, and counted', async () => {
    const store = oneItemRepository({ ...inDoubt(), notificationEmails: ['resent@acme.example'] });
    const { metrics, counts } = recordingMetrics();
    const clock = { now: () => new Date('2026-11-20T10:14:01.000Z') };
    await expect(
      deliverEmails(store.current(), { repository: store.repository, mailer, clock, metrics }),
    ).resolves.toEqual({ sent: 1, deadLettered: 0 });
    expect(sentTo('resent@acme.example')).toBe(1);
    expect(store.current().outbox[0]).toEqual(
      expect.objectContaining({ sentAt: '2026-11-20T10:14:01.000Z', messageId: expect.stringMatching(/^local-/) }),
    );
    expect(store.current().outbox[0]?.sendingSince).toBeUndefined();
    expect(counts).toEqual({ EmailsUnconfirmed: 1 });
  });
});
