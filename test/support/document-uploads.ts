import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** 201 of POST document-uploads. */
export type UploadTicket = {
  uploadId: string;
  uploadUrl: string;
  method: 'PUT';
  headers: Record<string, string>;
  expiresAt: string;
};

/** What S3 answered a PUT: its status and, for an error, its XML `<Code>`. */
export type PutAnswer = { status: number; code?: string; body: string };

const codeOf = (body: string) => /<Code>([^<]+)<\/Code>/.exec(body)?.[1];

/**
 * PUTs bytes to a presigned URL as the README tells a caller to: `curl -X PUT -H … --data-binary @file "$uploadUrl"`,
 * with the ticket's headers (or `headers` instead).
 */
export async function curlPut(
  ticket: UploadTicket,
  bytes: Buffer,
  headers: Record<string, string> = ticket.headers,
): Promise<PutAnswer> {
  const file = path.join(tmpdir(), `ringtonic-upload-${process.pid}-${Date.now()}-${Math.random()}.bin`);
  writeFileSync(file, bytes);
  const args = ['-sS', '-X', 'PUT', '-o', '-', '-w', '\n%{http_code}'];
  // curl sets Content-Length from the file itself: a header of its own would send two.
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'content-length') args.push('-H', `${name}: ${value}`);
  }
  args.push('--data-binary', `@${file}`, ticket.uploadUrl);
  const { stdout } = await promisify(execFile)('curl', args, { maxBuffer: 1024 * 1024 });
  const cut = stdout.lastIndexOf('\n');
  const body = stdout.slice(0, cut);
  const status = Number(stdout.slice(cut + 1));
  return { status, body, ...(codeOf(body) ? { code: codeOf(body) } : {}) };
}

/** PUTs bytes to a URL with exactly the headers given (Content-Length included), as a raw HTTP client would. */
export function rawPut(url: string, bytes: Buffer, headers: Record<string, string>): Promise<PutAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body, ...(codeOf(body) ? { code: codeOf(body) } : {}) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(bytes);
  });
}
