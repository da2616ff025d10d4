import { randomBytes } from 'node:crypto';
import type { PortRequest } from '../../lambdas/domain/port-request';

/** A fresh Ring Tonic account id and Twilio credentials, so tests never share state. */
export function newAccount() {
  return {
    accountId: `acct-${randomBytes(4).toString('hex')}`,
    accountSid: `AC${randomBytes(16).toString('hex')}`,
    authToken: randomBytes(16).toString('hex'),
  };
}

export const address = {
  street: '1 Main St',
  street2: 'Suite 2',
  city: 'San Francisco',
  state: 'CA',
  zip: '94105',
  country: 'US',
};

/** A losing carrier as the main product sends it, with the given numbers. */
export function losingCarrier(
  name: string,
  utilityBillDocumentSid: string,
  phoneNumbers: unknown[],
  extra: object = {},
) {
  return {
    name,
    customerType: 'Business',
    customerName: 'Acme Plumbing LLC',
    accountNumber: '5551234',
    accountTelephoneNumber: '+14155550100',
    authorizedRepresentative: 'Jane Doe',
    authorizedRepresentativeEmail: 'jane@acme.example',
    address,
    utilityBillDocumentSid,
    phoneNumbers,
    ...extra,
  };
}

export const attestations = { currentServiceActiveAndPaid: true, keepCurrentServiceUntilComplete: true };

/** The smallest PDF-looking utility bill, base64. */
export const utilityBillBase64 = Buffer.from('%PDF-1.4\n% utility bill for tests\n%%EOF\n').toString('base64');

/** A submitted two-number port request, as the domain unit tests start from. */
export function samplePortRequest(overrides: Partial<PortRequest> = {}): PortRequest {
  return {
    accountId: 'acme',
    portRequestId: 'pr_1',
    orderId: 'ord_1',
    status: 'IN_REVIEW',
    route: 'API',
    losingCarrier: {
      name: 'CallRail',
      customerName: 'Acme',
      authorizedRepresentative: 'Jane',
      authorizedRepresentativeEmail: 'jane@acme.example',
      address: { street: '1 Main', city: 'SF', state: 'CA', zip: '94105', country: 'US' },
    },
    phoneNumbers: [
      { phoneNumber: '+14155550100', numberType: 'LOCAL', status: 'PENDING', imported: false },
      { phoneNumber: '+14155550101', numberType: 'LOCAL', status: 'PENDING', imported: false },
    ],
    notificationEmails: ['owner@acme.example'],
    twilioAccountSid: `AC${'0'.repeat(32)}`,
    twilioPortInRequestSid: `KW${'0'.repeat(32)}`,
    events: [],
    outbox: [],
    createdAt: '2026-11-02T10:00:00.000Z',
    updatedAt: '2026-11-02T10:00:00.000Z',
    version: 1,
    ...overrides,
  };
}

/** A PDF of exactly `sizeBytes` bytes (a PDF header, padding, an end marker), for the upload tests. */
export function pdfOfSize(sizeBytes: number): Buffer {
  const head = Buffer.from('%PDF-1.4\n% utility bill for tests\n');
  const tail = Buffer.from('\n%%EOF\n');
  return Buffer.concat([head, Buffer.alloc(Math.max(0, sizeBytes - head.length - tail.length), 0x20), tail]).subarray(
    0,
    sizeBytes,
  );
}

/** A PNG's first bytes then padding: a file that is not a PDF whatever it is called. */
export function pngOfSize(sizeBytes: number): Buffer {
  const head = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([head, Buffer.alloc(Math.max(0, sizeBytes - head.length))]).subarray(0, sizeBytes);
}
