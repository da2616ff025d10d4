import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { awsClientConfig, awsClientOnFirstUse } from '../../shared/aws-clients';
import { EmailDeliveryFailedError, EmailRejectedError } from '../../shared/errors';
import { lazy } from '../../shared/lazy';
import type { Mailer } from '../../use-cases/ports';
import { traced } from '../observability/tracer';

/**
 * SES v2 errors that refuse one email for good: the content or a recipient address is wrong (MessageRejected,
 * BadRequestException). Everything else is worth retrying or concerns every email alike and must stop the line
 * rather than drop each one: throttling and quotas (TooManyRequests, LimitExceeded), SES's own 5xx and timeouts,
 * and account or configuration faults (AccountSuspended, SendingPaused, MailFromDomainNotVerified, NotFound for a
 * missing configuration set), which an operator fixes once for all emails.
 */
const PERMANENT_REFUSALS: ReadonlySet<string> = new Set(['MessageRejected', 'BadRequestException']);

/** Whether SES refused this very email for good (an SDK error, as the SES v2 client throws it). */
export function isPermanentRefusal(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: number } };
  if (typeof e.name !== 'string' || !PERMANENT_REFUSALS.has(e.name)) return false;
  // A client fault with a 4xx other than 429: the same request would be refused again.
  const status = e.$metadata?.httpStatusCode;
  return e.$fault !== 'server' && (status === undefined || (status >= 400 && status < 500 && status !== 429));
}

/** Connection errors that mean the request never reached SES. */
const NEVER_SENT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/**
 * Whether SES may have taken an email although the send failed: true unless SES answered (any HTTP status: an
 * error answer means it was not taken) or the connection was never made.
 */
export function maybeTaken(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  const e = error as { code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (typeof e.$metadata?.httpStatusCode === 'number') return false;
  return !(typeof e.code === 'string' && NEVER_SENT_CODES.has(e.code));
}

const sesv2 = lazy(() => import('@aws-sdk/client-sesv2'));

/** Sends email through SES v2 (the v1 templated send hangs against the local stand-in). */
export class SesMailer implements Mailer {
  constructor(
    private readonly sender: string,
    private readonly configurationSetName: string | undefined,
    client?: SESv2Client,
  ) {
    this.client = awsClientOnFirstUse(
      sesv2,
      // One attempt per send: SendEmail has no idempotency token, so an SDK retry after a timeout could send
      // twice. Step Functions retries instead, each attempt claimed in the outbox
      // (lambdas/use-cases/workflow/deliver-emails.ts).
      (sdk) => traced(new sdk.SESv2Client({ ...awsClientConfig, maxAttempts: 1 })),
      client,
    );
  }

  private readonly client: () => Promise<SESv2Client>;

  async send(email: {
    to: readonly string[];
    subject: string;
    html: string;
    text: string;
    tags?: Record<string, string>;
  }): Promise<{ messageId: string }> {
    const { SendEmailCommand } = await sesv2();
    const client = await this.client();
    try {
      const result = await client.send(
        new SendEmailCommand({
          FromEmailAddress: this.sender,
          Destination: { ToAddresses: [...email.to] },
          Content: {
            Simple: {
              Subject: { Data: email.subject, Charset: 'UTF-8' },
              Body: { Html: { Data: email.html, Charset: 'UTF-8' }, Text: { Data: email.text, Charset: 'UTF-8' } },
            },
          },
          ...(this.configurationSetName ? { ConfigurationSetName: this.configurationSetName } : {}),
          EmailTags: Object.entries(email.tags ?? {}).map(([Name, Value]) => ({ Name, Value })),
        }),
      );
      return { messageId: result.MessageId ?? 'unknown' };
    } catch (error) {
      const name = (error as Error).name;
      if (isPermanentRefusal(error)) {
        throw new EmailRejectedError(`SES refused the email: ${name}`, { cause: error });
      }
      throw new EmailDeliveryFailedError(`SES did not take the email: ${name}`, maybeTaken(error), { cause: error });
    }
  }
}
