import { badRequest, isoDateTime, isRecord, parseJsonObject, SimError, type SimResponse } from './http';
import { isE164 } from './number-rules';
import { type NumberChange, normaliseNumberStatus, normaliseRequestStatus } from './port-in-lifecycle';
import { incomingNumberResource, portInResource } from './resources';
import type { RequestContext, Route, SimulatorParts } from './routing';
import { type IncomingNumber, newSid, OPERATIONS, type OperationName, type PortInRequest } from './state';
import type { WebhookMode } from './webhooks';

const WEBHOOK_MODES: readonly WebhookMode[] = ['deliver', 'drop', 'duplicate'];

/**
 * The `/_sim/port-ins` view of a request: the create body as received (parsed and raw) and its current state.
 * Keys stay apart from the create body's: tests search this JSON for what the client sent.
 */
function controlView(request: PortInRequest) {
  return {
    sid: request.sid,
    accountSid: request.accountSid,
    status: request.status,
    createdAt: isoDateTime(request.createdAt),
    updatedAt: isoDateTime(request.updatedAt),
    createBody: request.requestBody,
    rawCreateBody: request.rawRequestBody,
    numbers: request.numbers.map((n) => ({
      sid: n.sid,
      phoneNumber: n.phoneNumber,
      status: n.status,
      focDate: n.portDate,
      rejectionReason: n.rejectionReason,
    })),
    resource: portInResource(request),
  };
}

/** Parses `{ "+1…": { status, focDate, rejectionReason } }` of the status control route. */
function numberChanges(request: PortInRequest, raw: unknown): Map<string, NumberChange> {
  const changes = new Map<string, NumberChange>();
  if (raw === undefined) return changes;
  if (!isRecord(raw)) throw badRequest('phoneNumbers must be an object keyed by E.164 number');
  for (const [phoneNumber, value] of Object.entries(raw)) {
    if (!request.numbers.some((n) => n.phoneNumber === phoneNumber)) {
      throw badRequest(`${phoneNumber} is not in ${request.sid}`);
    }
    if (!isRecord(value)) throw badRequest(`phoneNumbers["${phoneNumber}"] must be an object`);
    const change: NumberChange = {};
    if (value.status !== undefined) {
      const status = typeof value.status === 'string' ? normaliseNumberStatus(value.status) : undefined;
      if (!status) throw badRequest(`Unknown phone number status ${String(value.status)}`);
      change.status = status;
    }
    if (value.focDate !== undefined) change.portDate = toPortDate(value.focDate);
    if (value.rejectionReason !== undefined) {
      if (value.rejectionReason !== null && typeof value.rejectionReason !== 'string') {
        throw badRequest('rejectionReason must be a string');
      }
      change.rejectionReason = value.rejectionReason;
    }
    changes.set(phoneNumber, change);
  }
  return changes;
}

