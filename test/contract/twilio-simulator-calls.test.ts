import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { type CallRouter, startCallRouter } from '../../local/call-router';
import { startTwilioSimulator, type TwilioSimulator } from '../../local/twilio-simulator';
import { eventually } from '../support/eventually';
import { fullTwilioClient, lastTwilioResponse, specCall } from '../support/twilio-simulator';
import { assertMatchesSpec, compileSchema } from './openapi-schema';

// The simulator's Calls (create, fetch, list with its filters, hang-up) driven by twilio-node, every answer checked
// against Twilio's 2010-04-01 spec; a call to a number of the account rings its voice URL as Twilio does, and the
// local call router stand-in answers it.

const CALLS = '/2010-04-01/Accounts/{AccountSid}/Calls.json';
const CALL = '/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json';
const ROUTER_PUBLIC_URL = 'https://calls.ringtonic.example/twilio/voice';
const HANG_UP = '<Response><Hangup/></Response>';

const twilioErrorSchema = compileSchema({
  type: 'object',
  required: ['code', 'message', 'more_info', 'status'],
  properties: { code: { type: 'integer' }, message: { type: 'string' }, status: { type: 'integer' } },
});

/** A Twilio account on the simulator, driven by the full twilio-node client. */
interface Account {
  readonly sid: string;
  readonly token: string;
  readonly client: twilio.Twilio;
}
type CallInstance = Awaited<ReturnType<twilio.Twilio['calls']['create']>>;

/** A new account; the simulator takes its token on its first authenticated request. */
function newAccount(url = simulator.url): Account {
  const sid = `AC${randomBytes(16).toString('hex')}`;
  const token = randomBytes(16).toString('hex');
  return { sid, token, client: fullTwilioClient(sid, token, url) };
}

