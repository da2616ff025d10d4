import type { IncomingMessage } from 'node:http';

/** What a route handler answers; `body` undefined means no body (204). */
export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An error answered as Twilio's error JSON `{ code, message, more_info, status }`. */
export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Twilio's error codes for the plain HTTP failures, used by faults and the router. */
export function defaultErrorCode(status: number): number {
  const codes: Record<number, number> = { 400: 20001, 401: 20003, 403: 20403, 404: 20404, 405: 20004, 413: 20413 };
  return codes[status] ?? 20000 + status;
}

/** Twilio's error JSON. */
export function twilioErrorBody(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/** A 400 with Twilio's generic "invalid parameter" code unless another is given. */
export function badRequest(message: string, code = 20001): SimError {
  return new SimError(400, code, message);
}

const MAX_BODY_BYTES = 25 * 1024 * 1024;

/** Reads the whole request body; refuses bodies over 25 MB with 413. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new SimError(413, 20413, 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Parses a JSON object body or answers 400 as Twilio would. */
export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest('The request body is not valid JSON');
  }
  if (!isRecord(parsed)) throw badRequest('The request body must be a JSON object');
  return parsed;
}

/** True for a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** ISO 8601 without milliseconds, as the v1 APIs write date-times. */
export function isoDateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 2822, as the 2010-04-01 API writes dates ("Mon, 16 Aug 2010 03:45:01 +0000"). */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}
