import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { awsClientConfig } from '../../shared/aws-clients';
import { EmailDeliveryFailedError } from '../../shared/errors';
import type { Mailer } from '../../use-cases/ports';

/** Sends email through SES v2 (the v1 templated send hangs against the local stand-in). */
export class SesMailer implements Mailer {
  constructor(
    private readonly sender: string,
    private readonly configurationSetName: string | undefined,
    private readonly client: SESv2Client = new SESv2Client(awsClientConfig),
  ) {}

  async send(email: {
    to: readonly string[];
    subject: string;
    html: string;
    text: string;
    tags?: Record<string, string>;
  }): Promise<{ messageId: string }> {
    try {
      const result = await this.client.send(
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
      throw new EmailDeliveryFailedError(`SES did not take the email: ${(error as Error).name}`, { cause: error });
    }
  }
}
