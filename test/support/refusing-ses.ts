import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An SES v2 error answer: HTTP status, error type (the `x-amzn-ErrorType` header), message. */
export interface SesRefusal {
  readonly status: number;
  readonly type: string;
  readonly message: string;
}

/**
 * An SES v2 endpoint in front of the local SES stand-in that answers some SendEmail calls with an SES error the
 * way SES does (status, `x-amzn-ErrorType`, JSON message) and forwards every other call to the stand-in, which
 * refuses nothing. `refuse` sees the SendEmail body.
 */
export async function startRefusingSes(
  upstream: string | undefined,
  refuse: (body: Record<string, unknown>) => SesRefusal | undefined,
): Promise<{ url: string; refused: Array<Record<string, unknown>>; close(): Promise<void> }> {
  const refused: Array<Record<string, unknown>> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        // not a JSON call: forwarded as it is
      }
      const refusal = req.url?.startsWith('/v2/email/outbound-emails') ? refuse(body) : undefined;
      if (refusal) {
        refused.push(body);
        res.writeHead(refusal.status, { 'content-type': 'application/json', 'x-amzn-ErrorType': refusal.type });
        res.end(JSON.stringify({ message: refusal.message }));
        return;
      }
      if (!upstream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ MessageId: `local-${refused.length}-${Date.now()}` }));
        return;
      }
      const forward = request(
        new URL(req.url ?? '/', upstream),
        { method: req.method, headers: { ...req.headers, host: new URL(upstream).host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The template tag of a SendEmail body (DeliverEmails tags each email with its template). */
export function templateOf(body: Record<string, unknown>): string | undefined {
  const tags = (body.EmailTags ?? []) as Array<{ Name?: string; Value?: string }>;
  return tags.find((t) => t.Name === 'template')?.Value;
}
