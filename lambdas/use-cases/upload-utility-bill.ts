import { HttpProblem } from '../shared/errors';
import type { PortInRepository, TwilioGateway, TwilioTokenStore } from './ports';
import { twilioForAccount } from './twilio-account';

/** Twilio takes utility bills of at most 5 MB. */
export const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;

/** The first bytes each accepted file type starts with, so a mislabelled file is refused before Twilio sees it. */
const MAGIC: Record<string, Buffer> = {
  'application/pdf': Buffer.from('%PDF'),
  'image/png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
  'image/jpeg': Buffer.from([0xff, 0xd8, 0xff]),
};

/** POST documents: uploads a utility bill to the account's Twilio account; the RD sid goes on the port order. */
export async function uploadUtilityBill(
  input: { accountId: string; fileName: string; contentType: string; contentBase64: string },
  deps: { repository: PortInRepository; tokens: TwilioTokenStore; twilio: TwilioGateway },
): Promise<{ documentSid: string }> {
  const content = Buffer.from(input.contentBase64, 'base64');
  if (content.length > MAX_DOCUMENT_BYTES) {
    throw new HttpProblem(413, 'Payload Too Large', 'The document is larger than 5 MB.', [
      { path: 'contentBase64', message: 'larger than 5 MB once decoded' },
    ]);
  }
  const magic = MAGIC[input.contentType];
  if (magic && !content.subarray(0, magic.length).equals(magic)) {
    throw new HttpProblem(400, 'Bad Request', `The file is not a ${input.contentType} file.`, [
      { path: 'contentBase64', message: `does not start like a ${input.contentType} file` },
    ]);
  }
  const { gateway } = await twilioForAccount(input.accountId, deps);
  const documentSid = await gateway.uploadUtilityBill({
    fileName: input.fileName,
    contentType: input.contentType,
    content,
  });
  return { documentSid };
}
