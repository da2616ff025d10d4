import { randomBytes } from 'node:crypto';

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
