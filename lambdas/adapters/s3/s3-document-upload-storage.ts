import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { awsClientConfig } from '../../shared/aws-clients';
import type { DocumentUploadStorage } from '../../use-cases/ports';
import { traced } from '../observability/tracer';

/** The headers a presigned PUT signs: S3 then refuses a body of another type or length than declared. */
const SIGNED_UPLOAD_HEADERS = ['content-type', 'content-length'] as const;

/**
 * The uploads bucket. Presigned URLs are signed with the function's own credentials, so they can do only what its
 * role may (PutObject under the uploads prefix). Locally the SDK finds the S3 stand-in through AWS_ENDPOINT_URL_S3
 * and, the endpoint being an IP address, addresses the bucket path-style by itself.
 */
export class S3DocumentUploadStorage implements DocumentUploadStorage {
  constructor(
    private readonly bucketName: string,
    private readonly client: S3Client = traced(
      new S3Client({
        ...awsClientConfig,
        // By default the SDK adds a CRC32 of the (empty) body to a presigned PutObject's query, which S3 then
        // holds the real upload to and refuses; the caller's bytes are checked by the signed length and on completion.
        requestChecksumCalculation: 'WHEN_REQUIRED',
      }),
    ),
  ) {}

  async presignPut(object: {
    key: string;
    contentType: string;
    sizeBytes: number;
    expiresInSeconds: number;
  }): Promise<{ url: string; headers: Record<string, string> }> {
    const url = await getSignedUrl(
      this.client,
      new PutObjectCommand({
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
    let answer: GetObjectCommandOutput;
    try {
      answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucketName, Key: key }));
    } catch (error) {
      // NoSuchKey needs s3:ListBucket on the prefix (granted); without it S3 would answer AccessDenied instead.
      if (error instanceof NoSuchKey) return undefined;
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
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucketName, Key: key }));
  }
}
