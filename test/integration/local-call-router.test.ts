import { randomBytes } from 'node:crypto';
import type { LocalStack } from '../../local/stack';
import { eventually } from '../support/eventually';
import { CALL_ROUTER_URL, startTestStack } from '../support/harness';
import { fullTwilioClient } from '../support/twilio-simulator';

// The local stack starts the call router stand-in at the URL the imports give the numbers' voice webhooks
// (CALL_ROUTER_URL), and the Twilio simulator's calls to that URL reach it, signed (issue 12, item 4).

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

async function control(url: string, body: unknown): Promise<number> {
  const answer = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  await answer.arrayBuffer();
  return answer.status;
}

/** A Twilio account on the stack's simulator with two numbers whose voice URL is the product's call router. */
async function accountWithTwoNumbers() {
  const sid = `AC${randomBytes(16).toString('hex')}`;
  const token = randomBytes(16).toString('hex');
  const numbers: string[] = [];
  for (const suffix of ['0101', '0102']) {
    const phoneNumber = `+1332555${suffix}`;
    const added = `${stack.urls.twilio}/_sim/accounts/${sid}/incoming-phone-numbers`;
    expect(await control(added, { phoneNumber, voiceUrl: CALL_ROUTER_URL })).toBe(201);
    numbers.push(phoneNumber);
  }
  const [from = '', to = ''] = numbers;
  return { sid, client: fullTwilioClient(sid, token, stack.urls.twilio), from, to };
}

async function finalStatus(client: ReturnType<typeof fullTwilioClient>, sid: string): Promise<string> {
  return eventually(
    async () => {
      const call = await client.calls(sid).fetch();
      return ['queued', 'ringing', 'in-progress'].includes(call.status) ? undefined : call.status;
    },
    { what: `call ${sid} to end`, intervalMs: 50 },
  );
}

it('answers for CALL_ROUTER_URL: a call to a number of the account reaches it and completes', async () => {
  expect(stack.urls.callRouterPublic).toBe(CALL_ROUTER_URL);
  const { client, from, to } = await accountWithTwoNumbers();
  const call = await client.calls.create({ to, from, twiml: '<Response><Hangup/></Response>', timeout: 15 });
  expect(await finalStatus(client, call.sid)).toBe('completed');
  const inbound = (await client.calls.list({ to })).find((c) => c.direction === 'inbound');
  expect(inbound?.status).toBe('completed');
  const requests = (await (await fetch(`${stack.urls.callRouter}/_router/requests`)).json()) as Array<{
    callSid: string;
    outcome: string;
  }>;
  expect(requests.filter((r) => r.callSid === inbound?.sid).map((r) => r.outcome)).toEqual(['answered']);
});

it("fails the inbound leg while the router's fault route makes it answer 500", async () => {
  const { client, from, to } = await accountWithTwoNumbers();
  expect(await control(`${stack.urls.callRouter}/_router/faults`, { status: 500, times: 1 })).toBe(201);
  const call = await client.calls.create({ to, from, twiml: '<Response><Hangup/></Response>', timeout: 15 });
  expect(await finalStatus(client, call.sid)).toBe('failed');
  const inbound = (await client.calls.list({ to, status: 'failed' })).find((c) => c.direction === 'inbound');
  expect(inbound).toBeDefined();
});
