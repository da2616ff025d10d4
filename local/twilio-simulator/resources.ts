import { isoDateTime, isRecord, rfc2822 } from './http';
import { friendlyUsNumber } from './number-rules';
import type {
  Account,
  IncomingNumber,
  PortInNumber,
  PortInRequest,
  SimulatedCall,
  UploadedDocument,
  WebhookConfiguration,
} from './state';

// Resources carry Twilio's real absolute URLs; the client's base URL rewrite maps them back here.
const NUMBERS_BASE = 'https://numbers.twilio.com/v1';
const UPLOAD_BASE = 'https://numbers-upload.twilio.com/v1';

/** The `numbers.v1.porting_port_in` representation. */
export function portInResource(request: PortInRequest) {
  const body = request.requestBody;
  return {
    port_in_request_sid: request.sid,
    url: `${NUMBERS_BASE}/Porting/PortIn/${request.sid}`,
    account_sid: request.accountSid,
    notification_emails: stringArrayOrNull(body.notification_emails),
    target_port_in_date: stringOrNull(body.target_port_in_date),
    target_port_in_time_range_start: stringOrNull(body.target_port_in_time_range_start),
    target_port_in_time_range_end: stringOrNull(body.target_port_in_time_range_end),
    port_in_request_status: request.status,
    order_cancellation_reason: null,
    losing_carrier_information: losingCarrierEcho(body.losing_carrier_information),
    phone_numbers: request.numbers.map(portInNumberResult),
    bundle_sid: stringOrNull(body.bundle_sid),
    portability_advance_carrier: null,
    auto_cancel_approval_numbers: null,
    documents: stringArrayOrNull(body.documents),
    date_created: isoDateTime(request.createdAt),
    support_ticket_id: request.supportTicketId,
    signature_request_url: null,
  };
}

function portInNumberResult(number: PortInNumber) {
  return {
    phone_number: number.phoneNumber,
    port_in_phone_number_sid: number.sid,
    port_in_phone_number_status: number.status,
    number_type: number.numberType,
    portable: true,
    not_portability_reason: null,
    not_portability_reason_code: null,
    port_date: number.portDate,
    rejection_reason: number.rejectionReason,
    rejection_reason_code: null,
    status_last_time_updated_timestamp: isoDateTime(number.updatedAt),
    external_porting_vendor_phone_number_id: null,
  };
}

/** The `numbers.v1.porting_port_in_phone_number` representation. */
export function portInPhoneNumberResource(request: PortInRequest, number: PortInNumber) {
  return {
    port_in_request_sid: request.sid,
    phone_number_sid: number.sid,
    url: `${NUMBERS_BASE}/Porting/PortIn/${request.sid}/PhoneNumber/${number.sid}`,
    account_sid: request.accountSid,
    phone_number_type: number.numberType,
    date_created: isoDateTime(number.createdAt),
    country: 'US',
    missing_required_fields: false,
    last_updated: isoDateTime(number.updatedAt),
    phone_number: number.phoneNumber,
    portable: true,
    not_portability_reason: null,
    not_portability_reason_code: null,
    port_in_phone_number_status: number.status,
    // The real API answers the PIN as an integer (leading zeros lost), and twilio-node parses it so.
    port_out_pin: number.pin && /^\d{1,15}$/.test(number.pin) ? Number.parseInt(number.pin, 10) : null,
    rejection_reason: number.rejectionReason,
    rejection_reason_code: null,
    port_date: number.portDate,
  };
}

/** One `numbers.v1.port_in_request_list` item. */
export function portInListItem(request: PortInRequest) {
  const suggestedActions: Partial<Record<PortInRequest['status'], string>> = {
    'Waiting for Signature': 'Sign the Letter of Authorization sent to the authorized representative',
    'Action Required': 'Correct the rejected phone numbers and submit them again',
  };
  return {
    port_in_request_sid: request.sid,
    port_in_request_status: request.status,
    status_last_updated_timestamp: isoDateTime(request.updatedAt),
    phone_numbers_requested: request.numbers.length,
    phone_numbers_ported: request.numbers.filter((n) => n.status === 'completed').length,
    suggested_action: suggestedActions[request.status] ?? null,
  };
}

/** The `api.v2010.account.incoming_phone_number` representation. */
export function incomingNumberResource(number: IncomingNumber) {
  return {
    account_sid: number.accountSid,
    address_sid: null,
    address_requirements: 'none',
    api_version: '2010-04-01',
    beta: false,
    capabilities: { voice: true, sms: true, mms: true, fax: false },
    date_created: rfc2822(number.createdAt),
    date_updated: rfc2822(number.updatedAt),
    friendly_name: friendlyUsNumber(number.phoneNumber),
    identity_sid: null,
    phone_number: number.phoneNumber,
    origin: 'twilio',
    sid: number.sid,
    sms_application_sid: null,
    sms_fallback_method: 'POST',
    sms_fallback_url: null,
    sms_method: 'POST',
    sms_url: null,
    status_callback: null,
    status_callback_method: 'POST',
    trunk_sid: null,
    uri: `/2010-04-01/Accounts/${number.accountSid}/IncomingPhoneNumbers/${number.sid}.json`,
    voice_receive_mode: 'voice',
    voice_application_sid: null,
    voice_caller_id_lookup: false,
    voice_fallback_method: 'POST',
    voice_fallback_url: null,
    voice_method: 'POST',
    voice_url: null,
    emergency_status: 'Inactive',
    emergency_address_sid: null,
    emergency_address_status: 'unregistered',
    bundle_sid: null,
    status: 'in-use',
    type: 'local',
    ...number.settings,
  };
}

