import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type SigV4Failure, SigV4Verifier } from '../api-gateway/sigv4-verifier';
import type { CloudFormationTemplate } from '../cloudformation/synthesize';

/** A bucket of the template, with the lifecycle expirations the stand-in applies. */
export interface LocalBucket {
  readonly name: string;
  readonly expirations: ReadonlyArray<{ readonly prefix: string; readonly days: number }>;
}

/** Options of {@link startS3}. */
export interface LocalS3Options {
  readonly host: string;
  /** The port clients use (the verifying front's); 0 picks a free one. */
  readonly port: number;
  readonly region: string;
  /** The only credentials whose signatures are accepted. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly buckets: readonly LocalBucket[];
  /** Where the objects are kept (`<dataDir>/s3`); a temporary folder, removed at close, when absent. */
  readonly dataDir?: string;
  /**
   * How often objects past their bucket's lifecycle expiration are deleted (also once at start).
   * @default one hour
   */
  readonly lifecycleSweepMs?: number;
  readonly log?: (line: string) => void;
}

/** The S3 stand-in: s3rver's storage behind a front that checks SigV4 as S3 does. */
export interface LocalS3 {
  readonly url: string;
  /** Deletes the objects past their lifecycle expiration now; answers how many. */
  sweepExpired(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The template's S3 buckets, named by `nameOf` (the local resolver's name for a Ref), with the days after which
 * their lifecycle rules expire objects.
 */
export function bucketsFromTemplate(
  template: CloudFormationTemplate,
  nameOf: (logicalId: string) => string,
): LocalBucket[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::S3::Bucket')
    .map(([logicalId, resource]) => {
      const rules =
        (
          resource.Properties as
            | {
                LifecycleConfiguration?: {
                  Rules?: Array<{ Prefix?: string; ExpirationInDays?: number; Status?: string }>;
                };
              }
            | undefined
        )?.LifecycleConfiguration?.Rules ?? [];
      return {
        name: nameOf(logicalId),
        expirations: rules
          .filter((rule) => rule.Status !== 'Disabled' && typeof rule.ExpirationInDays === 'number')
          .map((rule) => ({ prefix: rule.Prefix ?? '', days: rule.ExpirationInDays as number })),
      };
    });
}

/** The name a bucket of the template gets locally: S3 bucket names are lower case. */
export function localBucketName(logicalId: string): string {
  return logicalId.toLowerCase();
}

/** s3rver's filesystem store, as far as the lifecycle sweep uses it. */
interface S3rverStore {
  listObjects(
    bucket: string,
    options: { prefix?: string },
  ): Promise<{ objects: Array<{ key: string; lastModifiedDate: Date }> }>;
  deleteObject(bucket: string, key: string): Promise<void>;
}

interface S3rverInstance {
  readonly store: S3rverStore;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

/** The query parameters of a presigned URL: checked here, so s3rver never sees them. */
const SIGNATURE_QUERY =
  /^x-amz-(algorithm|credential|date|expires|signedheaders|signature|security-token|content-sha256)$/i;

/** S3 answers up to 5 GB in one PUT; a utility bill is 5 MB: this is enough for anything the service sends. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Starts the S3 stand-in: s3rver (objects on disk under `<dataDir>/s3`, the AWS SDK's S3 protocol) behind a front that
 * refuses what S3 would: a request that is not signed with the local credentials (Authorization header or presigned
 * query, via the same SigV4 check as the local API Gateway, service `s3`), a presigned URL past its X-Amz-Expires,
 * and a PUT whose signed headers (Content-Type, Content-Length) differ from what was signed. s3rver itself does
 * not check V4 signatures (it takes any known access key) but does check expiry; here both are checked before it.
 */
export async function startS3(options: LocalS3Options): Promise<LocalS3> {
  const log = options.log ?? (() => undefined);
  const temporary = options.dataDir === undefined;
  const directory = options.dataDir
    ? path.join(options.dataDir, 's3')
    : mkdtempSync(path.join(tmpdir(), 'ringtonic-s3-'));
  mkdirSync(directory, { recursive: true });
  const S3rver = require('s3rver') as new (config: object) => S3rverInstance;
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: options.buckets.map((bucket) => ({ name: bucket.name })),
  });
  const inner = await s3rver.run();
  const verifier = new SigV4Verifier({
    region: options.region,
    service: 's3',
    credentials: options.credentials,
    allowUnsignedPayload: true,
  });

