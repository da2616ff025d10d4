import { badRequest, SimError, type SimResponse } from './http';
import { isE164 } from './number-rules';
import { callResource } from './resources';
import type { RequestContext, Route, SimulatorParts } from './routing';
import { CALL_STATUSES, type CallStatus, newSid, type OutboundCallRequest, type SimulatedCall } from './state';

const AC = '(?<pathAccountSid>AC[0-9a-fA-F]{32})';
const CA = '(?<callSid>CA[0-9a-fA-F]{32})';
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;
const DEFAULT_TIMEOUT_SECONDS = 60;
const MAX_TIMEOUT_SECONDS = 600;
const DEFAULT_TIME_LIMIT_SECONDS = 4 * 60 * 60;
const MAX_TIME_LIMIT_SECONDS = 24 * 60 * 60;
const MAX_TWIML_CHARACTERS = 4000;
const STATUS_CALLBACK_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];

/** The time filters of the list, as `[parameter, field, comparison]`: `StartTime>` is "on or after". */
const TIME_FILTERS = [
  ['StartTime', 'startTime', 'on'],
  ['StartTime<', 'startTime', 'before'],
  ['StartTime>', 'startTime', 'after'],
  ['EndTime', 'endTime', 'on'],
  ['EndTime<', 'endTime', 'before'],
  ['EndTime>', 'endTime', 'after'],
] as const;

/**
 * A filter's bound: a date (`YYYY-MM-DD`, UTC, as Twilio documents it) is the whole day; a date-time (what
 * twilio-node sends for a Date, `2026-12-08T03:00:00Z`) is that instant.
 */
function timeBound(name: string, raw: string): { from: number; to: number } {
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const from = Date.parse(`${raw}T00:00:00Z`);
    if (!Number.isNaN(from)) return { from, to: from + 24 * 60 * 60 * 1000 };
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(raw) && !Number.isNaN(Date.parse(raw))) {
    const at = Date.parse(raw);
    return { from: at, to: at + 1 };
  }
  throw badRequest(`${name} must be a date (YYYY-MM-DD) or a date-time, got ${raw}`);
}

function matchesTime(value: Date | null, bound: { from: number; to: number }, comparison: 'on' | 'before' | 'after') {
  if (!value) return false;
  const at = value.getTime();
  if (comparison === 'before') return at < bound.from;
  if (comparison === 'after') return at >= bound.from;
  return at >= bound.from && at < bound.to;
}

function method(name: string, raw: string | null): 'GET' | 'POST' {
  if (raw === null || raw === '') return 'POST';
  const upper = raw.toUpperCase();
  if (upper !== 'GET' && upper !== 'POST') throw badRequest(`${name} must be GET or POST, got ${raw}`, 21207);
  return upper;
}

