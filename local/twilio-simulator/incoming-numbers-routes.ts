import { badRequest, SimError, type SimResponse } from './http';
import { accountResource, incomingNumberResource } from './resources';
import type { RequestContext, Route, SimulatorParts } from './routing';
import type { IncomingNumber } from './state';

const AC = '(?<pathAccountSid>AC[0-9a-fA-F]{32})';
const PN = '(?<numberSid>PN[0-9a-fA-F]{32})';
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

type FieldKind = 'url' | 'method' | 'text' | 'boolean' | { sidPrefix: string } | { oneOf: readonly string[] };

/** The form parameters of an IncomingPhoneNumber update and the resource field each one sets. */
const UPDATABLE_FIELDS: Record<string, { field: string; kind: FieldKind }> = {
  FriendlyName: { field: 'friendly_name', kind: 'text' },
  ApiVersion: { field: 'api_version', kind: { oneOf: ['2010-04-01', '2008-08-01'] } },
  VoiceUrl: { field: 'voice_url', kind: 'url' },
  VoiceMethod: { field: 'voice_method', kind: 'method' },
  VoiceFallbackUrl: { field: 'voice_fallback_url', kind: 'url' },
  VoiceFallbackMethod: { field: 'voice_fallback_method', kind: 'method' },
  VoiceCallerIdLookup: { field: 'voice_caller_id_lookup', kind: 'boolean' },
  VoiceApplicationSid: { field: 'voice_application_sid', kind: { sidPrefix: 'AP' } },
  VoiceReceiveMode: { field: 'voice_receive_mode', kind: { oneOf: ['voice', 'fax'] } },
  StatusCallback: { field: 'status_callback', kind: 'url' },
  StatusCallbackMethod: { field: 'status_callback_method', kind: 'method' },
  SmsUrl: { field: 'sms_url', kind: 'url' },
  SmsMethod: { field: 'sms_method', kind: 'method' },
  SmsFallbackUrl: { field: 'sms_fallback_url', kind: 'url' },
  SmsFallbackMethod: { field: 'sms_fallback_method', kind: 'method' },
  SmsApplicationSid: { field: 'sms_application_sid', kind: { sidPrefix: 'AP' } },
  TrunkSid: { field: 'trunk_sid', kind: { sidPrefix: 'TK' } },
  IdentitySid: { field: 'identity_sid', kind: { sidPrefix: 'RI' } },
  AddressSid: { field: 'address_sid', kind: { sidPrefix: 'AD' } },
  EmergencyAddressSid: { field: 'emergency_address_sid', kind: { sidPrefix: 'AD' } },
  EmergencyStatus: { field: 'emergency_status', kind: { oneOf: ['Active', 'Inactive'] } },
  BundleSid: { field: 'bundle_sid', kind: { sidPrefix: 'BU' } },
};

