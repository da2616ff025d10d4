import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { safeDecode } from './route-table';

/** The parts of an HTTP request that a SigV4 signature covers, as they came over the wire. */
export interface SignedRequest {
  readonly method: string;
  /** Path as sent, still percent-encoded, without the query. */
  readonly rawPath: string;
  /** Query string as sent, without the leading `?`. */
  readonly rawQuery: string;
  /** Header names in lower case, as Node gives them. */
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Why API Gateway would refuse a request, with its `x-amzn-ErrorType` and message. */
export interface SigV4Failure {
  readonly ok: false;
  readonly errorType: string;
  readonly message: string;
}

/** The result of checking a request's signature. */
export type SigV4Result = { readonly ok: true; readonly accessKeyId: string } | SigV4Failure;

/** What the verifier checks signatures against. */
export interface SigV4VerifierConfig {
  readonly region: string;
  readonly service: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** How far X-Amz-Date may be from now; AWS allows 15 minutes. */
  readonly maxClockSkewMs?: number;
  /**
   * Accept `UNSIGNED-PAYLOAD` as the payload hash (header or presigned query), as S3 does; API Gateway does not.
   * @default false
   */
  readonly allowUnsignedPayload?: boolean;
  readonly now?: () => number;
}

const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGNED_EXPIRES_SECONDS = 7 * 24 * 60 * 60;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method.';

/** Scope and signature fields shared by the Authorization header and presigned query forms. */
interface SignatureFields {
  readonly algorithm: string;
  readonly credential: string;
  readonly signedHeaders: string;
  readonly signature: string;
  readonly amzDate: string | undefined;
  readonly expiresSeconds?: number;
}

/**
 * Checks AWS SigV4 signatures as API Gateway does for AWS_IAM routes: it rebuilds the request from what was
 * signed and signs it again with @smithy/signature-v4, so it agrees with the AWS SDKs by construction.
 */
export class SigV4Verifier {
  private readonly maxSkewMs: number;
  private readonly now: () => number;

  constructor(private readonly config: SigV4VerifierConfig) {
    this.maxSkewMs = config.maxClockSkewMs ?? DEFAULT_MAX_SKEW_MS;
    this.now = config.now ?? Date.now;
  }

  /** Verifies the Authorization header or, when there is none, a presigned query string. */
  async verify(request: SignedRequest): Promise<SigV4Result> {
    const query = parseQuery(request.rawQuery);
    const authorization = headerValue(request.headers, 'authorization');
    if (authorization !== undefined) {
      const result = await this.verifyHeader(request, query, authorization);
      return result.ok || result.message !== SIGNATURE_MISMATCH || isSorted(request.rawQuery)
        ? result
        : fail(result.errorType, `${SIGNATURE_MISMATCH} ${UNSORTED_QUERY_HINT}`);
    }
    if (firstValue(query['X-Amz-Algorithm']) !== undefined) return this.verifyPresigned(request, query);
    return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }

  private async verifyHeader(request: SignedRequest, query: Query, authorization: string): Promise<SigV4Result> {
    const fields = parseAuthorization(authorization);
    if ('ok' in fields) return fields;
    const date = headerValue(request.headers, 'x-amz-date');
    const checked = this.checkFields({ ...fields, amzDate: date });
    if (!checked.ok) return checked;
    const { signingDate, signedHeaders } = checked;
    if (!signedHeaders.includes('x-amz-date')) {
      // The signer always signs X-Amz-Date; an unsigned one would let a replayed request pick its own date.
      return fail('IncompleteSignatureException', "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
    }
    const skew = Math.abs(this.now() - signingDate.getTime());
    if (skew > this.maxSkewMs) {
      return fail(
        'InvalidSignatureException',
        `Signature expired: ${date} is more than ${this.maxSkewMs / 60_000} minutes from now.`,
      );
    }
    const rebuilt = this.rebuild(request, query, signedHeaders);
    if ('ok' in rebuilt) return rebuilt;
    const expected = await this.expectedSignatures(async (signer) => {
      const signed = await signer.sign(rebuilt, { signingDate, signableHeaders: new Set(signedHeaders) });
      return /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))?.[1] ?? '';
    });
    return this.compare(fields.signature, expected, checked.accessKeyId);
  }

