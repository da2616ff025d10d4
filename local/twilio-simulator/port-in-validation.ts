import { badRequest, isRecord } from './http';
import { classifyNumber } from './number-rules';
import type { SimulatorStore } from './state';

/** A number of a valid create body, with what the simulator decided it is. */
export interface ValidatedNumber {
  phoneNumber: string;
  pin: string | undefined;
  numberType: 'LOCAL' | 'MOBILE';
}

const REQUIRED_FIELDS = ['account_sid', 'documents', 'losing_carrier_information', 'phone_numbers'] as const;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const DOCUMENT_SID = /^RD[0-9a-fA-F]{32}$/;
const MAX_NUMBERS = 1000;
const MIN_DAYS_AHEAD = 7;

const camelCase = (snake: string) => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Checks a Port In create body the way the Porting API does; throws a 4xx SimError on the first problem. */
export function validatePortInCreate(
  body: Record<string, unknown>,
  accountSid: string,
  store: SimulatorStore,
): ValidatedNumber[] {
  for (const field of REQUIRED_FIELDS) {
    if (body[field] === undefined || body[field] === null) {
      // twilio-node's camelCase types lead to this mistake: say so, the way a helpful API would.
      const hint = camelCase(field) in body ? ` (found ${camelCase(field)}: the Porting API expects snake_case)` : '';
      throw badRequest(`Missing required parameter ${field}${hint}`);
    }
  }
  if (typeof body.account_sid !== 'string' || !ACCOUNT_SID.test(body.account_sid)) {
    throw badRequest('account_sid must be an Account SID (AC followed by 32 hex digits)');
  }
  if (body.account_sid !== accountSid) {
    throw badRequest(`account_sid ${body.account_sid} is not the authenticated account ${accountSid}`);
  }
  validateDocuments(body.documents, accountSid, store);
  validateLosingCarrier(body.losing_carrier_information);
  validateOptionalFields(body);
  return validatePhoneNumbers(body.phone_numbers, body.losing_carrier_information, accountSid, store);
}

function validateDocuments(documents: unknown, accountSid: string, store: SimulatorStore): void {
  if (!Array.isArray(documents) || documents.length === 0) {
    throw badRequest('documents must list at least one utility bill document sid (RD...)');
  }
  const uploaded = store.account(accountSid).documents;
  for (const sid of documents) {
    if (typeof sid !== 'string' || !DOCUMENT_SID.test(sid))
      throw badRequest(`documents: ${String(sid)} is not a RD sid`);
    if (!uploaded.has(sid)) throw badRequest(`documents: ${sid} was not found in this account`, 20404);
  }
}

function requireString(record: Record<string, unknown>, field: string, path: string): string {
  const value = record[field];
  if (typeof value !== 'string' || value.trim() === '') throw badRequest(`Missing required parameter ${path}.${field}`);
  return value;
}

function optionalString(record: Record<string, unknown>, field: string, path: string): void {
  const value = record[field];
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw badRequest(`${path}.${field} must be a string`);
  }
}

function validateLosingCarrier(value: unknown): void {
  const path = 'losing_carrier_information';
  if (!isRecord(value)) throw badRequest(`${path} must be an object`);
  requireString(value, 'customer_name', path);
  requireString(value, 'authorized_representative', path);
  const email = requireString(value, 'authorized_representative_email', path);
  if (!EMAIL.test(email)) throw badRequest(`${path}.authorized_representative_email is not an email address`);
  for (const field of ['account_number', 'account_telephone_number', 'address_sid']) optionalString(value, field, path);
  if (value.customer_type !== undefined && value.customer_type !== 'Business' && value.customer_type !== 'Individual') {
    throw badRequest(`${path}.customer_type must be Business or Individual`);
  }
  if (value.address === undefined && value.address_sid === undefined) {
    throw badRequest(`Missing required parameter ${path}.address (or ${path}.address_sid)`);
  }
  if (value.address !== undefined) {
    const address = value.address;
    if (!isRecord(address)) throw badRequest(`${path}.address must be an object`);
    for (const field of ['street', 'city', 'state', 'zip', 'country']) requireString(address, field, `${path}.address`);
    optionalString(address, 'street_2', `${path}.address`);
  }
}

