import * as z from 'zod/mini';
import { PhoneNumberStatuses, PortRequestStatuses } from '../../domain/port-status';
import '../../shared/zod-locale';
import { losingCarrierSchema } from './schemas';

// The answers of shared/api/CONTRACT.md as the handlers build them today. They only document the answers (the
// OpenAPI document and the tests read them); no handler parses its own answer with them. Objects are strict so
// that an answer with a field the document does not name fails the end-to-end tests instead of going unnoticed.
// Each `z.meta({ id })` check becomes a named component of the OpenAPI document.

const e164 = z
  .string()
  .check(z.regex(/^\+[1-9]\d{1,14}$/), z.meta({ description: 'A phone number in E.164 form, e.g. +14155550100.' }));
const twilioSid = (prefix: string, what: string) =>
  z
    .string()
    .check(
      z.regex(new RegExp(`^${prefix}[0-9a-fA-F]{32}$`)),
      z.meta({ description: `${what}: ${prefix} followed by 32 hex digits.` }),
    );
const resourceId = (what: string) => z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/), z.meta({ description: what }));
const timestamp = (what: string) => z.iso.datetime().check(z.meta({ description: `${what} (ISO 8601, UTC).` }));
const day = (what: string) => z.iso.date().check(z.meta({ description: `${what} (YYYY-MM-DD).` }));

/** One invalid field of a request. */
export const fieldErrorSchema = z
  .strictObject({
    path: z.string().check(z.meta({ description: 'Where the field is, e.g. `losingCarriers[0].address.zip`.' })),
    message: z.string(),
  })
  .check(z.meta({ id: 'FieldError', description: 'One invalid field of the request.' }));

/** Every 4xx and 5xx answer, from the handlers and from API Gateway itself (RFC 9457). */
export const problemSchema = z
  .strictObject({
    type: z
      .string()
      .check(z.meta({ description: 'A URI naming the kind of problem (`about:blank` from API Gateway).' })),
    title: z.string(),
    status: z.number().check(z.int(), z.gte(400), z.lte(599)),
    detail: z.string().check(z.meta({ description: 'What went wrong; a 5xx never shows internals.' })),
    errors: z
      .optional(z.array(fieldErrorSchema))
      .check(z.meta({ description: 'Each invalid field, on a 400 or 409.' })),
  })
  .check(z.meta({ id: 'Problem', description: 'An `application/problem+json` error.' }));

export const portRequestStatusSchema = z.enum(PortRequestStatuses).check(
  z.meta({
    id: 'PortRequestStatus',
    description:
      'Status of a port request. Terminal: COMPLETED, CANCELED, EXPIRED, FAILED (the service could not submit). ' +
      "MANUAL: toll-free numbers, waiting for a port done in Twilio's console.",
  }),
);

export const phoneNumberStatusSchema = z
  .enum(PhoneNumberStatuses)
  .check(z.meta({ id: 'PhoneNumberStatus', description: 'Status of one number of a port request.' }));

export const numberTypeSchema = z
  .enum(['LOCAL', 'MOBILE', 'TOLL_FREE', 'UNKNOWN'])
  .check(z.meta({ id: 'NumberType', description: 'The kind of number, as Twilio reports it.' }));

export const portRouteSchema = z.enum(['API', 'MANUAL']).check(
  z.meta({
    id: 'PortRoute',
    description: "API: ported through Twilio's API. MANUAL: toll-free, tracked until it appears in the Twilio account.",
  }),
);

/** 200 of PUT twilio-connection. */
export const twilioConnectionResponseSchema = z
  .strictObject({
    accountSid: twilioSid('AC', 'The Twilio Account SID'),
    webhookUrl: z.url().check(z.meta({ description: "Where Twilio now posts this account's porting events." })),
    connectedAt: timestamp('When the connection was made'),
  })
  .check(
    z.meta({ id: 'TwilioConnection', description: 'The connected Twilio account; the auth token is never returned.' }),
  );

