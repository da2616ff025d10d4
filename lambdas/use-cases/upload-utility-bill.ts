import { DOCUMENT_UPLOAD_ROUTES, MAX_INLINE_DOCUMENT_BYTES } from '../shared/documents';
import { HttpProblem } from '../shared/errors';
import type { PortInRepository, TwilioGateway, TwilioTokenStore } from './ports';
import { twilioForAccount } from './twilio-account';

/** The first bytes each accepted file type starts with, so a mislabelled file is refused before Twilio sees it. */
const MAGIC: Record<string, Buffer> = {
  'application/pdf': Buffer.from('%PDF'),
  'image/png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
  'image/jpeg': Buffer.from([0xff, 0xd8, 0xff]),
};

/** Whether `content` starts as a file of `contentType` does. */
export function startsLikeContentType(content: Buffer, contentType: string): boolean {
  const magic = MAGIC[contentType];
  return magic !== undefined && content.subarray(0, magic.length).equals(magic);
}

export interface UtilityBillDeps {
  readonly repository: PortInRepository;
  readonly tokens: TwilioTokenStore;
  readonly twilio: TwilioGateway;
}

/**
 * Sends a checked utility bill to Twilio's Documents API with the account's credentials; answers its RD sid. The one
 * way both document routes reach Twilio.
 */
export async function sendUtilityBillToTwilio(
  document: { accountId: string; fileName: string; contentType: string; content: Buffer },
  deps: UtilityBillDeps,
): Promise<string> {
  const { gateway } = await twilioForAccount(document.accountId, deps);
  return gateway.uploadUtilityBill({
    fileName: document.fileName,
    contentType: document.contentType,
    content: document.content,
  });
}

/** POST documents: uploads a utility bill to the account's Twilio account; the RD sid goes on the port order. */
export async function uploadUtilityBill(
  input: { accountId: string; fileName: string; contentType: string; contentBase64: string },
  deps: UtilityBillDeps,
): Promise<{ documentSid: string }> {
  const content = Buffer.from(input.contentBase64, 'base64');
  if (content.length > MAX_INLINE_DOCUMENT_BYTES) {
    throw new HttpProblem(
      413,
      'Payload Too Large',
      `The document is larger than 4 MB, the most this route takes as base64. Upload it instead: ${DOCUMENT_UPLOAD_ROUTES} (files up to 5 MB).`,
      [{ path: 'contentBase64', message: 'larger than 4 MB once decoded: use POST document-uploads' }],
    );
  }
  if (!startsLikeContentType(content, input.contentType)) {
    throw new HttpProblem(400, 'Bad Request', `The file is not a ${input.contentType} file.`, [
      { path: 'contentBase64', message: `does not start like a ${input.contentType} file` },
    ]);
  }
  return { documentSid: await sendUtilityBillToTwilio({ ...input, content }, deps) };
}
