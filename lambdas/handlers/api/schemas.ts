import { z } from 'zod';
import { PortRequestStatuses } from '../../domain/port-status';

/** `{accountId}`: the Ring Tonic customer account. */
export const accountIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 of A-Za-z0-9_-');
export const resourceIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'malformed id');

export const twilioConnectionSchema = z.strictObject({
  accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits'),
  authToken: z.string().min(16).max(128),
});

export const portabilityCheckSchema = z.strictObject({
  phoneNumbers: z.array(z.string().max(40)).min(1).max(1000),
});

const phoneEntry = z.union([
  z.string().max(40),
  z.strictObject({
    phoneNumber: z.string().max(40),
    pin: z
      .string()
      .regex(/^[0-9A-Za-z]{1,15}$/)
      .optional(),
  }),
]);

const text = (max: number) => z.string().trim().min(1).max(max);

export const losingCarrierSchema = z.strictObject({
  name: text(100),
  customerType: z.enum(['Business', 'Individual']).optional(),
  customerName: text(200),
  accountNumber: text(64).optional(),
  accountTelephoneNumber: text(40).optional(),
  pin: z
    .string()
    .regex(/^[0-9A-Za-z]{1,15}$/)
    .optional(),
  authorizedRepresentative: text(200),
  authorizedRepresentativeEmail: z.string().email().max(254),
  address: z.strictObject({
    street: text(200),
    street2: text(200).optional(),
    city: text(100),
    state: z.string().regex(/^[A-Z]{2}$/, 'two-letter state code'),
    zip: z.string().regex(/^\d{5}(-\d{4})?$/, 'ZIP or ZIP+4'),
    country: z.literal('US'),
  }),
  utilityBillDocumentSid: z
    .string()
    .regex(/^RD[0-9a-fA-F]{32}$/, 'must be a Twilio document sid (RD…)')
    .optional(),
  phoneNumbers: z.array(phoneEntry).min(1).max(5000),
});

export const portOrderSchema = z.strictObject({
  losingCarriers: z.array(losingCarrierSchema).min(1).max(50),
  targetPortInDate: z.iso.date().optional(),
  notificationEmails: z.array(z.string().email().max(254)).min(1).max(10),
  attestations: z.strictObject({
    currentServiceActiveAndPaid: z.literal(true, { error: 'must be true' }),
    keepCurrentServiceUntilComplete: z.literal(true, { error: 'must be true' }),
  }),
});

export const idempotencyKeySchema = z.string().min(1).max(128);

export const listPortRequestsQuerySchema = z.strictObject({
  status: z.enum(PortRequestStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
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

/** POST documents: a utility bill, at most 5 MB once decoded (checked by the use case: 413). */
export const documentUploadSchema = z.strictObject({
  fileName: z.string().trim().min(1).max(200),
  contentType: z.enum(['application/pdf', 'image/png', 'image/jpeg']),
  contentBase64: z.string().min(1).refine(isBase64, 'must be base64'),
});

/** POST corrections: any losing-carrier field, PINs, a new utility bill; at least one. */
export const portCorrectionSchema = losingCarrierSchema
  .omit({ phoneNumbers: true })
  .partial()
  .extend({
    phoneNumbers: z
      .array(z.strictObject({ phoneNumber: z.string().max(40), pin: z.string().regex(/^[0-9A-Za-z]{1,15}$/) }))
      .min(1)
      .max(1000)
      .optional(),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: 'send at least one field to correct',
  });

/** POST imports: the numbers of the Twilio account to bring into Ring Tonic. */
export const importNumbersSchema = z.strictObject({
  phoneNumbers: z.array(z.string().max(40)).min(1).max(1000),
});