  private async verifyPresigned(request: SignedRequest, query: Query): Promise<SigV4Result> {
    const expires = Number(firstValue(query['X-Amz-Expires']));
    const fields: SignatureFields = {
      algorithm: firstValue(query['X-Amz-Algorithm']) ?? '',
      credential: firstValue(query['X-Amz-Credential']) ?? '',
      signedHeaders: firstValue(query['X-Amz-SignedHeaders']) ?? '',
      signature: firstValue(query['X-Amz-Signature']) ?? '',
      amzDate: firstValue(query['X-Amz-Date']),
      expiresSeconds: expires,
    };
    if (!fields.credential || !fields.signedHeaders || !fields.signature) {
      return fail(
        'IncompleteSignatureException',
        'The presigned URL lacks X-Amz-Credential, SignedHeaders or Signature.',
      );
    }
    const checked = this.checkFields(fields);
    if (!checked.ok) return checked;
    const { signingDate, signedHeaders } = checked;
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_EXPIRES_SECONDS) {
      return fail('IncompleteSignatureException', 'X-Amz-Expires must be between 1 and 604800 seconds.');
    }
    const now = this.now();
    if (now > signingDate.getTime() + expires * 1000) {
      return fail('InvalidSignatureException', 'Signature expired: the presigned URL is past its X-Amz-Expires.');
    }
    if (signingDate.getTime() - now > this.maxSkewMs) {
      return fail('InvalidSignatureException', 'Signature not yet current: X-Amz-Date is in the future.');
    }
    // presign() writes the X-Amz-* query parameters itself; what remains is the caller's own query.
    const ownQuery: Query = Object.create(null);
    // S3's presigned URLs carry their payload hash (UNSIGNED-PAYLOAD) as a query parameter that presign() writes
    // from the request's own header: given back as that header (same name), it is signed as the caller's was.
    const payloadHash: Record<string, string> = Object.create(null);
    for (const [key, value] of Object.entries(query)) {
      if (PRESIGN_PARAMS.has(key)) continue;
      if (this.config.allowUnsignedPayload && key.toLowerCase() === 'x-amz-content-sha256' && value === UNSIGNED) {
        payloadHash[key] = value;
      } else {
        ownQuery[key] = value;
      }
    }
    const rebuilt = this.rebuild(request, ownQuery, signedHeaders);
    if ('ok' in rebuilt) return rebuilt;
    Object.assign(rebuilt.headers, payloadHash);
    const expected = await this.expectedSignatures(async (signer) => {
      const presigned = await signer.presign(rebuilt, {
        signingDate,
        expiresIn: expires,
        signableHeaders: new Set(signedHeaders),
        // Signed x-amz-* headers must stay headers, or the canonical request would differ from the caller's.
        unhoistableHeaders: new Set(signedHeaders),
      });
      return firstValue(presigned.query?.['X-Amz-Signature'] ?? undefined) ?? '';
    });
    return this.compare(fields.signature, expected, checked.accessKeyId);
  }

  /** Checks algorithm, credential scope and date; answers the parsed pieces the signature needs. */
  private checkFields(
    fields: SignatureFields,
  ): SigV4Failure | { ok: true; accessKeyId: string; signingDate: Date; signedHeaders: string[] } {
    if (fields.algorithm !== 'AWS4-HMAC-SHA256') {
      return fail('IncompleteSignatureException', `Unsupported AWS 'algorithm': '${fields.algorithm}'.`);
    }
    const scope = fields.credential.split('/');
    if (scope.length !== 5 || scope[4] !== 'aws4_request') {
      return fail('IncompleteSignatureException', `Credential must have exactly 5 slash-delimited elements.`);
    }
    const [accessKeyId, scopeDate, region, service] = scope as [string, string, string, string];
    if (accessKeyId !== this.config.credentials.accessKeyId) {
      return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (region !== this.config.region) {
      return fail('InvalidSignatureException', `Credential should be scoped to a valid region, not '${region}'.`);
    }
    if (service !== this.config.service) {
      return fail(
        'InvalidSignatureException',
        `Credential should be scoped to correct service: '${this.config.service}'.`,
      );
    }
    if (fields.amzDate === undefined) {
      return fail(
        'IncompleteSignatureException',
        "Authorization requires an 'X-Amz-Date' header (the local gateway does not accept 'Date').",
      );
    }
    const signingDate = parseAmzDate(fields.amzDate);
    if (!signingDate) return fail('IncompleteSignatureException', `Invalid X-Amz-Date: '${fields.amzDate}'.`);
    if (fields.amzDate.slice(0, 8) !== scopeDate) {
      return fail('InvalidSignatureException', `Credential should be scoped to a valid date, not '${scopeDate}'.`);
    }
    const signedHeaders = fields.signedHeaders.split(';').filter((h) => h.length > 0);
    if (!signedHeaders.includes('host')) {
      return fail('IncompleteSignatureException', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
    }
    return { ok: true, accessKeyId, signingDate, signedHeaders };
  }

  /** The request as the caller signed it: method, path, query, body and only the headers it signed. */
  private rebuild(request: SignedRequest, query: Query, signedHeaders: readonly string[]): HttpRequest | SigV4Failure {
    // No prototype: a signed header named "__proto__" must survive the rebuild.
    const headers: Record<string, string> = Object.create(null);
    for (const name of signedHeaders) {
      const value = headerValue(request.headers, name);
      if (value === undefined) return fail('InvalidSignatureException', `Signed header '${name}' is missing.`);
      headers[name] = value;
    }
    const declaredHash = headers['x-amz-content-sha256'];
    const unsigned = this.config.allowUnsignedPayload === true && declaredHash === UNSIGNED;
    if (
      declaredHash !== undefined &&
      !unsigned &&
      declaredHash !== createHash('sha256').update(request.body).digest('hex')
    ) {
      // The signer would take the declared hash on trust; the body must really hash to it.
      return fail('InvalidSignatureException', 'The x-amz-content-sha256 header does not match the body.');
    }
    return new HttpRequest({
      method: request.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path: request.rawPath,
      query,
      headers,
      body: request.body.length > 0 ? request.body : undefined,
    });
  }

  /**
   * The signatures to accept. The AWS SDKs encode the path a second time for execute-api; some clients (curl
   * among them) sign the path as sent, so when the two differ both are tried.
   */
  private async expectedSignatures(sign: (signer: SignatureV4) => Promise<string>): Promise<string[]> {
    const base = {
      credentials: this.config.credentials,
      region: this.config.region,
      service: this.config.service,
      sha256: Sha256,
      applyChecksum: false,
    };
    const doubleEncoded = await sign(new SignatureV4({ ...base, uriEscapePath: true }));
    const asSent = await sign(new SignatureV4({ ...base, uriEscapePath: false }));
    return doubleEncoded === asSent ? [doubleEncoded] : [doubleEncoded, asSent];
  }

  private compare(provided: string, expected: readonly string[], accessKeyId: string): SigV4Result {
    const given = Buffer.from(provided, 'utf8');
    for (const candidate of expected) {
      const wanted = Buffer.from(candidate, 'utf8');
      if (wanted.length === given.length && timingSafeEqual(wanted, given)) return { ok: true, accessKeyId };
    }
    return fail('InvalidSignatureException', SIGNATURE_MISMATCH);
  }
}

// curl 7.x signs the query string in the order typed; SigV4 (and so API Gateway) wants it sorted.
const UNSORTED_QUERY_HINT =
  'The query parameters are not in alphabetical order: some clients (curl 7.x) sign them in the order given, ' +
  'which AWS refuses; list them alphabetically.';

function isSorted(rawQuery: string): boolean {
  const keys = rawQuery
    .split('&')
    .filter((pair) => pair.length > 0)
    .map((pair) => pair.split('=')[0] ?? '');
  return keys.every((key, i) => i === 0 || (keys[i - 1] as string) <= key);
}

/** The payload hash of a request whose body is not signed (S3 only). */
const UNSIGNED = 'UNSIGNED-PAYLOAD';

const PRESIGN_PARAMS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
]);

/** A decoded query string as @smithy's HttpRequest holds it. */
export type Query = Record<string, string | string[]>;

/** Splits a raw query string into decoded keys and values; `+` stays `+`, as SigV4 canonicalization expects. */
export function parseQuery(rawQuery: string): Query {
  // No prototype: a query key named "constructor" or "__proto__" is just a key.
  const query: Query = Object.create(null);
  for (const pair of rawQuery.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : safeDecode(pair.slice(eq + 1));
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[key] = [existing, value];
  }
  return query;
}

function parseAuthorization(header: string): SigV4Failure | Omit<SignatureFields, 'amzDate'> {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  const params: Record<string, string> = Object.create(null);
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const { Credential: credential, SignedHeaders: signedHeaders, Signature: signature } = params;
  if (space < 0 || !credential || !signedHeaders || !signature) {
    return fail(
      'IncompleteSignatureException',
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
    );
  }
  return { algorithm, credential, signedHeaders, signature };
}

function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  // Own properties only: a header named "constructor" must not read Object.prototype's.
  if (!Object.hasOwn(headers, name)) return undefined;
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : undefined;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function fail(errorType: string, message: string): SigV4Failure {
  return { ok: false, errorType, message };
}