/** Checks one form value; empty strings clear URL and sid fields, as in the real API. */
function fieldValue(name: string, raw: string, kind: FieldKind): string | boolean | null {
  const invalid = () => badRequest(`${name} is not valid: ${raw}`);
  if (kind === 'text') return raw;
  if (kind === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw invalid();
    return raw === 'true';
  }
  if (kind === 'method') {
    const method = raw.toUpperCase();
    if (method !== 'GET' && method !== 'POST') throw invalid();
    return method;
  }
  if (raw === '') return null;
  if (kind === 'url') {
    if (!/^https?:\/\//i.test(raw) || !URL.canParse(raw)) throw badRequest(`${name} is not a valid URL: ${raw}`, 21502);
    return raw;
  }
  if ('sidPrefix' in kind) {
    if (!new RegExp(`^${kind.sidPrefix}[0-9a-fA-F]{32}$`).test(raw)) throw invalid();
    return raw;
  }
  if (!kind.oneOf.includes(raw)) throw invalid();
  return raw;
}

/** The api.twilio.com 2010-04-01 routes: the account itself and its IncomingPhoneNumbers. */
export function incomingNumbersRoutes(parts: SimulatorParts): Route[] {
  const { store } = parts;

  // No subaccounts here: another account's path answers 404, as Twilio does for what you cannot see.
  function ownAccountSid(context: RequestContext): string {
    const pathAccountSid = context.params.pathAccountSid ?? '';
    if (pathAccountSid !== context.accountSid) {
      throw new SimError(404, 20404, `The requested resource /2010-04-01/Accounts/${pathAccountSid} was not found`);
    }
    return pathAccountSid;
  }

  function findNumber(context: RequestContext): IncomingNumber {
    const accountSid = ownAccountSid(context);
    const number = store.account(accountSid).incomingNumbers.get(context.params.numberSid ?? '');
    if (!number) {
      throw new SimError(
        404,
        20404,
        `The requested resource /2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers/${context.params.numberSid}.json was not found`,
      );
    }
    return number;
  }

  function listNumbers(context: RequestContext): SimResponse {
    const accountSid = ownAccountSid(context);
    const query = context.url.searchParams;
    const pageSize = query.has('PageSize') ? Number(query.get('PageSize')) : DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw badRequest(`PageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    }
    const page = query.has('Page') ? Number(query.get('Page')) : 0;
    if (!Number.isInteger(page) || page < 0) throw badRequest('Page must be a non-negative integer');
    const phoneFilter = query.get('PhoneNumber');
    const nameFilter = query.get('FriendlyName');
    const filterDigits = phoneFilter?.replace(/\D/g, '') ?? '';
    const matching = [...store.account(accountSid).incomingNumbers.values()]
      .filter((n) => !phoneFilter || n.phoneNumber.replace(/\D/g, '').includes(filterDigits))
      .filter((n) => !nameFilter || incomingNumberResource(n).friendly_name === nameFilter)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.sid.localeCompare(b.sid));
    // PageToken "PA<sid>" means "after that number", so pages stay stable while numbers are added.
    const token = query.get('PageToken');
    let start = page * pageSize;
    if (token) {
      const after = matching.findIndex((n) => `PA${n.sid}` === token);
      if (after < 0) throw badRequest(`PageToken ${token} is not valid`);
      start = after + 1;
    }
    const items = matching.slice(start, start + pageSize);
    const basePath = `/2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers.json`;
    const pageUri = (pageNumber: number, pageToken?: string) => {
      const params = new URLSearchParams();
      if (phoneFilter) params.set('PhoneNumber', phoneFilter);
      if (nameFilter) params.set('FriendlyName', nameFilter);
      params.set('PageSize', String(pageSize));
      params.set('Page', String(pageNumber));
      if (pageToken) params.set('PageToken', pageToken);
      return `${basePath}?${params}`;
    };
    const last = items.at(-1);
    const hasNext = last !== undefined && start + pageSize < matching.length;
    return {
      status: 200,
      body: {
        first_page_uri: pageUri(0),
        end: start + Math.max(items.length - 1, 0),
        previous_page_uri: page > 0 ? pageUri(page - 1) : null,
        incoming_phone_numbers: items.map(incomingNumberResource),
        uri: pageUri(page, token ?? undefined),
        page_size: pageSize,
        start,
        next_page_uri: hasNext ? pageUri(page + 1, `PA${last.sid}`) : null,
        page,
      },
    };
  }

  function updateNumber(context: RequestContext): SimResponse {
    const number = findNumber(context);
    const form = new URLSearchParams(context.body.toString('utf8'));
    const accountSidParameter = form.get('AccountSid');
    if (accountSidParameter !== null && accountSidParameter !== number.accountSid) {
      throw badRequest('Moving a number to another account is not supported by the simulator');
    }
    const changes: Record<string, string | boolean | null> = {};
    for (const [name, raw] of form) {
      const definition = UPDATABLE_FIELDS[name];
      if (definition) changes[definition.field] = fieldValue(name, raw, definition.kind);
    }
    Object.assign(number.settings, changes);
    number.updatedAt = new Date();
    return { status: 200, body: incomingNumberResource(number) };
  }

  return [
    {
      method: 'GET',
      path: new RegExp(`^/2010-04-01/Accounts/${AC}\\.json$`),
      authenticated: true,
      operation: 'fetchAccount',
      handle: (context) => ({ status: 200, body: accountResource(store.account(ownAccountSid(context))) }),
    },
    {
      method: 'GET',
      path: new RegExp(`^/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers\\.json$`),
      authenticated: true,
      operation: 'listIncomingPhoneNumbers',
      handle: listNumbers,
    },
    {
      method: 'GET',
      path: new RegExp(`^/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers/${PN}\\.json$`),
      authenticated: true,
      operation: 'fetchIncomingPhoneNumber',
      handle: (context) => ({ status: 200, body: incomingNumberResource(findNumber(context)) }),
    },
    {
      method: 'POST',
      path: new RegExp(`^/2010-04-01/Accounts/${AC}/IncomingPhoneNumbers/${PN}\\.json$`),
      authenticated: true,
      operation: 'updateIncomingPhoneNumber',
      handle: updateNumber,
    },
  ];
}