export const portabilityResultSchema = z
  .strictObject({
    input: z.string().check(z.meta({ description: 'The number as sent.' })),
    phoneNumber: z
      .nullable(e164)
      .check(z.meta({ description: 'The number in E.164 form; null when it could not be read.' })),
    portable: z.boolean(),
    numberType: numberTypeSchema,
    pinAndAccountNumberRequired: z.boolean(),
    reasonCode: z
      .optional(z.string())
      .check(z.meta({ description: "Why it is not portable: Twilio's code, or INVALID_PHONE_NUMBER." })),
    reason: z.optional(z.string()),
  })
  .check(z.meta({ id: 'PortabilityResult', description: 'Whether one number can be ported into the Twilio account.' }));

/** 200 of POST portability-checks. */
export const portabilityCheckResponseSchema = z
  .strictObject({
    results: z.array(portabilityResultSchema).check(z.meta({ description: 'One result per input, in input order.' })),
  })
  .check(z.meta({ id: 'PortabilityCheckResults', description: 'The portability of each number sent.' }));

/** 201 of POST documents. */
export const documentResponseSchema = z
  .strictObject({ documentSid: twilioSid('RD', "The document's Twilio SID, for `utilityBillDocumentSid`") })
  .check(z.meta({ id: 'UploadedDocument', description: 'The utility bill, uploaded to Twilio.' }));

/** 201 of POST document-uploads. */
export const documentUploadTicketSchema = z
  .strictObject({
    uploadId: resourceId('The upload, for `document-uploads/{uploadId}/complete`.'),
    uploadUrl: z.url().check(z.meta({ description: 'The presigned S3 URL to PUT the file to.' })),
    method: z.literal('PUT'),
    headers: z.record(z.string(), z.string()).check(
      z.meta({
        description:
          'The headers to send with the PUT, exactly: they are signed, so S3 refuses a file of another type or size.',
      }),
    ),
    expiresAt: timestamp('When the URL stops working, 15 minutes after it was made'),
  })
  .check(
    z.meta({
      id: 'DocumentUploadTicket',
      description:
        'Where to PUT the file: `curl -X PUT -H "content-type: …" --data-binary @bill.pdf "$uploadUrl"`; then complete the upload.',
    }),
  );

export const notPortableNumberSchema = z
  .strictObject({ phoneNumber: e164, reasonCode: z.string(), reason: z.string() })
  .check(
    z.meta({ id: 'NotPortableNumber', description: 'A number of the order that cannot be ported, left out of it.' }),
  );

export const portOrderPortRequestSchema = z
  .strictObject({
    portRequestId: resourceId('The port request.'),
    status: portRequestStatusSchema,
    route: portRouteSchema,
    losingCarrier: z.string().check(z.meta({ description: "The losing carrier's name." })),
    numberTypes: z.array(numberTypeSchema),
    phoneNumbers: z.array(e164),
  })
  .check(z.meta({ id: 'PortOrderPortRequest', description: 'One port request of an order, with its current status.' }));

/** 202 (and 200 on an Idempotency-Key replay) of POST port-orders; 200 of GET port-orders/{orderId}. */
export const portOrderResponseSchema = z
  .strictObject({
    orderId: resourceId('The order.'),
    portRequests: z.array(portOrderPortRequestSchema).check(
      z.meta({
        description: 'One per losing carrier and route, at most 1,000 numbers each.',
      }),
    ),
    notPortable: z.array(notPortableNumberSchema),
    warnings: z.array(z.string()).check(z.meta({ description: 'E.g. a targetPortInDate less than 14 days ahead.' })),
  })
  .check(z.meta({ id: 'PortOrder', description: 'A port order, split into port requests.' }));

/** The losing carrier of a port request: every submitted field but the PINs (the request schema, minus those). */
export const losingCarrierViewSchema = z
  .omit(losingCarrierSchema, { pin: true, phoneNumbers: true })
  .check(
    z.meta({ id: 'LosingCarrierView', description: 'What the customer told us about the losing carrier, PINs aside.' }),
  );

/** Whether calls to a ported number reach Ring Tonic (see CONTRACT.md, "Verifying ported numbers"). */
export const numberVerificationSchema = z
  .strictObject({
    status: z.enum(['PENDING', 'PASSED', 'FAILED', 'SKIPPED']).check(
      z.meta({
        description:
          'PENDING until the number is imported and checked; FAILED is checked again (about every 15 minutes, for ' +
          '48 hours); SKIPPED where the deployment does not verify numbers.',
      }),
    ),
    checkedAt: z.optional(timestamp('Last checked')),
    detail: z
      .optional(z.string())
      .check(z.meta({ description: 'In plain words: what the check found (why it failed, or how it passed).' })),
  })
  .check(z.meta({ id: 'NumberVerification', description: 'The check that calls to the number reach Ring Tonic.' }));