/** One request a {@link startVoiceApp} received. */
interface VoiceAppRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A TwiML application of our own: answers `state.twiml` (status `state.status`) and records each request. */
async function startVoiceApp() {
  const requests: VoiceAppRequest[] = [];
  const state = { status: 200, twiml: HANG_UP };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: `${base}${req.url}`,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(state.status, { 'Content-Type': 'text/xml' }).end(state.twiml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (p: string) => `${base}${p}`,
    requests,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let simulator: TwilioSimulator;
let router: CallRouter;
let app: Awaited<ReturnType<typeof startVoiceApp>>;
let numberCounter = 0;

/** A fresh local number (area code 646, apart from the other contract tests' numbers). */
function nextNumber(): string {
  numberCounter += 1;
  return `+1646${String(3_000_000 + numberCounter)}`;
}

async function control(url: string, body?: unknown, method = 'POST'): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Adds a number to the account (as a finished port would), its voice URL the call router's unless told. */
async function addNumber(account: Account, voiceUrl: string | null = ROUTER_PUBLIC_URL): Promise<string> {
  const phoneNumber = nextNumber();
  const added = await control(`${simulator.url}/_sim/accounts/${account.sid}/incoming-phone-numbers`, {
    phoneNumber,
    ...(voiceUrl ? { voiceUrl } : {}),
  });
  expect(added.status).toBe(201);
  return phoneNumber;
}

/** An account with two numbers on the call router: a caller and a number to verify. */
async function accountWithTwoNumbers() {
  const account = newAccount();
  const from = await addNumber(account);
  const to = await addNumber(account);
  return { account, from, to };
}

async function createCall(account: Account, params: Parameters<Account['client']['calls']['create']>[0]) {
  return specCall(account.client, ['api', 'post', CALLS, 201], () =>
    account.client.api.v2010.accounts(account.sid).calls.create(params),
  );
}

async function fetchCall(account: Account, sid: string) {
  return specCall(account.client, ['api', 'get', CALL, 200], () =>
    account.client.api.v2010.accounts(account.sid).calls(sid).fetch(),
  );
}

async function listCalls(account: Account, params: Parameters<Account['client']['calls']['list']>[0] = {}) {
  return specCall(account.client, ['api', 'get', CALLS, 200], () =>
    account.client.api.v2010.accounts(account.sid).calls.list(params),
  );
}

/** Waits until the call is in one of `statuses`; answers it as fetched. */
async function callReaches(account: Account, sid: string, statuses: readonly string[], timeoutMs = 10_000) {
  return eventually(
    async () => {
      const call = await fetchCall(account, sid);
      return statuses.includes(call.status) ? call : undefined;
    },
    { what: `call ${sid} to be ${statuses.join(' or ')}`, timeoutMs, intervalMs: 50 },
  );
}

/** The inbound leg to `to` in the account's Calls, once listed. */
async function inboundLeg(account: Account, to: string, statuses: readonly string[]): Promise<CallInstance> {
  return eventually(
    async () =>
      (await listCalls(account, { to })).find((call) => call.direction === 'inbound' && statuses.includes(call.status)),
    { what: `an inbound leg to ${to}, ${statuses.join(' or ')}`, intervalMs: 50 },
  );
}

/** Expects a twilio-node call to fail with Twilio's error JSON. */
async function expectTwilioError(call: Promise<unknown>, status: number, code: number): Promise<void> {
  const error = (await call.then(
    () => {
      throw new Error(`expected a ${status} error`);
    },
    (e: unknown) => e,
  )) as twilio.RestException;
  expect(error).toBeInstanceOf(twilio.RestException);
  expect([error.status, error.code]).toEqual([status, code]);
}

beforeAll(async () => {
  simulator = await startTwilioSimulator({ port: 0, voiceUrlTimeoutMs: 3000 });
  router = await startCallRouter({
    port: 0,
    publicUrl: ROUTER_PUBLIC_URL,
    // The account's token as the simulator knows it, as the product's router knows its accounts' tokens.
    authTokenOf: async (accountSid) => {
      const answer = await fetch(`${simulator.url}/_sim/accounts/${accountSid}/auth-token`);
      return answer.ok ? ((await answer.json()) as { authToken: string }).authToken : undefined;
    },
  });
  // Twilio reaches the router's public URL; here the simulator sends those requests to the local router.
  const rewrite = await control(`${simulator.url}/_sim/url-rewrites`, {
    publicUrl: ROUTER_PUBLIC_URL,
    localUrl: router.voiceUrl,
  });
  expect(rewrite.status).toBe(204);
  app = await startVoiceApp();
});

afterAll(async () => {
  await simulator.close();
  await router.close();
  await app.close();
});

afterEach(async () => {
  await control(`${router.url}/_router/faults`, undefined, 'DELETE');
  app.state.status = 200;
  app.state.twiml = HANG_UP;
});

describe('Calls create, fetch and list', () => {
  it('answers 201 queued with the call as the spec says, then fetches it as it goes on', async () => {
    const { account, from, to } = await accountWithTwoNumbers();
    const created = await createCall(account, { to, from, twiml: HANG_UP, timeout: 15, timeLimit: 60 });
    const raw = lastTwilioResponse(account.client).body as Record<string, unknown>;
    expect(raw).toMatchObject({ status: 'queued', direction: 'outbound-api', start_time: null, end_time: null });
    expect(created.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect([created.to, created.from, created.accountSid]).toEqual([to, from, account.sid]);
    const fetched = await callReaches(account, created.sid, ['completed']);
    expect(fetched.startTime).toBeInstanceOf(Date);
    expect(fetched.duration).toBe('0');
    expect(fetched.phoneNumberSid).toMatch(/^PN[0-9a-f]{32}$/);
  });

  it('lists calls newest first, filtered by To, StartTime> and Status, with paging', async () => {
    const { account, from, to } = await accountWithTwoNumbers();
    const other = await addNumber(account);
    const before = new Date(Date.now() - 1000);
    const first = await createCall(account, { to, from, twiml: HANG_UP });
    await callReaches(account, first.sid, ['completed']);
    const second = await createCall(account, { to: other, from, twiml: HANG_UP });
    await callReaches(account, second.sid, ['completed']);

    const all = await listCalls(account);
    // Two outbound legs and their two inbound legs, newest first.
    expect(all).toHaveLength(4);
    expect(all.map((c) => c.dateCreated.getTime())).toEqual(
      [...all.map((c) => c.dateCreated.getTime())].sort((a, b) => b - a),
    );
    const toNumber = await listCalls(account, { to });
    expect(toNumber.map((c) => c.direction).sort()).toEqual(['inbound', 'outbound-api']);
    expect(toNumber.every((c) => c.to === to)).toBe(true);

    const after = await listCalls(account, { to, startTimeAfter: before });
    expect(after).toHaveLength(2);
    expect(await listCalls(account, { to, startTimeAfter: new Date(Date.now() + 60_000) })).toEqual([]);
    // A date (YYYY-MM-DD) is the whole day, as Twilio documents the filter.
    const today = new Date().toISOString().slice(0, 10);
    const byDate = await fetch(
      `${simulator.url}/2010-04-01/Accounts/${account.sid}/Calls.json?To=${encodeURIComponent(to)}&StartTime%3E=${today}`,
      { headers: { Authorization: `Basic ${Buffer.from(`${account.sid}:${account.token}`).toString('base64')}` } },
    );
    const byDateBody = (await byDate.json()) as { calls: unknown[] };
    assertMatchesSpec('api', 'get', CALLS, 200, byDateBody);
    expect(byDateBody.calls).toHaveLength(2);

    expect(await listCalls(account, { to, status: 'completed' })).toHaveLength(2);
    expect(await listCalls(account, { to, status: 'failed' })).toEqual([]);

    const page = await specCall(account.client, ['api', 'get', CALLS, 200], () =>
      account.client.api.v2010.accounts(account.sid).calls.page({ pageSize: 3 }),
    );
    expect(page.instances).toHaveLength(3);
    const next = await specCall(account.client, ['api', 'get', CALLS, 200], async () => {
      const nextPage = await page.nextPage();
      if (!nextPage) throw new Error('no second page');
      return nextPage;
    });
    expect(next.instances).toHaveLength(1);
    expect(new Set([...page.instances, ...next.instances].map((c) => c.sid)).size).toBe(4);
  });

  it.each([
    ['an invalid To', 21211, { to: 'nope', from: 'CALLER', twiml: HANG_UP }],
    ['a From that is not a number of the account', 21210, { to: '+16460000001', from: '+16460000002', twiml: HANG_UP }],
    ['neither Url nor Twiml', 21205, { to: '+16460000001', from: 'CALLER' }],
    ['an invalid Timeout', 21208, { to: '+16460000001', from: 'CALLER', twiml: HANG_UP, timeout: 0 }],
  ])('refuses a create with %s: 400, code %d', async (_, code, params) => {
    const account = newAccount();
    const caller = await addNumber(account);
    const withCaller = { ...params, ...(params.from === 'CALLER' ? { from: caller } : {}) };
    await expectTwilioError(account.client.api.v2010.accounts(account.sid).calls.create(withCaller), 400, code);
    expect(twilioErrorSchema(lastTwilioResponse(account.client).body)).toBe(true);
    expect(await listCalls(account)).toEqual([]);
  });

  // twilio-node itself refuses to send these, so they go as raw form posts.
  it.each([
    ['no To', 21201, { From: '+16460000001', Twiml: HANG_UP }],
    ['no From', 21213, { To: '+16460000001', Twiml: HANG_UP }],
  ])('refuses a create with %s: 400, code %d', async (_, code, form) => {
    const account = newAccount();
    const answer = await fetch(`${simulator.url}/2010-04-01/Accounts/${account.sid}/Calls.json`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${account.sid}:${account.token}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form),
    });
    const body = (await answer.json()) as { code: number };
    expect([answer.status, body.code]).toEqual([400, code]);
    expect(twilioErrorSchema(body)).toBe(true);
  });

  it("answers 404 for an unknown call and for another account's calls", async () => {
    const { account } = await accountWithTwoNumbers();
    const calls = account.client.api.v2010.accounts(account.sid).calls;
    await expectTwilioError(calls(`CA${'0'.repeat(32)}`).fetch(), 404, 20404);
    const stranger = newAccount();
    await expectTwilioError(stranger.client.api.v2010.accounts(account.sid).calls.list(), 404, 20404);
  });

  it('fails createCall as /_sim/faults says, creating nothing', async () => {
    const { account, from, to } = await accountWithTwoNumbers();
    await control(`${simulator.url}/_sim/faults`, { operation: 'createCall', status: 503, times: 1 });
    await expectTwilioError(
      account.client.api.v2010.accounts(account.sid).calls.create({ to, from, twiml: HANG_UP }),
      503,
      20503,
    );
    expect(await listCalls(account)).toEqual([]);
  });
});

describe('a call to a number of the account', () => {
  it('produces the inbound leg, answered by the call router, and completes both legs', async () => {
    const { account, from, to } = await accountWithTwoNumbers();
    const outbound = await createCall(account, { to, from, twiml: HANG_UP, timeout: 15, timeLimit: 60 });
    const inbound = await inboundLeg(account, to, ['completed']);
    expect(inbound).toMatchObject({ from, to, direction: 'inbound', status: 'completed', duration: '0' });
    expect(inbound.sid).not.toBe(outbound.sid);
    expect((await callReaches(account, outbound.sid, ['completed'])).status).toBe('completed');
    const routed = router.requests.filter((r) => r.callSid === inbound.sid);
    expect(routed).toEqual([
      expect.objectContaining({ accountSid: account.sid, from, to, outcome: 'answered', status: 200 }),
    ]);
  });

  it("requests the number's voice URL as Twilio does: form-encoded, signed with the account's token", async () => {
    const { account, from } = await accountWithTwoNumbers();
    const to = await addNumber(account, app.url('/voice?tenant=acme'));
    await createCall(account, { to, from, twiml: HANG_UP });
    const inbound = await inboundLeg(account, to, ['completed']);
    const request = app.requests.find((r) => new URLSearchParams(r.body).get('CallSid') === inbound.sid);
    if (!request) throw new Error('the voice URL was not requested');
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const params = Object.fromEntries(new URLSearchParams(request.body));
    expect(params).toMatchObject({
      CallSid: inbound.sid,
      AccountSid: account.sid,
      From: from,
      To: to,
      Caller: from,
      Called: to,
      CallStatus: 'ringing',
      Direction: 'inbound',
      ApiVersion: '2010-04-01',
    });
    const signature = request.headers['x-twilio-signature'] as string;
    expect(twilio.validateRequest(account.token, signature, app.url('/voice?tenant=acme'), params)).toBe(true);
    expect(twilio.validateRequest('another-token', signature, app.url('/voice?tenant=acme'), params)).toBe(false);
  });

  it('asks a GET voice URL with the parameters in the query, signed over the whole URL', async () => {
    const { account, from } = await accountWithTwoNumbers();
    const to = await addNumber(account, app.url('/voice-get'));
    const number = (await account.client.incomingPhoneNumbers.list({ phoneNumber: to }))[0];
    await account.client.incomingPhoneNumbers(number?.sid ?? '').update({ voiceMethod: 'GET' });
    await createCall(account, { to, from, twiml: HANG_UP });
    const inbound = await inboundLeg(account, to, ['completed']);
    const request = app.requests.find((r) => r.url.includes(inbound.sid));
    if (!request) throw new Error('the voice URL was not requested');
    expect(request.method).toBe('GET');
    expect(new URL(request.url).searchParams.get('Direction')).toBe('inbound');
    expect(
      twilio.validateRequest(account.token, request.headers['x-twilio-signature'] as string, request.url, {}),
    ).toBe(true);
  });

  it.each([
    ['answers 500', 500, 11200],
    ['answers 404', 404, 11200],
    ['answers 200 with something that is not TwiML', 200, 12100],
  ])('fails both legs when the voice URL %s', async (_, status, errorCode) => {
    const { account, from } = await accountWithTwoNumbers();
    const to = await addNumber(account, app.url('/broken'));
    app.state.status = status;
    app.state.twiml = status === 200 ? 'hello' : 'oops';
    const outbound = await createCall(account, { to, from, twiml: HANG_UP });
    const inbound = await inboundLeg(account, to, ['failed']);
    expect(inbound.duration).toBeNull();
    expect((await callReaches(account, outbound.sid, ['failed'])).status).toBe('failed');
    const view = (await control(`${simulator.url}/_sim/calls?accountSid=${account.sid}`, undefined, 'GET'))
      .body as Array<{ resource: { sid: string }; errorCode: number }>;
    expect(view.find((c) => c.resource.sid === inbound.sid)?.errorCode).toBe(errorCode);
  });

  it('tries the voice fallback URL when the voice URL fails', async () => {
    const { account, from } = await accountWithTwoNumbers();
    const to = await addNumber(account, 'http://127.0.0.1:1/nothing-listens-here');
    const number = (await account.client.incomingPhoneNumbers.list({ phoneNumber: to }))[0];
    await account.client.incomingPhoneNumbers(number?.sid ?? '').update({ voiceFallbackUrl: ROUTER_PUBLIC_URL });
    await createCall(account, { to, from, twiml: HANG_UP });
    const inbound = await inboundLeg(account, to, ['completed']);
    expect(router.requests.some((r) => r.callSid === inbound.sid && r.outcome === 'answered')).toBe(true);
  });

  it('fails a call to a number that has no voice URL', async () => {
    const { account, from } = await accountWithTwoNumbers();
    const to = await addNumber(account, null);
    await createCall(account, { to, from, twiml: HANG_UP });
    await inboundLeg(account, to, ['failed']);
  });

  it("requests the outbound call's own Url once answered, signed, Direction outbound-api", async () => {
    const { account, from, to } = await accountWithTwoNumbers();
    const outbound = await createCall(account, { to, from, url: app.url('/outbound') });
    await callReaches(account, outbound.sid, ['completed']);
    const request = app.requests.find((r) => new URLSearchParams(r.body).get('CallSid') === outbound.sid);
    if (!request) throw new Error('the outbound Url was not requested');
    const params = Object.fromEntries(new URLSearchParams(request.body));
    expect(params).toMatchObject({ Direction: 'outbound-api', CallStatus: 'in-progress', From: from, To: to });
    expect(
      twilio.validateRequest(
        account.token,
        request.headers['x-twilio-signature'] as string,
        app.url('/outbound'),
        params,
      ),
    ).toBe(true);
  });

  it('posts the completed status callback, signed, with the duration', async () => {
    const { account, from, to } = await accountWithTwoNumbers();
    const outbound = await createCall(account, { to, from, twiml: HANG_UP, statusCallback: app.url('/status') });
    const callback = await eventually(
      async () => app.requests.find((r) => r.url === app.url('/status') && r.body.includes(outbound.sid)),
      { what: 'the status callback', intervalMs: 50 },
    );
    const params = Object.fromEntries(new URLSearchParams(callback.body));
    expect(params).toMatchObject({ CallSid: outbound.sid, CallStatus: 'completed', CallDuration: '0' });
    expect(
      twilio.validateRequest(
        account.token,
        callback.headers['x-twilio-signature'] as string,
        app.url('/status'),
        params,
      ),
    ).toBe(true);
  });
});

describe('Timeout and TimeLimit', () => {
  it('ends a call whose voice URL has not answered within Timeout as no-answer', async () => {
    const { account, from, to } = await accountWithTwoNumbers();
    await control(`${router.url}/_router/faults`, { status: 0, times: 1 });
    const startedAt = Date.now();
    const outbound = await createCall(account, { to, from, twiml: HANG_UP, timeout: 1 });
    const inbound = await inboundLeg(account, to, ['no-answer']);
    expect(inbound.status).toBe('no-answer');
    expect((await callReaches(account, outbound.sid, ['no-answer'])).status).toBe('no-answer');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
  });

  it('fails a call whose voice URL has not answered in the webhook timeout, when Timeout is longer', async () => {
    const { account, from, to } = await accountWithTwoNumbers();
    await control(`${router.url}/_router/faults`, { status: 0, times: 1 });
    await createCall(account, { to, from, twiml: HANG_UP, timeout: 30 });
    // The simulator here gives a voice URL 3 s, as Twilio gives it 15.
    await inboundLeg(account, to, ['failed']);
  });

  it('hangs up an answered call at its TimeLimit', async () => {
    const { account, from } = await accountWithTwoNumbers();
    const to = await addNumber(account, app.url('/long'));
    app.state.twiml = '<Response><Pause length="30"/></Response>';
    const outbound = await createCall(account, {
      to,
      from,
      twiml: '<Response><Pause length="30"/></Response>',
      timeLimit: 1,
    });
    expect((await callReaches(account, outbound.sid, ['in-progress'])).status).toBe('in-progress');
    const ended = await callReaches(account, outbound.sid, ['completed'], 5000);
    expect(ended.duration).toBe('1');
    expect((await inboundLeg(account, to, ['completed'])).duration).toBe('1');
  });

  it('hangs up a call through the update route: canceled while ringing, completed once answered', async () => {
    const { account, from } = await accountWithTwoNumbers();
    const unreachable = await addNumber(account);
    await control(`${simulator.url}/_sim/accounts/${account.sid}/incoming-phone-numbers/${unreachable}/routing`, {
      reachable: false,
    });
    const ringing = await createCall(account, { to: unreachable, from, twiml: HANG_UP, timeout: 60 });
    await callReaches(account, ringing.sid, ['ringing']);
    const canceled = await specCall(account.client, ['api', 'post', CALL, 200], () =>
      account.client.api.v2010.accounts(account.sid).calls(ringing.sid).update({ status: 'canceled' }),
    );
    expect(canceled.status).toBe('canceled');

    const to = await addNumber(account, app.url('/long'));
    app.state.twiml = '<Response><Pause length="60"/></Response>';
    const answered = await createCall(account, { to, from, twiml: '<Response><Pause length="60"/></Response>' });
    await callReaches(account, answered.sid, ['in-progress']);
    await expectTwilioError(
      account.client.api.v2010.accounts(account.sid).calls(answered.sid).update({ status: 'canceled' }),
      400,
      21220,
    );
    const completed = await account.client.api.v2010.accounts(account.sid).calls(answered.sid).update({
      status: 'completed',
    });
    expect(completed.status).toBe('completed');
    expect((await inboundLeg(account, to, ['completed'])).status).toBe('completed');
  });
});

describe('routing control', () => {
  it('makes a number unreachable: no inbound leg, the call rings out; reachable again, the call gets through', async () => {
    const { account, from, to } = await accountWithTwoNumbers();
    const routing = `${simulator.url}/_sim/accounts/${account.sid}/incoming-phone-numbers/${encodeURIComponent(to)}/routing`;
    expect((await control(routing, { reachable: false })).status).toBe(204);
    const lost = await createCall(account, { to, from, twiml: HANG_UP, timeout: 1 });
    expect((await callReaches(account, lost.sid, ['no-answer'])).status).toBe('no-answer');
    expect((await listCalls(account, { to })).map((c) => c.direction)).toEqual(['outbound-api']);
    expect(router.requests.some((r) => r.to === to)).toBe(false);

    expect((await control(routing, { reachable: true })).status).toBe(204);
    const reached = await createCall(account, { to, from, twiml: HANG_UP, timeout: 1 });
    await callReaches(account, reached.sid, ['completed']);
    await inboundLeg(account, to, ['completed']);
  });

  it('applies to a number set unreachable before it is in the account', async () => {
    const account = newAccount();
    const from = await addNumber(account);
    const to = nextNumber();
    await control(`${simulator.url}/_sim/accounts/${account.sid}/incoming-phone-numbers/${to}/routing`, {
      reachable: false,
    });
    await control(`${simulator.url}/_sim/accounts/${account.sid}/incoming-phone-numbers`, {
      phoneNumber: to,
      voiceUrl: ROUTER_PUBLIC_URL,
    });
    const call = await createCall(account, { to, from, twiml: HANG_UP, timeout: 1 });
    await callReaches(account, call.sid, ['no-answer']);
    expect((await listCalls(account, { to, status: 'completed' })).length).toBe(0);
  });

  it('refuses a body without reachable, and a number that is not E.164', async () => {
    const account = newAccount();
    const base = `${simulator.url}/_sim/accounts/${account.sid}/incoming-phone-numbers`;
    expect((await control(`${base}/${nextNumber()}/routing`, {})).status).toBe(400);
    expect((await control(`${base}/12345/routing`, { reachable: false })).status).toBe(400);
  });
});

describe('the local call router', () => {
  /** A voice request as the simulator would send it, signed with `token` over `url`. */
  async function voiceRequest(params: Record<string, string>, token: string | undefined, url = ROUTER_PUBLIC_URL) {
    return fetch(router.voiceUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(token ? { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(token, url, params) } : {}),
      },
      body: new URLSearchParams(params),
    });
  }

  async function knownAccount() {
    const { account, from, to } = await accountWithTwoNumbers();
    // Its first authenticated request makes its token the simulator's.
    await listCalls(account);
    return {
      account,
      params: { AccountSid: account.sid, CallSid: `CA${'1'.repeat(32)}`, From: from, To: to, CallStatus: 'ringing' },
    };
  }

  it('answers a signed voice request with TwiML that hangs up at once', async () => {
    const { account, params } = await knownAccount();
    const answer = await voiceRequest(params, account.token);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/xml');
    expect(await answer.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });

  it('refuses a missing signature, a wrong one, one over another URL, and an unknown account with 403', async () => {
    const { account, params } = await knownAccount();
    expect((await voiceRequest(params, undefined)).status).toBe(403);
    expect((await voiceRequest(params, 'not-the-token')).status).toBe(403);
    expect((await voiceRequest(params, account.token, 'https://elsewhere.example/twilio/voice')).status).toBe(403);
    const stranger = { ...params, AccountSid: `AC${'2'.repeat(32)}` };
    expect((await voiceRequest(stranger, account.token)).status).toBe(403);
    const refused = router.requests.filter((r) => r.callSid === params.CallSid && r.outcome === 'refused');
    expect(refused).toHaveLength(4);
  });

  it('answers its fault status for the next `times` calls, and a call then fails', async () => {
    const { account, from, to } = await accountWithTwoNumbers();
    expect((await control(`${router.url}/_router/faults`, { status: 500, times: 1 })).status).toBe(201);
    const failed = await createCall(account, { to, from, twiml: HANG_UP });
    await callReaches(account, failed.sid, ['failed']);
    expect((await inboundLeg(account, to, ['failed'])).status).toBe('failed');
    // The fault is spent: the next call is answered.
    const answered = await createCall(account, { to, from, twiml: HANG_UP });
    await callReaches(account, answered.sid, ['completed']);
  });

  it('refuses a fault without a valid status', async () => {
    expect((await control(`${router.url}/_router/faults`, { status: 200 })).status).toBe(400);
    expect((await control(`${router.url}/_router/faults`, { status: 500, times: 0 })).status).toBe(400);
  });
});

