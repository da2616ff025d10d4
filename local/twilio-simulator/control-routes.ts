import { badRequest, isoDateTime, isRecord, parseJsonObject, SimError, type SimResponse } from './http';
import { isE164 } from './number-rules';
import { type NumberChange, normaliseNumberStatus, normaliseRequestStatus } from './port-in-lifecycle';
import { callResource, incomingNumberResource, portInResource } from './resources';
import type { RequestContext, Route, SimulatorParts } from './routing';
import {
  type IncomingNumber,
  newSid,
  OPERATIONS,
  type OperationName,
  type PortInRequest,
  type SimulatedCall,
} from './state';
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

/** The `/_sim/calls` view of a call: its resource, and the requests the simulator made to its URLs. */
function callView(call: SimulatedCall) {
  return {
    resource: callResource(call),
    otherLegSid: call.otherLegSid,
    errorCode: call.errorCode,
    timeoutSeconds: call.request?.timeoutSeconds ?? null,
    timeLimitSeconds: call.request?.timeLimitSeconds ?? null,
    voiceRequests: call.voiceRequests.map((r) => ({ ...r, at: isoDateTime(r.at) })),
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
    const voiceUrl = body.voiceUrl;
    if (voiceUrl !== undefined && (typeof voiceUrl !== 'string' || !/^https?:\/\//.test(voiceUrl))) {
      throw badRequest('voiceUrl must be an http(s) URL');
    }
    const now = new Date();
    const number: IncomingNumber = {
      sid: newSid('PN'),
      accountSid,
      phoneNumber,
      createdAt: now,
      updatedAt: now,
      portInRequestSid: undefined,
      settings: {
        ...(typeof body.friendlyName === 'string' ? { friendly_name: body.friendlyName } : {}),
        ...(typeof voiceUrl === 'string' ? { voice_url: voiceUrl, voice_method: 'POST' } : {}),
      },
    };
    store.account(accountSid).incomingNumbers.set(number.sid, number);
    return { status: 201, body: incomingNumberResource(number) };
  }

  /**
   * Makes calls to a number reach the account or not (`{ "reachable": false }`: as while the old carrier still
   * routes a ported number). Kept by E.164 number, so it may be set before the number is in the account.
   */
  function setRouting(context: RequestContext): SimResponse {
    const phoneNumber = context.params.phoneNumber ?? '';
    if (!isE164(phoneNumber)) throw badRequest(`${phoneNumber} is not an E.164 number`);
    const body = parseJsonObject(context.body);
    if (typeof body.reachable !== 'boolean') throw badRequest('reachable must be true or false');
    const account = store.account(context.params.accountSid ?? '');
    const others = account.unreachableNumbers.filter((n) => n !== phoneNumber);
    account.unreachableNumbers = body.reachable ? others : [...others, phoneNumber];
    return { status: 204 };
  }

  /** Where the simulator really sends what Twilio would send to a public URL (the call router's, say). */
  function addUrlRewrite(context: RequestContext): SimResponse {
    const body = parseJsonObject(context.body);
    const { publicUrl, localUrl } = body;
    for (const [name, value] of Object.entries({ publicUrl, localUrl })) {
      if (typeof value !== 'string' || !/^https?:\/\/\S+$/.test(value) || !URL.canParse(value)) {
        throw badRequest(`${name} must be an http(s) URL`);
      }
    }
    store.urlRewrites.set(publicUrl as string, localUrl as string);
    return { status: 204 };
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
      method: 'POST',
      path: /^\/_sim\/accounts\/(?<accountSid>AC[0-9a-fA-F]{32})\/incoming-phone-numbers\/(?<phoneNumber>[^/]+)\/routing$/,
      authenticated: false,
      handle: setRouting,
    },
    {
      // What a stand-in of the account's application (the local call router) checks signatures with.
      method: 'GET',
      path: /^\/_sim\/accounts\/(?<accountSid>AC[0-9a-fA-F]{32})\/auth-token$/,
      authenticated: false,
      handle: (context) => {
        const authToken = store.accounts.get(context.params.accountSid ?? '')?.authToken;
        if (!authToken) throw new SimError(404, 20404, `No auth token known for ${context.params.accountSid}`);
        return { status: 200, body: { accountSid: context.params.accountSid, authToken } };
      },
    },
    {
      method: 'GET',
      path: /^\/_sim\/calls$/,
      authenticated: false,
      handle: (context) => {
        const accountSid = context.url.searchParams.get('accountSid');
        const all = [...store.accounts.values()]
          .filter((account) => !accountSid || account.sid === accountSid)
          .flatMap((account) => [...account.calls.values()])
          .sort((a, b) => a.sequence - b.sequence);
        return { status: 200, body: all.map(callView) };
      },
    },
    {
      method: 'GET',
      path: /^\/_sim\/url-rewrites$/,
      authenticated: false,
      handle: () => ({ status: 200, body: Object.fromEntries(store.urlRewrites) }),
    },
    { method: 'POST', path: /^\/_sim\/url-rewrites$/, authenticated: false, handle: addUrlRewrite },
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
