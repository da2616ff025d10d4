import middy from '@middy/core';
import * as z from 'zod/mini';
import '../../shared/zod-locale';
import { DynamoPortInRepository } from '../../adapters/dynamodb/port-in-repository';
import { observability } from '../../adapters/observability/middleware';
import { env, loadConfig } from '../../shared/config';
import { logger } from '../../shared/logger';
import { confirmEmailSent } from '../../use-cases/confirm-email-sent';

const config = loadConfig(z.object({ TABLE_NAME: env.TABLE_NAME }));
const deps = { repository: new DynamoPortInRepository(config.TABLE_NAME) };

/** One value of an SES message tag, as the event lists it (`tags: { name: [value] }`). */
const tag = z.tuple([z.string().check(z.minLength(1))]);

/**
 * SES's Send event as EventBridge delivers it (detail-type "Email Sent"), with the tags DeliverEmails puts on every
 * email (lambdas/use-cases/workflow/deliver-emails.ts).
 */
const emailSentEvent = z.object({
  source: z.literal('aws.ses'),
  'detail-type': z.literal('Email Sent'),
  detail: z.object({
    eventType: z.literal('Send'),
    mail: z.object({
      messageId: z.string().check(z.minLength(1)),
      timestamp: z.iso.datetime(),
      tags: z.object({ accountId: tag, portRequestId: tag, outboxEntry: tag }),
    }),
  }),
});

type EmailSentEvent = z.infer<typeof emailSentEvent>;

const portRequestIdOf = (event: unknown): unknown =>
  (event as { detail?: { mail?: { tags?: { portRequestId?: unknown[] } } } } | undefined)?.detail?.mail?.tags
    ?.portRequestId?.[0];

/**
 * ConfirmEmailSentFunction, run by the EventBridge rule on the configuration set's Send events: marks the email's
 * outbox entry sent (see lambdas/use-cases/confirm-email-sent.ts). An event that is not one of the service's emails
 * is logged and dropped (retrying cannot make it one); a failure to write is thrown, for Lambda's asynchronous
 * retries.
 */
export const handler = middy()
  .use(observability(portRequestIdOf))
  .handler(async (event: unknown) => {
    const parsed = emailSentEvent.safeParse(event);
    if (!parsed.success) {
      logger.warn('not a Send event of a port email: dropped', {
        fields: parsed.error.issues.map((issue) => issue.path.join('.')),
      });
      return { outcome: 'dropped' as const };
    }
    const { mail } = parsed.data.detail as EmailSentEvent['detail'];
    const outcome = await confirmEmailSent(
      {
        accountId: mail.tags.accountId[0],
        portRequestId: mail.tags.portRequestId[0],
        outboxEntry: mail.tags.outboxEntry[0],
        messageId: mail.messageId,
        at: new Date(mail.timestamp).toISOString(),
      },
      deps,
    );
    if (outcome === 'unknown') logger.warn('Send event of an email no outbox owes: dropped');
    return { outcome };
  });
