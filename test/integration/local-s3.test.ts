import { mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3DocumentUploadStorage } from '../../lambdas/adapters/s3/s3-document-upload-storage';
import { bucketsFromTemplate, type LocalS3, startS3 } from '../../local/s3';
import { curlPut, rawPut, type UploadTicket } from '../support/document-uploads';

// The S3 stand-in (local/s3) through the real AWS SDK, its presigner and curl: what it takes and what it refuses as
// S3 would. s3rver alone checks a presigned URL's expiry but no V4 signature; the stand-in checks both.

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'LOCALACCESSKEY', secretAccessKey: 'localsecretkey' };
const BUCKET = 'uploads';

let dataDir: string;
let s3: LocalS3;

const clientWith = (credentials = CREDENTIALS) =>
  new S3Client({ endpoint: s3.url, region: REGION, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'ringtonic-local-s3-'));
  s3 = await startS3({
    host: '127.0.0.1',
    port: 0,
    region: REGION,
    credentials: CREDENTIALS,
    buckets: [{ name: BUCKET, expirations: [{ prefix: 'document-uploads/', days: 1 }] }],
    dataDir,
  });
});

afterAll(async () => {
  await s3?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A ticket as the product API answers it, from the adapter the function uses. */
async function ticket(key: string, sizeBytes: number, expiresInSeconds = 900): Promise<UploadTicket> {
  const storage = new S3DocumentUploadStorage(BUCKET, clientWith());
  const { url, headers } = await storage.presignPut({
    key,
    contentType: 'application/pdf',
    sizeBytes,
    expiresInSeconds,
  });
  return { uploadId: key, uploadUrl: url, method: 'PUT', headers, expiresAt: '' };
}

it('serves the SDK signed with the local credentials: put, get, missing key', async () => {
  const client = clientWith();
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/b.txt', Body: 'hello', ContentType: 'text/plain' }));
  const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/b.txt' }));
  expect(await object.Body?.transformToString()).toBe('hello');
  await expect(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'missing' }))).rejects.toBeInstanceOf(NoSuchKey);
  client.destroy();
});

it('refuses the SDK signed with another secret or an unknown key', async () => {
  const wrongSecret = clientWith({ ...CREDENTIALS, secretAccessKey: 'not-the-secret' });
  await expect(wrongSecret.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/b.txt' }))).rejects.toMatchObject({
    name: 'SignatureDoesNotMatch',
    $metadata: { httpStatusCode: 403 },
  });
  const unknownKey = clientWith({ accessKeyId: 'SOMEONEELSE', secretAccessKey: 'x' });
  await expect(unknownKey.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/b.txt' }))).rejects.toMatchObject({
    name: 'InvalidAccessKeyId',
  });
  wrongSecret.destroy();
  unknownKey.destroy();
});

it('takes a presigned PUT from curl with exactly the signed headers, and the object is as sent', async () => {
  const put = await ticket('document-uploads/acme/upl_1', 1234);
  const bytes = Buffer.alloc(1234, 7);
  expect(await curlPut(put, bytes)).toMatchObject({ status: 200 });
  const storage = new S3DocumentUploadStorage(BUCKET, clientWith());
  expect(await storage.get('document-uploads/acme/upl_1', { maxBytes: 5000 })).toEqual({
    sizeBytes: 1234,
    content: bytes,
  });
  expect(await storage.get('document-uploads/acme/upl_1', { maxBytes: 1000 })).toEqual({ sizeBytes: 1234 });
  await storage.delete('document-uploads/acme/upl_1');
  expect(await storage.get('document-uploads/acme/upl_1', { maxBytes: 5000 })).toBeUndefined();
});

it('refuses a presigned PUT that is unsigned, tampered with, of another type or length, or for another key', async () => {
  const put = await ticket('document-uploads/acme/upl_2', 100);
  const bytes = Buffer.alloc(100, 1);
  const [base, query] = put.uploadUrl.split('?') as [string, string];
  const cases: Array<[string, Promise<{ status: number; code?: string }>]> = [
    ['unsigned', rawPut(base, bytes, put.headers)],
    ['tampered signature', rawPut(put.uploadUrl.replace(/X-Amz-Signature=./, 'X-Amz-Signature=0'), bytes, put.headers)],
    ['another key', rawPut(`${base.replace('upl_2', 'upl_3')}?${query}`, bytes, put.headers)],
    ['another type', curlPut(put, bytes, { ...put.headers, 'content-type': 'image/png' })],
    ['another length', curlPut(put, Buffer.alloc(99, 1))],
  ];
  const answers = await Promise.all(
    cases.map(async ([what, answer]) => [what, (await answer).status, (await answer).code]),
  );
  expect(answers).toEqual([
    ['unsigned', 403, 'AccessDenied'],
    ['tampered signature', 403, 'SignatureDoesNotMatch'],
    ['another key', 403, 'SignatureDoesNotMatch'],
    ['another type', 403, 'SignatureDoesNotMatch'],
    ['another length', 403, 'SignatureDoesNotMatch'],
  ]);
  const storage = new S3DocumentUploadStorage(BUCKET, clientWith());
  expect(await storage.get('document-uploads/acme/upl_2', { maxBytes: 5000 })).toBeUndefined();
  expect(await storage.get('document-uploads/acme/upl_3', { maxBytes: 5000 })).toBeUndefined();
});

it('refuses a presigned PUT past its X-Amz-Expires', async () => {
  const put = await ticket('document-uploads/acme/upl_4', 10, 1);
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const late = await curlPut(put, Buffer.alloc(10));
  expect(late).toMatchObject({ status: 403, code: 'AccessDenied' });
  expect(late.body).toContain('Request has expired');
});

it('deletes objects past their lifecycle expiration, and only those, keeping them on disk otherwise', async () => {
  const client = clientWith();
  for (const key of ['document-uploads/old', 'document-uploads/new', 'elsewhere/old']) {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
  }
  // Two days old, as the filesystem store dates objects.
  const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
  const files = readdirSync(path.join(dataDir, 's3'), { recursive: true, encoding: 'utf8' });
  for (const file of files.filter((f) => f.endsWith('._S3rver_object') && f.includes('old'))) {
    utimesSync(path.join(dataDir, 's3', file), twoDaysAgo, twoDaysAgo);
  }
  expect(await s3.sweepExpired()).toBe(1);
  const present = async (key: string) =>
    client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })).then(
      () => true,
      () => false,
    );
  expect([
    await present('document-uploads/old'),
    await present('document-uploads/new'),
    await present('elsewhere/old'),
  ]).toEqual([false, true, true]);
  client.destroy();
});

it('reads the buckets and their expirations from the template', () => {
  const template = {
    Resources: {
      UploadsBucketAB12: {
        Type: 'AWS::S3::Bucket',
        Properties: { LifecycleConfiguration: { Rules: [{ Prefix: 'p/', ExpirationInDays: 1, Status: 'Enabled' }] } },
      },
      Table: { Type: 'AWS::DynamoDB::Table' },
    },
  };
  expect(bucketsFromTemplate(template as never, (id) => id.toLowerCase())).toEqual([
    { name: 'uploadsbucketab12', expirations: [{ prefix: 'p/', days: 1 }] },
  ]);
});