export const portRequestNumberSchema = z
  .strictObject({
    phoneNumber: e164,
    status: phoneNumberStatusSchema,
    focDate: z.optional(day('The firm order commitment date')),
    rejectionReason: z
      .optional(z.string())
      .check(z.meta({ description: 'Why the losing carrier rejected the number.' })),
    imported: z.boolean().check(z.meta({ description: 'Whether the number is in the Ring Tonic inventory.' })),
    verification: numberVerificationSchema,
  })
  .check(z.meta({ id: 'PortRequestNumber', description: 'One number of a port request.' }));

/** 200 of GET port-requests/{portRequestId}; 202 of POST corrections and POST cancel. */
export const portRequestViewSchema = z
  .strictObject({
    portRequestId: resourceId('The port request.'),
    orderId: resourceId('The order it belongs to.'),
    status: portRequestStatusSchema,
    route: portRouteSchema,
    twilioPortInRequestSid: z
      .nullable(twilioSid('KW', "Twilio's Port In request"))
      .check(z.meta({ description: "Twilio's Port In request (KW…); null until submitted, and on MANUAL requests." })),
    losingCarrier: losingCarrierViewSchema,
    phoneNumbers: z.array(portRequestNumberSchema),
    targetPortInDate: z.optional(day('The date the customer asked for')),
    focDate: z.optional(day('The latest firm order commitment date of its numbers')),
    expectedCompletion: z
      .strictObject({ earliest: day('Earliest'), latest: day('Latest') })
      .check(z.meta({ description: 'The FOC date once known, else 7-10 business days (MANUAL: 7-21) from creation.' })),
    estimatedMonthlyCostUsd: z
      .number()
      .check(z.gte(0), z.meta({ description: 'What its numbers will cost a month in Twilio.' })),
    safeToCancelOldService: z.boolean().check(
      z.meta({
        description:
          'True only when the port request is COMPLETED, its ported numbers are imported and every one is verified ' +
          "(PASSED, or SKIPPED where verification is switched off), and so are the same carrier's other requests.",
      }),
    ),
    createdAt: timestamp('Created'),
    updatedAt: timestamp('Last changed'),
  })
  .check(
    z.meta({ id: 'PortRequest', description: 'One port request: one losing-carrier account, one Twilio Port In.' }),
  );

/** 200 of GET port-requests. */
export const portRequestPageSchema = z
  .strictObject({
    items: z.array(portRequestViewSchema).check(z.meta({ description: 'Newest first.' })),
    nextCursor: z
      .optional(z.string())
      .check(z.meta({ description: 'Pass as `cursor` for the next page; absent on the last.' })),
  })
  .check(z.meta({ id: 'PortRequestPage', description: 'A page of port requests.' }));

export const timelineEventSchema = z
  .strictObject({
    at: timestamp('When it happened'),
    type: z.string().check(
      z.meta({
        description:
          'What happened: ORDER_ACCEPTED, STATUS_CHANGED, EMAIL_SENT (detail: the template), FOC_DATE_SET, ' +
          'FOC_DATE_CHANGED, NUMBERS_REJECTED, CORRECTION_RECEIVED, CANCELED_BY_CUSTOMER, NUMBERS_IMPORTED, ' +
          'EMAIL_DEAD_LETTERED (detail: the template SES refused for good), DELAYED (detail: the transient ' +
          'reason a step keeps failing for; once per delay, the port carries on when it clears), …',
      }),
    ),
    status: z.optional(portRequestStatusSchema),
    detail: z.optional(z.string()),
  })
  .check(z.meta({ id: 'TimelineEvent', description: 'One event of a port request.' }));

/** 200 of GET port-requests/{portRequestId}/events. */
export const portRequestEventsSchema = z
  .strictObject({ items: z.array(timelineEventSchema).check(z.meta({ description: 'Oldest first.' })) })
  .check(z.meta({ id: 'PortRequestEvents', description: 'The timeline of a port request.' }));

