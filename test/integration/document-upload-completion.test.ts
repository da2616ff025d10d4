import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoPortInRepository } from '../../lambdas/adapters/dynamodb/port-in-repository';
import { completeDocumentUpload, createDocumentUpload } from '../../lambdas/use-cases/document-uploads';
import type { DocumentUploadStorage, TwilioGateway, TwilioTokenStore } from '../../lambdas/use-cases/ports';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/stack';
import { serviceTableInput, startDynalite } from '../support/dynalite';
import { pdfOfSize } from '../support/fixtures';

// The completion of a presigned upload with the real repository on dynalite (its conditional writes are what keep
// it to one Twilio upload), S3 and Twilio faked in memory so that each can fail on cue.

const TABLE = 'DocumentUploadCompletionTest';
const ACCOUNT = 'acct_uploads';

describe('completeDocumentUpload (dynalite, real repository)', () => {
  let dynalite: Awaited<ReturnType<typeof startDynalite>>;
  let client: DynamoDBClient;
  let repository: DynamoPortInRepository;
  let now: Date;
  const objects = new Map<string, Buffer>();
  const uploadedToTwilio: string[] = [];
  let twilioFailsNext = 0;
  let deleteFailsNext = 0;
  /** Holds each Twilio upload until released, to put two completions side by side. */
  let twilioGate: Promise<void> | undefined;

  const storage: DocumentUploadStorage = {
    presignPut: async ({ key }) => ({ url: `http://s3.test/${key}`, headers: {} }),
    get: async (key, { maxBytes }) => {
      const content = objects.get(key);
      if (!content) return undefined;
      return content.length > maxBytes ? { sizeBytes: content.length } : { sizeBytes: content.length, content };
    },
    delete: async (key) => {
      if (deleteFailsNext > 0) {
        deleteFailsNext -= 1;
        throw Object.assign(new Error('S3 is down'), { name: 'ServiceUnavailable' });
      }
      objects.delete(key);
    },
  };
  const twilio = {
    forAccount: () => ({
      uploadUtilityBill: async ({ fileName }: { fileName: string }) => {
        await twilioGate;
        if (twilioFailsNext > 0) {
          twilioFailsNext -= 1;
          throw Object.assign(new Error('Twilio is down'), { name: 'TwilioTransientError' });
        }
        const sid = `RD${String(uploadedToTwilio.length).padStart(32, '0')}`;
        uploadedToTwilio.push(`${sid} ${fileName}`);
        return sid;
      },
    }),
  } as unknown as TwilioGateway;
  const tokens = { getAuthToken: async () => 'token', putAuthToken: async () => undefined } as TwilioTokenStore;
  const deps = () => ({
    repository,
    storage,
    twilio,
    tokens,
    clock: { now: () => now },
    uploadUrlLifetimeSeconds: 900,
  });

  beforeAll(async () => {
    dynalite = await startDynalite();
    client = new DynamoDBClient({ endpoint: dynalite.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    await client.send(new CreateTableCommand(serviceTableInput(TABLE)));
    repository = new DynamoPortInRepository(TABLE, client);
    await repository.putConnection({
      accountId: ACCOUNT,
      accountSid: `AC${'0'.repeat(32)}`,
      webhookUrl: 'https://example.test/hook',
      connectedAt: '2026-12-01T00:00:00.000Z',
    });
  });

  afterAll(async () => {
    client?.destroy();
    await dynalite?.close();
  });

  beforeEach(() => {
    now = new Date('2026-12-08T10:00:00.000Z');
  });

  async function uploaded(sizeBytes = 1000) {
    const ticket = await createDocumentUpload(
      { accountId: ACCOUNT, fileName: `bill-${Math.random()}.pdf`, contentType: 'application/pdf', sizeBytes },
      deps(),
    );
    const upload = await repository.getDocumentUpload(ACCOUNT, ticket.uploadId);
    objects.set(upload?.objectKey as string, pdfOfSize(sizeBytes));
    return { ticket, objectKey: upload?.objectKey as string };
  }

  it('records the upload before answering its URL, with the expiry the URL has', async () => {
    const { ticket, objectKey } = await uploaded();
    expect(ticket.expiresAt).toBe('2026-12-08T10:15:00.000Z');
    expect(await repository.getDocumentUpload(ACCOUNT, ticket.uploadId)).toMatchObject({
      status: 'PENDING',
      objectKey: `document-uploads/${ACCOUNT}/${ticket.uploadId}`,
      urlExpiresAt: ticket.expiresAt,
    });
    expect(ticket.uploadUrl).toBe(`http://s3.test/${objectKey}`);
  });

  it('lets two completions at once upload once: the second answers 409 meanwhile, then the same sid', async () => {
    const { ticket, objectKey } = await uploaded();
    const before = uploadedToTwilio.length;
    let release: () => void = () => undefined;
    twilioGate = new Promise((resolve) => {
      release = resolve;
    });
    const first = completeDocumentUpload({ accountId: ACCOUNT, uploadId: ticket.uploadId }, deps());
    // The first holds the claim while Twilio takes its time.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(
      completeDocumentUpload({ accountId: ACCOUNT, uploadId: ticket.uploadId }, deps()),
    ).rejects.toMatchObject({ status: 409 });
    release();
    twilioGate = undefined;
    const { documentSid } = await first;
    expect(await completeDocumentUpload({ accountId: ACCOUNT, uploadId: ticket.uploadId }, deps())).toEqual({
      documentSid,
    });
    expect(uploadedToTwilio.length - before).toBe(1);
    expect(objects.has(objectKey)).toBe(false);
  });

  it('takes over a completion that died holding the claim, once it is a minute old', async () => {
    const { ticket } = await uploaded();
    // A completion that died after its claim: COMPLETING, never released.
    await repository.claimDocumentUploadCompletion(ACCOUNT, ticket.uploadId, {
      at: now.toISOString(),
      staleBefore: new Date(now.getTime() - 60_000).toISOString(),
    });
    await expect(
      completeDocumentUpload({ accountId: ACCOUNT, uploadId: ticket.uploadId }, deps()),
    ).rejects.toMatchObject({ status: 409 });
    now = new Date(now.getTime() + 61_000);
    const { documentSid } = await completeDocumentUpload({ accountId: ACCOUNT, uploadId: ticket.uploadId }, deps());
    expect(documentSid).toMatch(/^RD/);
    expect(await repository.getDocumentUpload(ACCOUNT, ticket.uploadId)).toMatchObject({
      status: 'COMPLETED',
      documentSid,
    });
  });

  it('puts the upload back when Twilio fails, so that the retry completes it', async () => {
    const { ticket } = await uploaded();
    twilioFailsNext = 1;
    await expect(
      completeDocumentUpload({ accountId: ACCOUNT, uploadId: ticket.uploadId }, deps()),
    ).rejects.toMatchObject({ name: 'TwilioTransientError' });
    const stored = await repository.getDocumentUpload(ACCOUNT, ticket.uploadId);
    expect(stored?.status).toBe('PENDING');
    expect(stored).not.toHaveProperty('completingSince');
    expect(
      (await completeDocumentUpload({ accountId: ACCOUNT, uploadId: ticket.uploadId }, deps())).documentSid,
    ).toMatch(/^RD/);
  });

  it('answers the documentSid even when S3 fails to delete the object (the lifecycle removes it)', async () => {
    const { ticket, objectKey } = await uploaded();
    deleteFailsNext = 1;
    const { documentSid } = await completeDocumentUpload({ accountId: ACCOUNT, uploadId: ticket.uploadId }, deps());
    expect(objects.has(objectKey)).toBe(true);
    // Completing again answers the same sid and deletes what the first left.
    expect(await completeDocumentUpload({ accountId: ACCOUNT, uploadId: ticket.uploadId }, deps())).toEqual({
      documentSid,
    });
    expect(objects.has(objectKey)).toBe(false);
  });

  it('refuses an object larger than 5 MB without reading it, naming sizeBytes', async () => {
    const { ticket, objectKey } = await uploaded(1000);
    objects.set(objectKey, pdfOfSize(5 * 1024 * 1024 + 1));
    await expect(
      completeDocumentUpload({ accountId: ACCOUNT, uploadId: ticket.uploadId }, deps()),
    ).rejects.toMatchObject({ status: 400, errors: [{ path: 'sizeBytes' }] });
    expect((await repository.getDocumentUpload(ACCOUNT, ticket.uploadId))?.status).toBe('PENDING');
  });

  it('answers 404 for an upload of another account', async () => {
    const { ticket } = await uploaded();
    await expect(
      completeDocumentUpload({ accountId: 'someone_else', uploadId: ticket.uploadId }, deps()),
    ).rejects.toMatchObject({ status: 404 });
  });
});