const CALL_SUBRESOURCES = {
  notifications: 'Notifications',
  recordings: 'Recordings',
  payments: 'Payments',
  events: 'Events',
  siprec: 'Siprec',
  streams: 'Streams',
  transcriptions: 'Transcriptions',
  user_defined_message_subscriptions: 'UserDefinedMessageSubscriptions',
  user_defined_messages: 'UserDefinedMessages',
};

/** Whole seconds between answer and end, as Twilio writes `duration`; null for a call never answered or not over. */
export function callDurationSeconds(call: SimulatedCall): number | null {
  if (!call.answerTime || !call.endTime) return null;
  return Math.max(0, Math.round((call.endTime.getTime() - call.answerTime.getTime()) / 1000));
}

/** The `api.v2010.account.call` representation. */
export function callResource(call: SimulatedCall) {
  const uri = `/2010-04-01/Accounts/${call.accountSid}/Calls/${call.sid}`;
  const duration = callDurationSeconds(call);
  return {
    sid: call.sid,
    date_created: rfc2822(call.createdAt),
    date_updated: rfc2822(call.updatedAt),
    // The inbound leg of a PSTN call is a call of its own, not a child of the outbound one.
    parent_call_sid: null,
    account_sid: call.accountSid,
    to: call.to,
    to_formatted: friendlyUsNumber(call.to),
    from: call.from,
    from_formatted: friendlyUsNumber(call.from),
    phone_number_sid: call.phoneNumberSid,
    status: call.status,
    start_time: call.startTime ? rfc2822(call.startTime) : null,
    // "Empty if the call did not complete successfully", and for a call not over yet.
    end_time: call.endTime && call.answerTime ? rfc2822(call.endTime) : null,
    duration: duration === null ? null : String(duration),
    // Twilio fills the price in some time after the call; the simulator never does.
    price: null,
    price_unit: 'USD',
    direction: call.direction,
    answered_by: null,
    api_version: '2010-04-01',
    forwarded_from: null,
    group_sid: null,
    caller_name: null,
    queue_time: '0',
    trunk_sid: null,
    uri: `${uri}.json`,
    subresource_uris: Object.fromEntries(
      Object.entries(CALL_SUBRESOURCES).map(([key, name]) => [key, `${uri}/${name}.json`]),
    ),
  };
}

/** The `api.v2010.account` representation. */
export function accountResource(account: Account) {
  const base = `/2010-04-01/Accounts/${account.sid}`;
  return {
    auth_token: account.authToken ?? null,
    date_created: rfc2822(account.createdAt),
    date_updated: rfc2822(account.createdAt),
    friendly_name: `Simulated account ${account.sid}`,
    owner_account_sid: account.sid,
    sid: account.sid,
    status: 'active',
    subresource_uris: {
      incoming_phone_numbers: `${base}/IncomingPhoneNumbers.json`,
      calls: `${base}/Calls.json`,
    },
    type: 'Full',
    uri: `${base}.json`,
  };
}

/** The upload answer (not in the spec; shaped like Twilio's other document resources). */
export function documentResource(document: UploadedDocument) {
  return {
    sid: document.sid,
    account_sid: document.accountSid,
    friendly_name: document.friendlyName,
    document_type: document.documentType,
    mime_type: document.mimeType,
    size: document.size,
    status: 'uploaded',
    date_created: isoDateTime(document.createdAt),
    date_updated: isoDateTime(document.createdAt),
    url: `${UPLOAD_BASE}/Documents/${document.sid}`,
  };
}

/** The `numbers.v1.porting_webhook_configuration(_fetch)` representation. */
export function webhookConfigurationResource(configuration: WebhookConfiguration | undefined, withDates: boolean) {
  return {
    url: `${NUMBERS_BASE}/Porting/Configuration/Webhook`,
    port_in_target_url: configuration?.portInTargetUrl ?? null,
    port_out_target_url: configuration?.portOutTargetUrl ?? null,
    notifications_of: configuration ? [...configuration.notificationsOf] : null,
    ...(withDates
      ? {
          port_in_target_date_created: dateOrNull(configuration?.portInDateCreated),
          port_out_target_date_created: dateOrNull(configuration?.portOutDateCreated),
        }
      : {}),
  };
}

function dateOrNull(date: Date | null | undefined): string | null {
  return date ? isoDateTime(date) : null;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function stringArrayOrNull(value: unknown): string[] | null {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : null;
}

const LOSING_CARRIER_FIELDS = [
  'customer_type',
  'customer_name',
  'account_number',
  'account_telephone_number',
  'address_sid',
  'authorized_representative',
  'authorized_representative_email',
];
const ADDRESS_FIELDS = ['street', 'street_2', 'city', 'state', 'zip', 'country'];

/** The submitted losing carrier fields that the response schema knows, strings only (nulls left out). */
function losingCarrierEcho(value: unknown) {
  if (!isRecord(value)) return null;
  const echo: Record<string, unknown> = pickStrings(value, LOSING_CARRIER_FIELDS);
  if (isRecord(value.address)) echo.address = pickStrings(value.address, ADDRESS_FIELDS);
  return echo;
}

function pickStrings(source: Record<string, unknown>, fields: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const field of fields) {
    const value = source[field];
    if (typeof value === 'string') picked[field] = value;
  }
  return picked;
}