/** "2026-12-15" or any ISO date-time → the API's port_date ("2026-12-15T00:00:00Z"). */
function toPortDate(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00Z`;
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return isoDateTime(new Date(value));
  throw badRequest(`focDate must be a date (YYYY-MM-DD) or an ISO date-time, got ${String(value)}`);
}

/** Routes for tests and demos, under /_sim, without authentication. */
export function controlRoutes(parts: SimulatorParts, resetAll: () => void): Route[] {
  const { store, lifecycle, webhooks, autoAdvancer } = parts;

  function findRequest(context: RequestContext): PortInRequest {
    const request = store.portIns.get(context.params.portInSid ?? '');
    if (!request) throw new SimError(404, 20404, `No port in request ${context.params.portInSid}`);
    return request;
  }

  function setStatus(context: RequestContext): SimResponse {
    const request = findRequest(context);
    const body = parseJsonObject(context.body);
    let status: PortInRequest['status'] | undefined;
    if (body.status !== undefined) {
      status = typeof body.status === 'string' ? normaliseRequestStatus(body.status) : undefined;
      if (!status) throw badRequest(`Unknown port in request status ${String(body.status)}`);
    }
    const numbers = numberChanges(request, body.phoneNumbers);
    if (!status && numbers.size === 0) throw badRequest('Give a status, phoneNumbers, or both');
    const mode = body.webhook ?? 'deliver';
    if (!WEBHOOK_MODES.includes(mode as WebhookMode)) throw badRequest('webhook must be deliver, drop or duplicate');
    // Explicit control takes over from the demo walk.
    autoAdvancer.stop(request);
    const events = lifecycle.change(
      request,
      { ...(status ? { status, announceStatus: true } : {}), numbers },
      mode as WebhookMode,
    );
    return { status: 200, body: { ...controlView(request), events } };
  }

  function addFault(context: RequestContext): SimResponse {
    const body = parseJsonObject(context.body);
    const operation = body.operation as OperationName;
    if (!OPERATIONS.includes(operation)) throw badRequest(`operation must be one of ${OPERATIONS.join(', ')}`);
    const status = body.status;
    const delayMs = body.delayMs;
    if (delayMs !== undefined && (typeof delayMs !== 'number' || !Number.isInteger(delayMs) || delayMs < 0)) {
      throw badRequest('delayMs must be an integer >= 0');
    }
    const statusOk = typeof status === 'number' && (status === 0 || (status >= 400 && status <= 599));
    if (!statusOk && !(status === undefined && delayMs !== undefined)) {
      throw badRequest('status must be 0 (no answer) or an HTTP error status 400..599 (or absent, with delayMs)');
    }
    const times = body.times ?? 1;
    if (typeof times !== 'number' || !Number.isInteger(times) || times < 1) throw badRequest('times must be >= 1');
    const fault = {
      status: status as number | undefined,
      delayMs: delayMs as number | undefined,
      remaining: times,
      code: typeof body.code === 'number' ? body.code : undefined,
      message: typeof body.message === 'string' ? body.message : undefined,
    };
    store.faults.set(operation, fault);
    return { status: 201, body: { operation, ...fault } };
  }

  function addIncomingNumber(context: RequestContext): SimResponse {
    const accountSid = context.params.accountSid ?? '';
    const body = parseJsonObject(context.body);
    const phoneNumber = body.phoneNumber;
    if (typeof phoneNumber !== 'string' || !isE164(phoneNumber)) throw badRequest('phoneNumber must be E.164');
    const existing = store.findIncomingNumber(accountSid, phoneNumber);
    if (existing) return { status: 200, body: incomingNumberResource(existing) };
    const now = new Date();
    const number: IncomingNumber = {
      sid: newSid('PN'),
      accountSid,
      phoneNumber,
      createdAt: now,
      updatedAt: now,
      portInRequestSid: undefined,
      settings: typeof body.friendlyName === 'string' ? { friendly_name: body.friendlyName } : {},
    };
    store.account(accountSid).incomingNumbers.set(number.sid, number);
    return { status: 201, body: incomingNumberResource(number) };
  }

  /** Rotates an account's auth token, as promoting Twilio's secondary token does: the old one stops working. */
  function rotateAuthToken(context: RequestContext): SimResponse {
    const body = parseJsonObject(context.body);
    if (typeof body.authToken !== 'string' || body.authToken.length < 8) throw badRequest('authToken must be a string');
    store.account(context.params.accountSid ?? '').authToken = body.authToken;
    return { status: 204 };
  }

  const KW = '(?<portInSid>KW[0-9a-fA-F]{32})';
  return [
    {
      method: 'GET',
      path: /^\/_sim\/health$/,
      authenticated: false,
      handle: () => ({ status: 200, body: { ok: true } }),
    },
    {
      method: 'GET',
      path: /^\/_sim\/port-ins$/,
      authenticated: false,
      handle: (context) => {
        const accountSid = context.url.searchParams.get('accountSid');
        const requests = [...store.portIns.values()]
          .filter((r) => !accountSid || r.accountSid === accountSid)
          .sort((a, b) => a.sequence - b.sequence);
        return { status: 200, body: requests.map(controlView) };
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/_sim/port-ins/${KW}$`),
      authenticated: false,
      handle: (context) => ({ status: 200, body: controlView(findRequest(context)) }),
    },
    { method: 'POST', path: new RegExp(`^/_sim/port-ins/${KW}/status$`), authenticated: false, handle: setStatus },
    { method: 'POST', path: /^\/_sim\/faults$/, authenticated: false, handle: addFault },
    {
      method: 'DELETE',
      path: /^\/_sim\/faults$/,
      authenticated: false,
      handle: () => {
        store.faults.clear();
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: /^\/_sim\/accounts\/(?<accountSid>AC[0-9a-fA-F]{32})\/incoming-phone-numbers$/,
      authenticated: false,
      handle: addIncomingNumber,
    },
    {
      // The utility bills an account uploaded (Documents API), oldest first: what reached Twilio, and how often.
      method: 'GET',
      path: /^\/_sim\/accounts\/(?<accountSid>AC[0-9a-fA-F]{32})\/documents$/,
      authenticated: false,
      handle: (context) => ({
        status: 200,
        body: [...store.account(context.params.accountSid ?? '').documents.values()]
          .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
          .map(({ sid, fileName, mimeType, size }) => ({ sid, fileName, mimeType, size })),
      }),
    },
    {
      method: 'POST',
      path: /^\/_sim\/accounts\/(?<accountSid>AC[0-9a-fA-F]{32})\/auth-token$/,
      authenticated: false,
      handle: rotateAuthToken,
    },
    {
      method: 'GET',
      path: /^\/_sim\/webhooks$/,
      authenticated: false,
      handle: () => ({ status: 200, body: webhooks.log }),
    },
    {
      method: 'POST',
      path: /^\/_sim\/reset$/,
      authenticated: false,
      handle: () => {
        resetAll();
        return { status: 204 };
      },
    },
  ];
}
