import { badRequest, mediaType, parseJsonObject, SimError, type SimResponse } from './http';
import { multipartBoundary, parseMultipart } from './multipart';
import { classifyNumber, isE164 } from './number-rules';
import { normaliseRequestStatus } from './port-in-lifecycle';
import { validatePortInCreate } from './port-in-validation';
import {
  documentResource,
  portInListItem,
  portInPhoneNumberResource,
  portInResource,
  webhookConfigurationResource,
} from './resources';
import type { RequestContext, Route, SimulatorParts } from './routing';
import { CLOSED_REQUEST_STATUSES, newSid, type PortInRequest, type WebhookConfiguration } from './state';

const KW = '(?<portInSid>KW[0-9a-fA-F]{32})';
const PU = '(?<phoneNumberSid>PU[0-9a-fA-F]{32})';

/** The numbers.twilio.com v1 Porting routes and the numbers-upload Documents route. */
export function portingRoutes(parts: SimulatorParts): Route[] {
  const { store, lifecycle, autoAdvancer } = parts;

  function findPortIn(context: RequestContext): PortInRequest {
    const request = store.portIns.get(context.params.portInSid ?? '');
    if (!request || request.accountSid !== context.accountSid) {
      throw new SimError(
        404,
        20404,
        `The requested resource /Porting/PortIn/${context.params.portInSid} was not found`,
      );
    }
    return request;
  }

  function findNumber(context: RequestContext) {
    const request = findPortIn(context);
    const number = request.numbers.find((n) => n.sid === context.params.phoneNumberSid);
    if (!number) {
      throw new SimError(404, 20404, `Phone number ${context.params.phoneNumberSid} is not in ${request.sid}`);
    }
    return { request, number };
  }

  function createPortIn(context: RequestContext): SimResponse {
    if (mediaType(context.headers['content-type']) !== 'application/json') {
      throw badRequest('The Porting API expects a JSON body (Content-Type: application/json)');
    }
    const body = parseJsonObject(context.body);
    const numbers = validatePortInCreate(body, context.accountSid, store);
    const now = new Date();
    const request: PortInRequest = {
      sid: newSid('KW'),
      accountSid: context.accountSid,
      sequence: store.nextSequence(),
      createdAt: now,
      updatedAt: now,
      supportTicketId: 100000 + store.portIns.size + 1,
      rawRequestBody: context.body.toString('utf8'),
      requestBody: body,
      status: 'In Review',
      numbers: numbers.map((n) => ({
        sid: newSid('PU'),
        phoneNumber: n.phoneNumber,
        numberType: n.numberType,
        pin: n.pin,
        createdAt: now,
        updatedAt: now,
        status: 'in_review',
        portDate: null,
        rejectionReason: null,
      })),
    };
    store.portIns.set(request.sid, request);
    autoAdvancer.start(request);
    return { status: 202, body: portInResource(request) };
  }

  function cancelPortIn(context: RequestContext): SimResponse {
    const request = findPortIn(context);
    if (CLOSED_REQUEST_STATUSES.includes(request.status)) {
      throw badRequest(`Port in request ${request.sid} is ${request.status} and cannot be canceled`);
    }
    autoAdvancer.stop(request);
    lifecycle.change(request, { status: 'Canceled' });
    return { status: 204 };
  }

  function listPortIns(context: RequestContext): SimResponse {
    const query = context.url.searchParams;
    const size = query.has('Size') ? Number(query.get('Size')) : 20;
    if (!Number.isInteger(size) || size < 1 || size > 100) throw badRequest('Size must be an integer from 1 to 100');
    const statusFilter = query.get('PortInRequestStatus');
    const wantedStatus = statusFilter ? normaliseRequestStatus(statusFilter) : undefined;
    const createdBefore = dateParameter(query.get('CreatedBefore'), 'CreatedBefore');
    const createdAfter = dateParameter(query.get('CreatedAfter'), 'CreatedAfter');
    const sidFilter = query.get('PortInRequestSid');
    const matching = [...store.portIns.values()]
      .filter((r) => r.accountSid === context.accountSid)
      .filter((r) => !sidFilter || r.sid === sidFilter)
      .filter((r) => !statusFilter || r.status === wantedStatus)
      .filter((r) => createdBefore === undefined || r.createdAt.getTime() < createdBefore)
      .filter((r) => createdAfter === undefined || r.createdAt.getTime() >= createdAfter)
      .sort((a, b) => b.sequence - a.sequence);
    // Tokens are the sid of a page's first request, like the spec's example next_token.
    const token = query.get('Token');
    const start = token ? matching.findIndex((r) => r.sid === token) : 0;
    if (start < 0) throw badRequest(`Token ${token} is not a valid page token`);
    const page = matching.slice(start, start + size);
    return {
      status: 200,
      body: {
        port_in_requests: page.map(portInListItem),
        meta: {
          previous_token: start > 0 ? (matching[Math.max(0, start - size)]?.sid ?? null) : null,
          next_token: matching[start + size]?.sid ?? null,
        },
      },
    };
  }

  function cancelPortInNumber(context: RequestContext): SimResponse {
    const { request, number } = findNumber(context);
    if (CLOSED_REQUEST_STATUSES.includes(request.status) || number.status === 'completed') {
      throw badRequest(`Phone number ${number.sid} is ${number.status} and cannot be canceled`);
    }
    const remaining = request.numbers.filter((n) => n !== number && n.status !== 'canceled');
    lifecycle.change(request, {
      numbers: new Map([[number.phoneNumber, { status: 'canceled' }]]),
      ...(remaining.length === 0 ? { status: 'Canceled' } : {}),
    });
    if (remaining.length === 0) autoAdvancer.stop(request);
    return { status: 204 };
  }

  function fetchPortability(context: RequestContext): SimResponse {
    const phoneNumber = context.params.phoneNumber ?? '';
    const targetAccountSid = context.url.searchParams.get('TargetAccountSid') ?? context.accountSid;
    if (!/^AC[0-9a-fA-F]{32}$/.test(targetAccountSid)) throw badRequest('TargetAccountSid is not an Account SID');
    const notPortable = (numberType: string, code: number, reason: string, country: string | null = 'US') => ({
      portable: false,
      pin_and_account_number_required: false,
      not_portable_reason: reason,
      not_portable_reason_code: code,
      number_type: numberType,
      country,
    });
    const kind = classifyNumber(phoneNumber).kind;
    const inTarget = kind !== 'invalid' && store.findIncomingNumber(targetAccountSid, phoneNumber);
    const portable = { portable: true, not_portable_reason: null, not_portable_reason_code: null, country: 'US' };
    const verdicts = {
      invalid: () => notPortable('UNKNOWN', 22102, 'INVALID_PHONE_NUMBER', null),
      'non-us': () => notPortable('UNKNOWN', 22130, 'UNSUPPORTED', null),
      'toll-free': () => notPortable('TOLL-FREE', 22133, 'MANUAL_PORTING_AVAILABLE'),
      unsupported: () => notPortable('LOCAL', 22130, 'UNSUPPORTED'),
      mobile: () => ({ ...portable, pin_and_account_number_required: true, number_type: 'MOBILE' }),
      local: () => ({ ...portable, pin_and_account_number_required: false, number_type: 'LOCAL' }),
    };
    const verdict =
      inTarget && kind !== 'toll-free'
        ? notPortable(kind === 'mobile' ? 'MOBILE' : 'LOCAL', 22131, 'ALREADY_IN_THE_TARGET_ACCOUNT')
        : verdicts[kind]();
    return {
      status: 200,
      body: {
        phone_number: isE164(phoneNumber) ? phoneNumber : null,
        account_sid: inTarget ? targetAccountSid : null,
        ...verdict,
        url: `https://numbers.twilio.com/v1/Porting/Portability/PhoneNumber/${encodeURI(phoneNumber)}`,
      },
    };
  }

  function configureWebhook(context: RequestContext): SimResponse {
    const fields = webhookConfigurationFields(context);
    const account = store.account(context.accountSid);
    const now = new Date();
    const configuration: WebhookConfiguration = account.webhookConfiguration ?? {
      portInTargetUrl: null,
      portOutTargetUrl: null,
      notificationsOf: [],
      portInDateCreated: null,
      portOutDateCreated: null,
    };
    if (fields.portInTargetUrl !== undefined) {
      configuration.portInTargetUrl = fields.portInTargetUrl;
      configuration.portInDateCreated = fields.portInTargetUrl ? now : null;
    }
    if (fields.portOutTargetUrl !== undefined) {
      configuration.portOutTargetUrl = fields.portOutTargetUrl;
      configuration.portOutDateCreated = fields.portOutTargetUrl ? now : null;
    }
    if (fields.notificationsOf !== undefined) configuration.notificationsOf = fields.notificationsOf;
    account.webhookConfiguration = configuration;
    return { status: 201, body: webhookConfigurationResource(configuration, false) };
  }

  function uploadDocument(context: RequestContext): SimResponse {
    const contentType = context.headers['content-type'];
    const boundary = multipartBoundary(contentType);
    if (mediaType(contentType) !== 'multipart/form-data' || !boundary) {
      throw badRequest('Documents are uploaded as multipart/form-data');
    }
    const parts = parseMultipart(context.body, boundary);
    if (!parts) throw badRequest('The multipart body is malformed');
    const field = (name: string) => parts.find((p) => p.name === name && p.fileName === undefined)?.data.toString();
    const documentType = field('document_type');
    if (documentType !== 'utility_bill') {
      throw badRequest(`document_type must be utility_bill (got ${documentType ?? 'nothing'})`);
    }
    const file = parts.find((p) => p.name === 'File');
    if (!file || file.data.length === 0) throw badRequest('Missing required parameter File');
    const mimeType = mediaType(file.contentType);
    if (!['application/pdf', 'image/png', 'image/jpeg'].includes(mimeType)) {
      throw badRequest(`File must be a PDF, PNG or JPEG (got ${mimeType || 'no content type'})`);
    }
    const document = {
      sid: newSid('RD'),
      accountSid: context.accountSid,
      friendlyName: field('friendly_name') ?? file.fileName ?? 'utility bill',
      documentType,
      mimeType,
      fileName: file.fileName ?? 'document',
      size: file.data.length,
      createdAt: new Date(),
    };
    store.account(context.accountSid).documents.set(document.sid, document);
    return { status: 201, body: documentResource(document) };
  }

  return [
    {
      method: 'POST',
      path: /^\/v1\/Porting\/PortIn$/,
      authenticated: true,
      operation: 'createPortIn',
      handle: createPortIn,
    },
    {
      method: 'GET',
      path: /^\/v1\/Porting\/PortIn\/PortInRequests$/,
      authenticated: true,
      operation: 'listPortIns',
      handle: listPortIns,
    },
    {
      method: 'GET',
      path: new RegExp(`^/v1/Porting/PortIn/${KW}$`),
      authenticated: true,
      operation: 'fetchPortIn',
      handle: (context) => ({ status: 200, body: portInResource(findPortIn(context)) }),
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/v1/Porting/PortIn/${KW}$`),
      authenticated: true,
      operation: 'cancelPortIn',
      handle: cancelPortIn,
    },
    {
      method: 'GET',
      path: new RegExp(`^/v1/Porting/PortIn/${KW}/PhoneNumber/${PU}$`),
      authenticated: true,
      operation: 'fetchPortInPhoneNumber',
      handle: (context) => {
        const { request, number } = findNumber(context);
        return { status: 200, body: portInPhoneNumberResource(request, number) };
      },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/v1/Porting/PortIn/${KW}/PhoneNumber/${PU}$`),
      authenticated: true,
      operation: 'cancelPortInPhoneNumber',
      handle: cancelPortInNumber,
    },
    {
      method: 'GET',
      path: /^\/v1\/Porting\/Portability\/PhoneNumber\/(?<phoneNumber>[^/]+)$/,
      authenticated: true,
      operation: 'fetchPortability',
      handle: fetchPortability,
    },
    {
      method: 'POST',
      path: /^\/v1\/Porting\/Configuration\/Webhook$/,
      authenticated: true,
      operation: 'configureWebhook',
      handle: configureWebhook,
    },
    {
      method: 'GET',
      path: /^\/v1\/Porting\/Configuration\/Webhook$/,
      authenticated: true,
      operation: 'fetchWebhookConfiguration',
      handle: (context) => ({
        status: 200,
        body: webhookConfigurationResource(store.account(context.accountSid).webhookConfiguration, true),
      }),
    },
    {
      method: 'POST',
      path: /^\/v1\/Documents$/,
      authenticated: true,
      operation: 'uploadDocument',
      handle: uploadDocument,
    },
  ];
}