  const front: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`request failed: ${(error as Error).message}`);
      if (!res.headersSent) writeS3Error(res, 500, 'InternalError', 'We encountered an internal error.');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (body === undefined) {
      writeS3Error(res, 400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
      return;
    }
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
    const rawQuery = queryStart < 0 ? '' : rawUrl.slice(queryStart + 1);
    const verdict = await verifier.verify({
      method: req.method ?? 'GET',
      rawPath,
      rawQuery,
      headers: req.headers,
      body,
    });
    if (!verdict.ok) {
      const { code, message } = s3ErrorOf(verdict);
      log(`${req.method} ${rawPath} refused: ${code} (${verdict.message})`);
      writeS3Error(res, 403, code, message);
      return;
    }
    // Checked: s3rver gets the request without its signature, as an anonymous request it serves as it is.
    const forwardedQuery = rawQuery
      .split('&')
      .filter((pair) => pair.length > 0 && !SIGNATURE_QUERY.test(decodeURIComponent(pair.split('=')[0] ?? '')))
      .join('&');
    const { authorization: _a, ...headers } = req.headers;
    await new Promise<void>((resolve, reject) => {
      const forwarded = request(
        {
          host: '127.0.0.1',
          port: inner.port,
          method: req.method,
          path: forwardedQuery ? `${rawPath}?${forwardedQuery}` : rawPath,
          headers: { ...headers, 'content-length': String(body.length) },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', resolve);
          answer.on('error', reject);
        },
      );
      forwarded.on('error', reject);
      forwarded.end(body);
    });
  }

  const url = await new Promise<string>((resolve, reject) => {
    front.once('error', reject);
    front.listen(options.port, options.host, () => {
      resolve(`http://${options.host}:${(front.address() as AddressInfo).port}`);
    });
  });

  // S3's lifecycle, which s3rver lacks: objects past their rule's days are deleted (S3 does it within a day too).
  const sweepExpired = async (): Promise<number> => {
    let deleted = 0;
    for (const bucket of options.buckets) {
      for (const { prefix, days } of bucket.expirations) {
        const cutoff = Date.now() - days * 24 * 60 * 60 * 1000;
        const { objects } = await s3rver.store.listObjects(bucket.name, { prefix });
        for (const object of objects) {
          if (object.lastModifiedDate.getTime() >= cutoff) continue;
          await s3rver.store.deleteObject(bucket.name, object.key);
          deleted += 1;
        }
      }
    }
    if (deleted > 0) log(`lifecycle: deleted ${deleted} expired objects`);
    return deleted;
  };
  await sweepExpired();
  const sweeper = setInterval(
    () => {
      sweepExpired().catch((error: unknown) => log(`lifecycle sweep failed: ${(error as Error).message}`));
    },
    options.lifecycleSweepMs ?? 60 * 60 * 1000,
  );
  sweeper.unref();

  return {
    url,
    sweepExpired,
    async close() {
      clearInterval(sweeper);
      await new Promise<void>((resolve) => {
        front.closeAllConnections();
        front.close(() => resolve());
      });
      await s3rver.close();
      if (temporary) rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The S3 error code and message for a refused signature, as S3 words them. */
function s3ErrorOf(failure: SigV4Failure): { code: string; message: string } {
  if (failure.errorType === 'MissingAuthenticationTokenException')
    return { code: 'AccessDenied', message: 'Access Denied' };
  if (failure.errorType === 'UnrecognizedClientException') {
    return { code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  }
  if (/expired/i.test(failure.message)) return { code: 'AccessDenied', message: 'Request has expired' };
  if (/does not match|is missing/.test(failure.message)) {
    return {
      code: 'SignatureDoesNotMatch',
      message:
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    };
  }
  return { code: 'AccessDenied', message: failure.message };
}

function writeS3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const escapeXml = (text: string) =>
    text.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] ?? c);
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** The whole body, or undefined past {@link MAX_BODY_BYTES} (read to its end, so the client reads the answer). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
