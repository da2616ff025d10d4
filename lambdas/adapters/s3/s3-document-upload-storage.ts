import type { Readable } from 'node:stream';
import type { GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { awsClientConfig, awsClientOnFirstUse } from '../../shared/aws-clients';
import { lazy } from '../../shared/lazy';
import type { DocumentUploadStorage } from '../../use-cases/ports';
import { traced } from '../observability/tracer';

/** The headers a presigned PUT signs: S3 then refuses a body of another type or length than declared. */
const SIGNED_UPLOAD_HEADERS = ['content-type', 'content-length'] as const;

type S3Sdk = typeof import('@aws-sdk/client-s3');
type Presigner = typeof import('@aws-sdk/s3-request-presigner');

/**
 * The uploads bucket. Presigned URLs are signed with the function's own credentials, so they can do only what its
 * role may (PutObject under the uploads prefix). Locally the SDK finds the S3 stand-in through AWS_ENDPOINT_URL_S3
 * and, the endpoint being an IP address, addresses the bucket path-style by itself.
 *
 * The S3 client and the presigner are loaded on first use: they add about 80 ms to a cold start, which only the two
 * upload routes of ProductApiFunction need to pay.
 */
/** The S3 client module and the presigner, loaded together on first use. */
const s3Sdk = lazy(() => Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]));

export class S3DocumentUploadStorage implements DocumentUploadStorage {
  private readonly client: () => Promise<S3Client>;

  constructor(
    private readonly bucketName: string,
    /** @default - an S3 client with the service's settings, made on first use */
    clientOverride?: S3Client,
  ) {
    this.client = awsClientOnFirstUse(
      s3Sdk,
      ([s3]) =>
        traced(
          new s3.S3Client({
            ...awsClientConfig,
            // By default the SDK adds a CRC32 of the (empty) body to a presigned PutObject's query, which S3 then
            // holds the real upload to and refuses; the caller's bytes are checked by the signed length and on
            // completion.
            requestChecksumCalculation: 'WHEN_REQUIRED',
          }),
        ),
      clientOverride,
    );
  }

  private async load(): Promise<{ s3: S3Sdk; presigner: Presigner; client: S3Client }> {
    const [[s3, presigner], client] = await Promise.all([s3Sdk(), this.client()]);
    return { s3, presigner, client };
  }

  async presignPut(object: {
    key: string;
    contentType: string;
    sizeBytes: number;
    expiresInSeconds: number;
  }): Promise<{ url: string; headers: Record<string, string> }> {
    const { s3, presigner, client } = await this.load();
    const url = await presigner.getSignedUrl(
      client,
      new s3.PutObjectCommand({
        Bucket: this.bucketName,
        Key: object.key,
        ContentType: object.contentType,
        ContentLength: object.sizeBytes,
      }),
      { expiresIn: object.expiresInSeconds, signableHeaders: new Set(SIGNED_UPLOAD_HEADERS) },
    );
    return { url, headers: { 'content-type': object.contentType, 'content-length': String(object.sizeBytes) } };
  }

  async get(key: string, options: { maxBytes: number }): Promise<{ sizeBytes: number; content?: Buffer } | undefined> {
    const { s3, client } = await this.load();
    let answer: GetObjectCommandOutput;
    try {
      answer = await client.send(new s3.GetObjectCommand({ Bucket: this.bucketName, Key: key }));
    } catch (error) {
      // NoSuchKey needs s3:ListBucket on the bucket (granted); without it S3 would answer AccessDenied instead.
      if (error instanceof s3.NoSuchKey) return undefined;
      throw error;
    }
    const sizeBytes = answer.ContentLength ?? 0;
    if (sizeBytes > options.maxBytes) {
      // Too large to be a utility bill: the body is dropped unread.
      (answer.Body as Readable | undefined)?.destroy();
      return { sizeBytes };
    }
    const content = Buffer.from((await answer.Body?.transformToByteArray()) ?? new Uint8Array());
    return { sizeBytes: content.length, content };
  }

  async delete(key: string): Promise<void> {
    const { s3, client } = await this.load();
    await client.send(new s3.DeleteObjectCommand({ Bucket: this.bucketName, Key: key }));
  }
}