function dateParameter(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw badRequest(`${name} must be a date`);
  return time;
}

const WEBHOOK_FIELDS = ['port_in_target_url', 'port_out_target_url', 'notifications_of'];
const EVENT_NAME = /^Port(In|Out)[A-Za-z]+$/;

/** Reads the configuration from JSON (what twilio-node sends) or a form (notifications_of repeated). */
function webhookConfigurationFields(context: RequestContext): {
  portInTargetUrl?: string | null;
  portOutTargetUrl?: string | null;
  notificationsOf?: string[];
} {
  let values: Record<string, unknown>;
  if (mediaType(context.headers['content-type']) === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(context.body.toString('utf8'));
    values = {};
    for (const key of new Set(form.keys())) values[key] = key === 'notifications_of' ? form.getAll(key) : form.get(key);
  } else {
    values = context.body.length > 0 ? parseJsonObject(context.body) : {};
  }
  const unknown = Object.keys(values).filter((key) => !WEBHOOK_FIELDS.includes(key));
  if (unknown.length > 0)
    throw badRequest(`Unknown parameter ${unknown.join(', ')} (expected ${WEBHOOK_FIELDS.join(', ')})`);
  if (values.port_in_target_url === undefined && values.port_out_target_url === undefined) {
    throw badRequest('Missing required parameter port_in_target_url or port_out_target_url');
  }
  const url = (name: string): string | null | undefined => {
    const value = values[name];
    if (value === undefined) return undefined;
    if (value === null || value === '') return null;
    if (typeof value !== 'string' || !/^https?:\/\/[^\s]+$/i.test(value) || !URL.canParse(value)) {
      throw badRequest(`${name} must be an http(s) URL`, 21609);
    }
    return value;
  };
  let notificationsOf: string[] | undefined;
  const rawEvents = values.notifications_of;
  if (rawEvents !== undefined && rawEvents !== null) {
    const list = Array.isArray(rawEvents) ? rawEvents : [rawEvents];
    if (!list.every((e): e is string => typeof e === 'string' && EVENT_NAME.test(e))) {
      throw badRequest('notifications_of must list porting event names such as PortInCompleted');
    }
    notificationsOf = list;
  }
  return {
    ...(url('port_in_target_url') !== undefined ? { portInTargetUrl: url('port_in_target_url') } : {}),
    ...(url('port_out_target_url') !== undefined ? { portOutTargetUrl: url('port_out_target_url') } : {}),
    ...(notificationsOf ? { notificationsOf } : {}),
  };
}