function validateOptionalFields(body: Record<string, unknown>): void {
  const emails = body.notification_emails;
  if (emails !== undefined && emails !== null) {
    if (!Array.isArray(emails) || emails.some((e) => typeof e !== 'string' || !EMAIL.test(e))) {
      throw badRequest('notification_emails must be a list of email addresses');
    }
  }
  for (const field of ['target_port_in_time_range_start', 'target_port_in_time_range_end', 'bundle_sid']) {
    optionalString(body, field, 'body');
  }
  const date = body.target_port_in_date;
  if (date === undefined || date === null) return;
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
    throw badRequest('target_port_in_date must be a date YYYY-MM-DD');
  }
  const earliest = new Date(Date.now() + MIN_DAYS_AHEAD * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
  if (date < earliest) {
    throw badRequest(`target_port_in_date must be at least ${MIN_DAYS_AHEAD} days ahead (${earliest} or later)`);
  }
}

function validatePhoneNumbers(
  value: unknown,
  losingCarrier: unknown,
  accountSid: string,
  store: SimulatorStore,
): ValidatedNumber[] {
  if (!Array.isArray(value) || value.length === 0) throw badRequest('phone_numbers must list at least one number');
  if (value.length > MAX_NUMBERS) throw badRequest(`phone_numbers may list at most ${MAX_NUMBERS} numbers`);
  const entries = value.map((entry, index) => {
    if (!isRecord(entry) || typeof entry.phone_number !== 'string') {
      throw badRequest(`Missing required parameter phone_numbers[${index}].phone_number`);
    }
    if (entry.pin !== undefined && entry.pin !== null && typeof entry.pin !== 'string') {
      throw badRequest(`phone_numbers[${index}].pin must be a string`);
    }
    return { phoneNumber: entry.phone_number, pin: typeof entry.pin === 'string' ? entry.pin : undefined };
  });
  const classes = entries.map((e) => classifyNumber(e.phoneNumber));
  const nonUs = classes.filter((c) => c.kind === 'non-us').length;
  if (nonUs > 0) {
    throw nonUs === entries.length
      ? badRequest('Only US numbers can be ported through the Porting API', 22130)
      : badRequest('All phone numbers of a port in request must be in one country', 22172);
  }
  const seen = new Set<string>();
  const accountNumber = isRecord(losingCarrier) ? losingCarrier.account_number : undefined;
  return entries.map(({ phoneNumber, pin }, index) => {
    const where = `phone_numbers[${index}] ${phoneNumber}`;
    if (seen.has(phoneNumber)) throw badRequest(`${where} is listed twice`);
    seen.add(phoneNumber);
    const kind = classes[index]?.kind;
    if (kind === 'invalid') throw badRequest(`${where} is not a valid E.164 US number`, 22102);
    if (kind === 'toll-free') {
      throw badRequest(`${where} is toll-free: the Porting API cannot port it, manual porting available`, 22133);
    }
    if (kind === 'unsupported') throw badRequest(`${where} cannot be ported to Twilio`, 22130);
    if (store.findIncomingNumber(accountSid, phoneNumber)) {
      throw badRequest(`${where} is already in the target account`, 22131);
    }
    const holder = store.findOpenRequestHolding(phoneNumber);
    if (holder) throw badRequest(`${where} is already in port in request ${holder.sid}`, 22137);
    if (kind === 'mobile' && (!pin || typeof accountNumber !== 'string' || accountNumber === '')) {
      throw badRequest(
        `${where} is a mobile number: its pin and losing_carrier_information.account_number are required`,
      );
    }
    return { phoneNumber, pin, numberType: kind === 'mobile' ? 'MOBILE' : 'LOCAL' };
  });
}