function absoluteUrl(name: string, raw: string | null, code: number): string | null {
  if (raw === null || raw === '') return null;
  if (!/^https?:\/\//i.test(raw) || !URL.canParse(raw)) throw badRequest(`${name} is not a valid URL: ${raw}`, code);
  return raw;
}

function positiveInteger(name: string, raw: string | null, code: number): number | undefined {
  if (raw === null || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw badRequest(`${name} must be a positive integer, got ${raw}`, code);
  return Number(raw);
}

/** The create's parameters the simulator acts on, checked as Twilio checks them. */
function outboundRequest(form: URLSearchParams): OutboundCallRequest {
  const url = absoluteUrl('Url', form.get('Url'), 21205);
  const twiml = form.get('Twiml') || null;
  const applicationSid = form.get('ApplicationSid') || null;
  if (!url && !twiml && !applicationSid) throw badRequest('Url parameter is required.', 21205);
  if (applicationSid && !url && !twiml) {
    throw badRequest(`ApplicationSid ${applicationSid} is not supported by the simulator: give Url or Twiml`, 21218);
  }
  if (twiml && twiml.length > MAX_TWIML_CHARACTERS) {
    throw badRequest(`Twiml must be at most ${MAX_TWIML_CHARACTERS} characters`);
  }
  // Twilio documents 600 s as the longest ring and caps a longer Timeout at it.
  const timeout = positiveInteger('Timeout', form.get('Timeout'), 21208) ?? DEFAULT_TIMEOUT_SECONDS;
  const timeLimit = positiveInteger('TimeLimit', form.get('TimeLimit'), 20001) ?? DEFAULT_TIME_LIMIT_SECONDS;
  if (timeLimit > MAX_TIME_LIMIT_SECONDS) throw badRequest(`TimeLimit must be at most ${MAX_TIME_LIMIT_SECONDS}`);
  const events = form.getAll('StatusCallbackEvent').flatMap((value) => value.split(/[\s,]+/).filter(Boolean));
  for (const event of events) {
    if (!STATUS_CALLBACK_EVENTS.includes(event)) throw badRequest(`StatusCallbackEvent ${event} is not valid`);
  }
  return {
    // Url wins over Twiml when both are given.
    url,
    method: method('Method', form.get('Method')),
    twiml: url ? null : twiml,
    timeoutSeconds: Math.min(timeout, MAX_TIMEOUT_SECONDS),
    timeLimitSeconds: timeLimit,
    statusCallback: absoluteUrl('StatusCallback', form.get('StatusCallback'), 21609),
    statusCallbackMethod: method('StatusCallbackMethod', form.get('StatusCallbackMethod')),
    statusCallbackEvents: events.length > 0 ? events : ['completed'],
  };
}

/** The api.twilio.com 2010-04-01 Calls routes: create (which places the call), fetch, list, update (hang up). */
export function callsRoutes(parts: SimulatorParts): Route[] {
  const { store, calls: exchange } = parts;

  // No subaccounts here: another account's path answers 404, as Twilio does for what you cannot see.
  function ownAccountSid(context: RequestContext): string {
    const pathAccountSid = context.params.pathAccountSid ?? '';
    if (pathAccountSid !== context.accountSid) {
      throw new SimError(404, 20404, `The requested resource /2010-04-01/Accounts/${pathAccountSid} was not found`);
    }
    return pathAccountSid;
  }

  function findCall(context: RequestContext): SimulatedCall {
    const accountSid = ownAccountSid(context);
    const call = store.account(accountSid).calls.get(context.params.callSid ?? '');
    if (!call) {
      throw new SimError(
        404,
        20404,
        `The requested resource /2010-04-01/Accounts/${accountSid}/Calls/${context.params.callSid}.json was not found`,
      );
    }
    return call;
  }

  function createCall(context: RequestContext): SimResponse {
    const accountSid = ownAccountSid(context);
    const form = new URLSearchParams(context.body.toString('utf8'));
    const to = form.get('To');
    const from = form.get('From');
    if (!to) throw badRequest("No 'To' number is specified", 21201);
    if (!from) throw badRequest("No 'From' number is specified", 21213);
    if (!isE164(to)) throw badRequest(`Invalid 'To' Phone Number: ${to}`, 21211);
    if (!isE164(from)) throw badRequest(`Invalid 'From' Phone Number: ${from}`, 21212);
    // The caller ID must be a number of the account (the simulator has no verified outgoing caller IDs).
    const caller = store.findIncomingNumber(accountSid, from);
    if (!caller) {
      throw badRequest(`The source phone number provided, ${from}, is not yet verified for your account.`, 21210);
    }
    const request = outboundRequest(form);
    const now = new Date();
    const call: SimulatedCall = {
      sid: newSid('CA'),
      accountSid,
      sequence: store.nextSequence(),
      direction: 'outbound-api',
      from,
      to,
      phoneNumberSid: caller.sid,
      createdAt: now,
      request,
      otherLegSid: null,
      status: 'queued',
      startTime: null,
      answerTime: null,
      endTime: null,
      updatedAt: now,
      errorCode: null,
      voiceRequests: [],
    };
    store.account(accountSid).calls.set(call.sid, call);
    exchange.place(call);
    return { status: 201, body: callResource(call) };
  }

  function listCalls(context: RequestContext): SimResponse {
    const accountSid = ownAccountSid(context);
    const query = context.url.searchParams;
    const pageSize = query.has('PageSize') ? Number(query.get('PageSize')) : DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw badRequest(`PageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    }
    const page = query.has('Page') ? Number(query.get('Page')) : 0;
    if (!Number.isInteger(page) || page < 0) throw badRequest('Page must be a non-negative integer');
    const status = query.get('Status');
    if (status !== null && !CALL_STATUSES.includes(status as CallStatus)) {
      throw badRequest(`Status must be one of ${CALL_STATUSES.join(', ')}`);
    }
    const to = query.get('To');
    const from = query.get('From');
    const parentCallSid = query.get('ParentCallSid');
    const timeFilters = TIME_FILTERS.filter(([name]) => query.has(name)).map(([name, field, comparison]) => ({
      field,
      comparison,
      bound: timeBound(name, query.get(name) ?? ''),
    }));
    const matching = [...store.account(accountSid).calls.values()]
      .filter((call) => to === null || call.to === to)
      .filter((call) => from === null || call.from === from)
      .filter((call) => status === null || call.status === status)
      // No leg here has a parent: the inbound leg of a PSTN call is a call of its own.
      .filter(() => parentCallSid === null)
      .filter((call) => timeFilters.every((f) => matchesTime(call[f.field], f.bound, f.comparison)))
      // Newest first, as Twilio lists calls.
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.sequence - a.sequence);
    // PageToken "PA<sid>" means "after that call", so pages stay stable while calls are added.
    const token = query.get('PageToken');
    let start = page * pageSize;
    if (token) {
      const after = matching.findIndex((call) => `PA${call.sid}` === token);
      if (after < 0) throw badRequest(`PageToken ${token} is not valid`);
      start = after + 1;
    }
    const items = matching.slice(start, start + pageSize);
    const basePath = `/2010-04-01/Accounts/${accountSid}/Calls.json`;
    const pageUri = (pageNumber: number, pageToken?: string) => {
      const params = new URLSearchParams();
      for (const name of ['To', 'From', 'ParentCallSid', 'Status', ...TIME_FILTERS.map(([filter]) => filter)]) {
        const value = query.get(name);
        if (value !== null) params.set(name, value);
      }
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
        calls: items.map(callResource),
        end: start + Math.max(items.length - 1, 0),
        first_page_uri: pageUri(0),
        next_page_uri: hasNext ? pageUri(page + 1, `PA${last.sid}`) : null,
        page,
        page_size: pageSize,
        previous_page_uri: page > 0 ? pageUri(page - 1) : null,
        start,
        uri: pageUri(page, token ?? undefined),
      },
    };
  }

  /** Status `completed` hangs a call up, `canceled` cancels one not yet answered; other updates are refused. */
  function updateCall(context: RequestContext): SimResponse {
    const call = findCall(context);
    const form = new URLSearchParams(context.body.toString('utf8'));
    const status = form.get('Status');
    const others = [...form.keys()].filter((name) => name !== 'Status');
    if (others.length > 0) throw badRequest(`The simulator only updates Status, not ${others.join(', ')}`);
    if (status !== 'completed' && status !== 'canceled') throw badRequest('Status must be completed or canceled');
    if (!exchange.hangUp(call, status)) {
      throw badRequest(`Call ${call.sid} is in-progress: it can be completed, not canceled`, 21220);
    }
    return { status: 200, body: callResource(call) };
  }

  return [
    {
      method: 'POST',
      path: new RegExp(`^/2010-04-01/Accounts/${AC}/Calls\\.json$`),
      authenticated: true,
      operation: 'createCall',
      handle: createCall,
    },
    {
      method: 'GET',
      path: new RegExp(`^/2010-04-01/Accounts/${AC}/Calls\\.json$`),
      authenticated: true,
      operation: 'listCalls',
      handle: listCalls,
    },
    {
      method: 'GET',
      path: new RegExp(`^/2010-04-01/Accounts/${AC}/Calls/${CA}\\.json$`),
      authenticated: true,
      operation: 'fetchCall',
      handle: (context) => ({ status: 200, body: callResource(findCall(context)) }),
    },
    {
      method: 'POST',
      path: new RegExp(`^/2010-04-01/Accounts/${AC}/Calls/${CA}\\.json$`),
      authenticated: true,
      operation: 'updateCall',
      handle: updateCall,
    },
  ];
}