describe('reset', () => {
  it('forgets the calls, and a call that was going changes nothing after it', async () => {
    const own = await startTwilioSimulator({ port: 0 });
    try {
      const account = newAccount(own.url);
      const [from, to] = [nextNumber(), nextNumber()];
      for (const phoneNumber of [from, to]) {
        await control(`${own.url}/_sim/accounts/${account.sid}/incoming-phone-numbers`, { phoneNumber });
      }
      const ringing = await account.client.calls.create({ to: nextNumber(), from, twiml: HANG_UP, timeout: 1 });
      expect(ringing.status).toBe('queued');
      expect((await control(`${own.url}/_sim/reset`)).status).toBe(204);
      // Past the call's Timeout: its run would have ended it.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect((await control(`${own.url}/_sim/calls`, undefined, 'GET')).body).toEqual([]);
    } finally {
      await own.close();
    }
  });
});

describe('Calls in the state file', () => {
  it('keeps calls and unreachable numbers across a restart, and ends the calls a stop interrupted', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sim-calls-'));
    const stateFile = path.join(dir, 'state.json');
    try {
      const first = await startTwilioSimulator({ port: 0, stateFile });
      const account = newAccount(first.url);
      const add = (phoneNumber: string) =>
        control(`${first.url}/_sim/accounts/${account.sid}/incoming-phone-numbers`, { phoneNumber });
      const [from, to, lost] = [nextNumber(), nextNumber(), nextNumber()];
      for (const n of [from, to, lost]) await add(n);
      await control(`${first.url}/_sim/accounts/${account.sid}/incoming-phone-numbers/${lost}/routing`, {
        reachable: false,
      });
      const ringing = await account.client.calls.create({ to: lost, from, twiml: HANG_UP, timeout: 600 });
      await eventually(async () =>
        (await account.client.calls(ringing.sid).fetch()).status === 'ringing' ? 1 : undefined,
      );
      await first.close();

      const second = await startTwilioSimulator({ port: 0, stateFile });
      try {
        const client = fullTwilioClient(account.sid, account.token, second.url);
        const restored = await client.calls(ringing.sid).fetch();
        expect(restored.status).toBe('failed');
        const retry = await client.calls.create({ to: lost, from, twiml: HANG_UP, timeout: 1 });
        const ended = await eventually(async () => {
          const call = await client.calls(retry.sid).fetch();
          return call.status === 'ringing' || call.status === 'queued' ? undefined : call;
        });
        // Still unreachable after the restart: it rang out.
        expect(ended.status).toBe('no-answer');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
