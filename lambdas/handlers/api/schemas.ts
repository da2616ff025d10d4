import * as z from 'zod/mini';
import { PortRequestStatuses } from '../../domain/port-status';
import { MAX_DOCUMENT_BYTES } from '../../shared/documents';
import '../../shared/zod-locale';

/** `{accountId}`: the Ring Tonic customer account. */
export const accountIdSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 of A-Za-z0-9_-'));
export const resourceIdSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/, 'malformed id'));

export const twilioConnectionSchema = z.strictObject({
  accountSid: z.string().check(z.regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits')),
  authToken: z.string().check(z.minLength(16), z.maxLength(128)),
  verificationCallerNumber: z.optional(
    z.string().check(
      z.regex(/^\+[1-9]\d{7,14}$/, 'must be an E.164 number, e.g. +14155550100'),
      z.meta({
        description:
          'A number of this Twilio account to place the test calls from that verify ported numbers; another number of the account when absent.',
      }),
    ),
  ),
});

/** Up to `max` characters (a phone number as sent: `max(40)`). */
const upTo = (max: number) => z.string().check(z.maxLength(max));
/** An array of `min` to `max` items. */
const arrayOf = <T extends z.ZodMiniType>(item: T, min: number, max: number) =>
  z.array(item).check(z.minLength(min), z.maxLength(max));
const pinSchema = () => z.string().check(z.regex(/^[0-9A-Za-z]{1,15}$/));

export const portabilityCheckSchema = z.strictObject({
  phoneNumbers: arrayOf(upTo(40), 1, 1000),
});

const phoneEntry = z.union([
  upTo(40),
  z.strictObject({
    phoneNumber: upTo(40),
    pin: z.optional(pinSchema()),
  }),
]);

const text = (max: number) => z.string().check(z.trim(), z.minLength(1), z.maxLength(max));

export const losingCarrierSchema = z.strictObject({
  name: text(100),
  customerType: z.optional(z.enum(['Business', 'Individual'])),
  customerName: text(200),
  accountNumber: z.optional(text(64)),
  accountTelephoneNumber: z.optional(text(40)),
  pin: z.optional(pinSchema()),
  authorizedRepresentative: text(200),
  authorizedRepresentativeEmail: z.email().check(z.maxLength(254)),
  address: z.strictObject({
    street: text(200),
    street2: z.optional(text(200)),
    city: text(100),
    state: z.string().check(z.regex(/^[A-Z]{2}$/, 'two-letter state code')),
    zip: z.string().check(z.regex(/^\d{5}(-\d{4})?$/, 'ZIP or ZIP+4')),
    country: z.literal('US'),
  }),
  utilityBillDocumentSid: z.optional(
    z.string().check(z.regex(/^RD[0-9a-fA-F]{32}$/, 'must be a Twilio document sid (RD…)')),
  ),
  phoneNumbers: arrayOf(phoneEntry, 1, 5000),
});

export const portOrderSchema = z.strictObject({
  losingCarriers: arrayOf(losingCarrierSchema, 1, 50),
  targetPortInDate: z.optional(z.iso.date()),
  notificationEmails: arrayOf(z.email().check(z.maxLength(254)), 1, 10),
  attestations: z.strictObject({
    currentServiceActiveAndPaid: z.literal(true, { error: 'must be true' }),
    keepCurrentServiceUntilComplete: z.literal(true, { error: 'must be true' }),
  }),
});

export const idempotencyKeySchema = z.string().check(z.minLength(1), z.maxLength(128));

export const listPortRequestsQuerySchema = z.strictObject({
  status: z.optional(z.enum(PortRequestStatuses)),
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  cursor: z.optional(upTo(512)),
});

/**
 * Base64 check by a plain loop: a regular expression over a 7 MB string can exhaust V8's backtracking stack.
 */
function isBase64(value: string): boolean {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 61 /* = */ && value.length - end < 2) end -= 1;
  for (let i = 0; i < end; i += 1) {
    const c = value.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return false;
  }
  return end > 0;
}

/** The file types Twilio takes as a utility bill. */
const documentContentType = () => z.enum(['application/pdf', 'image/png', 'image/jpeg']);

/** POST documents: a utility bill, at most 4 MB once decoded (checked by the use case: 413 naming document-uploads). */
export const documentUploadSchema = z.strictObject({
  fileName: text(200),
  contentType: documentContentType(),
  contentBase64: z.string().check(z.minLength(1), z.refine(isBase64, 'must be base64')),
});

/** POST document-uploads: a utility bill of up to 5 MB (5,242,880 bytes) to be PUT to a presigned S3 URL. */
export const documentUploadRequestSchema = z.strictObject({
  fileName: text(200),
  contentType: documentContentType(),
  sizeBytes: z
    .number()
    .check(
      z.int('must be a whole number of bytes'),
      z.gte(1),
      z.lte(MAX_DOCUMENT_BYTES, `at most ${MAX_DOCUMENT_BYTES} (5 MB)`),
    ),
});

/** POST corrections: any losing-carrier field, PINs, a new utility bill; at least one. */
export const portCorrectionSchema = z
  .extend(z.partial(z.omit(losingCarrierSchema, { phoneNumbers: true })), {
    phoneNumbers: z.optional(arrayOf(z.strictObject({ phoneNumber: upTo(40), pin: pinSchema() }), 1, 1000)),
  })
  .check(
    z.refine((body) => Object.values(body).some((value) => value !== undefined), {
      message: 'send at least one field to correct',
    }),
  );

/** POST imports: the numbers of the Twilio account to bring into Ring Tonic. */
export const importNumbersSchema = z.strictObject({
  phoneNumbers: arrayOf(upTo(40), 1, 1000),
});
