import type { PortInRepository, TwilioGateway, TwilioTokenStore } from './ports';
import { twilioForAccount } from './twilio-account';

/** POST documents: uploads a utility bill to the account's Twilio account; the RD sid goes on the port order. */
export async function uploadUtilityBill(
  input: { accountId: string; fileName: string; contentType: string; contentBase64: string },
  deps: { repository: PortInRepository; tokens: TwilioTokenStore; twilio: TwilioGateway },
): Promise<{ documentSid: string }> {
  const { gateway } = await twilioForAccount(input.accountId, deps);
  const content = Buffer.from(input.contentBase64, 'base64');
  const documentSid = await gateway.uploadUtilityBill({
    fileName: input.fileName,
    contentType: input.contentType,
    content,
  });
  return { documentSid };
}
