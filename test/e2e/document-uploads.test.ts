import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { documentUploadObjectKey } from '../../lambdas/shared/table-layout';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack } from '../../local/stack';
import { curlPut, rawPut, type UploadTicket } from '../support/document-uploads';
import { pdfOfSize, pngOfSize } from '../support/fixtures';
import { type Problem, startTestStack, TestAccount } from '../support/harness';

// Issue 13: utility bills of up to 5 MB through presigned S3 uploads, over signed HTTP on the local stack, with
// the bytes sent to the S3 stand-in as the README tells a caller to (curl).

const FIVE_MB = 5 * 1024 * 1024;
const UPLOAD_ROUTES = /document-uploads.*PUT.*uploadUrl.*document-uploads\/\{uploadId\}\/complete/;

type SimDocument = { sid: string; fileName: string; mimeType: string; size: number };

/** The utility bills the account's Twilio account received. */
const twilioDocuments = (account: TestAccount) =>
  account.sim<SimDocument[]>(`/_sim/accounts/${account.accountSid}/documents`);

/** A client of the S3 stand-in with the local credentials: the bucket as the functions see it. */
function s3Of(stack: LocalStack): S3Client {
  return new S3Client({
    endpoint: stack.urls.s3,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

async function connected(stack: LocalStack): Promise<TestAccount> {
  const account = new TestAccount(stack);
  await account.connect();
  return account;
}

async function ticketFor(account: TestAccount, body: { fileName: string; contentType: string; sizeBytes: number }) {
  const answer = await account.createUpload(body);
  expect(answer.status).toBe(201);
  return answer.body as UploadTicket;
}

describe('presigned document uploads', () => {
  let stack: LocalStack;
  let s3: S3Client;

  beforeAll(async () => {
    stack = await startTestStack();
    s3 = s3Of(stack);
  }, 60000);

  afterAll(async () => {
    s3?.destroy();
    await stack?.stop();
  });

  const objectOf = async (account: TestAccount, uploadId: string) =>
    s3
      .send(
        new GetObjectCommand({
          Bucket: stack.uploadsBucketName,
          Key: documentUploadObjectKey(account.accountId, uploadId),
        }),
      )
      .then(
        () => 'present',
        (error: Error) => error.name,
      );

  it('takes a 5 MB PDF by curl to the presigned URL, completes it into a documentSid that an order ports with', async () => {
    const account = await connected(stack);
    const before = await twilioDocuments(account);
    const bill = pdfOfSize(FIVE_MB);
    const created = await account.createUpload({
      fileName: 'scan.pdf',
      contentType: 'application/pdf',
      sizeBytes: FIVE_MB,
    });
    expect(created.status).toBe(201);
    const ticket = created.body;
    expect(ticket).toEqual({
      uploadId: expect.stringMatching(/^upl_/),
      uploadUrl: expect.stringContaining(`${stack.urls.s3}/${stack.uploadsBucketName}/document-uploads/`),
      method: 'PUT',
      headers: { 'content-type': 'application/pdf', 'content-length': String(FIVE_MB) },
      expiresAt: expect.any(String),
    });
    const lifetime = Date.parse(ticket.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(14 * 60 * 1000);
    expect(lifetime).toBeLessThanOrEqual(15 * 60 * 1000);

    expect(await curlPut(ticket, bill)).toMatchObject({ status: 200 });
    const completed = await account.completeUpload(ticket.uploadId);
    expect(completed.status).toBe(201);
    const { documentSid } = completed.body;
    expect(documentSid).toMatch(/^RD[0-9a-f]{32}$/);
    // In Twilio, whole; out of S3.
    expect((await twilioDocuments(account)).slice(before.length)).toEqual([
      { sid: documentSid, fileName: 'scan.pdf', mimeType: 'application/pdf', size: FIVE_MB },
    ]);
    expect(await objectOf(account, ticket.uploadId)).toBe('NoSuchKey');

    const [portRequestId] = (await account.order(documentSid, ['(415) 555-0130'])) as [string];
    const sid = await account.submitted(portRequestId);
    const submitted = await account.sim<{ createBody: { documents: string[] } }>(`/_sim/port-ins/${sid}`);
    expect(submitted.createBody.documents).toEqual([documentSid]);
    await account.setTwilioStatus(sid, { status: 'Completed' });
    const done = await account.waitFor(portRequestId, (pr) => pr.safeToCancelOldService, 'safe to cancel', 60000);
    expect(done.status).toBe('COMPLETED');
  }, 120000);

  it('answers a second completion with the same documentSid and uploads nothing to Twilio again', async () => {
    const account = await connected(stack);
    const bill = pdfOfSize(2048);
    const ticket = await ticketFor(account, { fileName: 'bill.pdf', contentType: 'application/pdf', sizeBytes: 2048 });
    expect((await curlPut(ticket, bill)).status).toBe(200);
    const first = await account.completeUpload(ticket.uploadId);
    const afterFirst = await twilioDocuments(account);
    const [second, third] = await Promise.all([
      account.completeUpload(ticket.uploadId),
      account.completeUpload(ticket.uploadId),
    ]);
    expect([first.status, second.status, third.status]).toEqual([201, 201, 201]);
    expect(second.body.documentSid).toBe(first.body.documentSid);
    expect(third.body.documentSid).toBe(first.body.documentSid);
    expect(await twilioDocuments(account)).toEqual(afterFirst);
  });

  it('answers a 4.5 MB bill sent as base64 with 413, naming the upload routes', async () => {
    const account = await connected(stack);
    const bill = pdfOfSize(4.5 * 1024 * 1024);
    const answer = await account.api.post<Problem>(`${account.base}/documents`, {
      fileName: 'scan.pdf',
      contentType: 'application/pdf',
      contentBase64: bill.toString('base64'),
    });
    expect(answer.status).toBe(413);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.body.detail).toMatch(UPLOAD_ROUTES);
    expect(answer.body.errors).toEqual([
      { path: 'contentBase64', message: expect.stringContaining('document-uploads') },
    ]);
  });

  it('refuses a declared size above 5 MB, a type Twilio does not take and unknown fields, naming each', async () => {
    const account = await connected(stack);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ fileName: 'a.pdf', contentType: 'application/pdf', sizeBytes: FIVE_MB + 1 }, 'sizeBytes'],
      [{ fileName: 'a.pdf', contentType: 'application/pdf', sizeBytes: 0 }, 'sizeBytes'],
      [{ fileName: 'a.pdf', contentType: 'application/pdf', sizeBytes: 10.5 }, 'sizeBytes'],
      [{ fileName: 'a.gif', contentType: 'image/gif', sizeBytes: 100 }, 'contentType'],
      [{ fileName: ' ', contentType: 'application/pdf', sizeBytes: 100 }, 'fileName'],
      [{ fileName: 'a.pdf', contentType: 'application/pdf', sizeBytes: 100, extra: 1 }, '(body)'],
    ];
    for (const [body, field] of cases) {
      const answer = await account.createUpload(body);
      expect({ body, status: answer.status, paths: answer.body.errors?.map((e) => e.path) }).toEqual({
        body,
        status: 400,
        paths: [field],
      });
    }
  });

  it('refuses at S3 a PUT of another size than declared; an object of another size is refused at completion', async () => {
    const account = await connected(stack);
    const ticket = await ticketFor(account, { fileName: 'bill.pdf', contentType: 'application/pdf', sizeBytes: 4096 });
    // The length is signed: S3 takes exactly the bytes declared.
    const shorter = await curlPut(ticket, pdfOfSize(4000));
    expect(shorter).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    const nothing = await account.completeUpload(ticket.uploadId);
    expect(nothing.status).toBe(409);
    // A writer that ignores the URL (here: straight to the bucket with the service's own credentials) is caught by
    // the completion's own check.
    await s3.send(
      new PutObjectCommand({
        Bucket: stack.uploadsBucketName,
        Key: documentUploadObjectKey(account.accountId, ticket.uploadId),
        Body: pdfOfSize(4000),
        ContentType: 'application/pdf',
      }),
    );
    const before = await twilioDocuments(account);
    const wrongSize = await account.completeUpload(ticket.uploadId);
    expect(wrongSize.status).toBe(400);
    expect(wrongSize.body.errors).toEqual([
      { path: 'sizeBytes', message: 'declared 4096 bytes, but 4000 were uploaded' },
    ]);
    expect(await twilioDocuments(account)).toEqual(before);
    // The right file, PUT again to the same URL, completes.
    expect((await curlPut(ticket, pdfOfSize(4096))).status).toBe(200);
    expect((await account.completeUpload(ticket.uploadId)).status).toBe(201);
  });

  it('refuses a PUT of another content type than declared at S3, and a PNG declared as a PDF at completion', async () => {
    const account = await connected(stack);
    const png = pngOfSize(3000);
    const ticket = await ticketFor(account, { fileName: 'bill.pdf', contentType: 'application/pdf', sizeBytes: 3000 });
    const relabelled = await curlPut(ticket, png, { ...ticket.headers, 'content-type': 'image/png' });
    expect(relabelled).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect((await curlPut(ticket, png)).status).toBe(200);
    const before = await twilioDocuments(account);
    const answer = await account.completeUpload(ticket.uploadId);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      { path: 'contentType', message: 'the uploaded file does not start like a application/pdf file' },
    ]);
    expect(await twilioDocuments(account)).toEqual(before);
  });

  it('answers 409 to a completion before anything is uploaded, and completes once the file is there', async () => {
    const account = await connected(stack);
    const ticket = await ticketFor(account, { fileName: 'bill.pdf', contentType: 'application/pdf', sizeBytes: 1500 });
    const early = await account.completeUpload(ticket.uploadId);
    expect(early.status).toBe(409);
    expect(early.body.detail).toMatch(/Nothing has been uploaded yet/);
    expect(early.body.errors).toEqual([{ path: 'uploadId', message: 'nothing uploaded yet' }]);
    expect((await curlPut(ticket, pdfOfSize(1500))).status).toBe(200);
    const completed = await account.completeUpload(ticket.uploadId);
    expect(completed.status).toBe(201);
  });

  it("answers 404 for another account's upload (and an unknown one), leaving it to its owner", async () => {
    const owner = await connected(stack);
    const other = await connected(stack);
    const ticket = await ticketFor(owner, { fileName: 'bill.pdf', contentType: 'application/pdf', sizeBytes: 1200 });
    expect((await curlPut(ticket, pdfOfSize(1200))).status).toBe(200);
    const stranger = await other.completeUpload(ticket.uploadId);
    expect(stranger.status).toBe(404);
    expect(JSON.stringify(stranger.body)).not.toContain(owner.accountId);
    expect((await other.completeUpload('upl_unknown')).status).toBe(404);
    expect((await other.completeUpload('x'.repeat(100))).status).toBe(400);
    expect(await twilioDocuments(other)).toEqual([expect.objectContaining({ fileName: 'bill.pdf' })]);
    expect((await owner.completeUpload(ticket.uploadId)).status).toBe(201);
  });

  it('answers 409 without a Twilio connection, before anything is uploaded', async () => {
    const account = new TestAccount(stack);
    const answer = await account.createUpload({ fileName: 'bill.pdf', contentType: 'application/pdf', sizeBytes: 10 });
    expect(answer.status).toBe(409);
  });

  it('keeps the bucket to signed requests: an unsigned PUT or GET is refused', async () => {
    const account = await connected(stack);
    const ticket = await ticketFor(account, { fileName: 'bill.pdf', contentType: 'application/pdf', sizeBytes: 100 });
    const unsigned = ticket.uploadUrl.split('?')[0] as string;
    expect(await rawPut(unsigned, pdfOfSize(100), ticket.headers)).toMatchObject({ status: 403, code: 'AccessDenied' });
    const tampered = ticket.uploadUrl.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000');
    expect(await rawPut(tampered, pdfOfSize(100), ticket.headers)).toMatchObject({ status: 403 });
    expect((await fetch(unsigned)).status).toBe(403);
  });
});

describe('an upload URL past its lifetime', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    // Two seconds instead of fifteen minutes, the only difference from the deployed configuration.
    stack = await startTestStack({ lambdaEnvironment: { DOCUMENT_UPLOAD_URL_SECONDS: '2' } });
  }, 60000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('is refused by S3, and completing the upload answers 409 saying it expired', async () => {
    const account = await connected(stack);
    const ticket = await ticketFor(account, { fileName: 'bill.pdf', contentType: 'application/pdf', sizeBytes: 1000 });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(ticket.expiresAt) - Date.now()) + 1500));
    const late = await curlPut(ticket, pdfOfSize(1000));
    expect(late).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(late.body).toContain('Request has expired');
    const answer = await account.completeUpload(ticket.uploadId);
    expect(answer.status).toBe(409);
    expect(answer.body.detail).toMatch(/expired/);
    expect(answer.body.errors).toEqual([{ path: 'uploadId', message: 'its upload URL expired with nothing uploaded' }]);
  });
});