export const importableNumberSchema = z
  .strictObject({
    phoneNumber: e164,
    twilioSid: twilioSid('PN', 'The IncomingPhoneNumber'),
    friendlyName: z.string(),
    imported: z.boolean().check(z.meta({ description: 'Whether it is in the Ring Tonic inventory already.' })),
  })
  .check(z.meta({ id: 'ImportableNumber', description: 'A number of the Twilio account.' }));

/** 200 of GET importable-numbers. */
export const importableNumbersSchema = z
  .strictObject({ items: z.array(importableNumberSchema) })
  .check(z.meta({ id: 'ImportableNumbers', description: "The numbers in the account's Twilio account." }));

/** 200 of POST imports. */
export const importResultSchema = z
  .strictObject({
    imported: z.array(e164).check(z.meta({ description: 'Imported by this call.' })),
    alreadyImported: z.array(e164).check(z.meta({ description: 'In the inventory before this call.' })),
    notInTwilioAccount: z.array(e164).check(z.meta({ description: 'Not in the Twilio account: nothing done.' })),
  })
  .check(z.meta({ id: 'ImportResult', description: 'What became of each selected number.' }));

export const inventoryNumberSchema = z
  .strictObject({
    phoneNumber: e164,
    twilioSid: twilioSid('PN', 'The IncomingPhoneNumber'),
    source: z.enum(['PORTED', 'IMPORTED']),
    portRequestId: z.optional(resourceId('The port request that brought it in (PORTED).')),
    importedAt: timestamp('When it entered the inventory'),
  })
  .check(z.meta({ id: 'InventoryNumber', description: 'A number in the Ring Tonic inventory.' }));

/** 200 of GET inventory. */
export const inventorySchema = z
  .strictObject({ items: z.array(inventoryNumberSchema) })
  .check(z.meta({ id: 'Inventory', description: "The account's Ring Tonic inventory." }));

/** 200 of POST webhooks/twilio/{accountId}/port-in. */
export const webhookReceiptSchema = z
  .strictObject({ received: z.literal(true) })
  .check(z.meta({ id: 'WebhookReceipt', description: 'The event was verified and recorded.' }));

/** 200 of GET openapi.json: loose, since the OpenAPI validator checks the document itself. */
export const openApiDocumentSchema = z
  .looseObject({
    openapi: z.string().check(z.regex(/^3\.1\.\d+$/)),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .check(z.meta({ id: 'OpenApiDocument', description: 'This document.' }));

/** Every schema above that has an id, by id: the response components of the OpenAPI document. */
export const RESPONSE_COMPONENTS = {
  FieldError: fieldErrorSchema,
  Problem: problemSchema,
  PortRequestStatus: portRequestStatusSchema,
  PhoneNumberStatus: phoneNumberStatusSchema,
  NumberType: numberTypeSchema,
  PortRoute: portRouteSchema,
  TwilioConnection: twilioConnectionResponseSchema,
  PortabilityResult: portabilityResultSchema,
  PortabilityCheckResults: portabilityCheckResponseSchema,
  UploadedDocument: documentResponseSchema,
  DocumentUploadTicket: documentUploadTicketSchema,
  NotPortableNumber: notPortableNumberSchema,
  PortOrderPortRequest: portOrderPortRequestSchema,
  PortOrder: portOrderResponseSchema,
  LosingCarrierView: losingCarrierViewSchema,
  NumberVerification: numberVerificationSchema,
  PortRequestNumber: portRequestNumberSchema,
  PortRequest: portRequestViewSchema,
  PortRequestPage: portRequestPageSchema,
  TimelineEvent: timelineEventSchema,
  PortRequestEvents: portRequestEventsSchema,
  ImportableNumber: importableNumberSchema,
  ImportableNumbers: importableNumbersSchema,
  ImportResult: importResultSchema,
  InventoryNumber: inventoryNumberSchema,
  Inventory: inventorySchema,
  WebhookReceipt: webhookReceiptSchema,
  OpenApiDocument: openApiDocumentSchema,
} as const satisfies Record<string, z.ZodMiniType>;
