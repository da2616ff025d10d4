import { createHash } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import type { LocalStack } from '../../local/stack';
import { startTestStack, TestAccount } from '../support/harness';
import { Workflows } from '../support/paths';

/** Posts a porting webhook signed the way Twilio signs JSON bodies, with the given token. */
async function postWebhook(
  stack: LocalStack,
  accountId: string,
  token: string,
  body: object,
  tamper?: (b: string) => string,
) {
  const raw = JSON.stringify(body);
  const url = `${stack.urls.api}/v1/webhooks/twilio/${accountId}/port-in?bodySHA256=${createHash('sha256').update(raw).digest('hex')}`;
  const signature = getExpectedTwilioSignature(token, url, {});
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-twilio-signature': signature },
    body: tamper ? tamper(raw) : raw,
  });
}

describe('Twilio webhooks: signatures and token rotation, end to end', () => {
  let stack: LocalStack;
  let workflows: Workflows;

  beforeAll(async () => {
    stack = await startTestStack();
    workflows = new Workflows(stack);
  }, 60000);

  afterAll(async () => {
    workflows?.destroy();
    await stack?.stop();
  });

  it('answers 403 and changes nothing for forged, tampered, unsigned and wrong-account webhooks', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [portRequestId] = (await account.order(bill, ['(415) 555-0110'])) as [string];
    const sid = await account.submitted(portRequestId);
    // The workflow settles first (submitted email sent, task token stored): what changes after is the webhooks'.
    await workflows.settled(portRequestId);
    const before = { ...(await account.portRequest(portRequestId)), events: await account.events(portRequestId) };
    expect(before.events.some((e) => e.type === 'EMAIL_SENT')).toBe(true);
    const event = { event_type: 'PortInCompleted', port_in_request_sid: sid, status: 'Completed' };

    const forged = await postWebhook(stack, account.accountId, 'not-the-token-0000', event);
    expect(forged.status).toBe(403);
    expect(forged.headers.get('content-type')).toBe('application/problem+json');
    const tampered = await postWebhook(stack, account.accountId, account.authToken, event, (raw) =>
      raw.replace('Completed', 'Canceled'),
    );
    expect(tampered.status).toBe(403);
    const unsigned = await fetch(`${stack.urls.api}/v1/webhooks/twilio/${account.accountId}/port-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(unsigned.status).toBe(403);
    const other = new TestAccount(stack);
    await other.connect();
    const wrongAccount = await postWebhook(stack, other.accountId, account.authToken, event);
    expect(wrongAccount.status).toBe(403);

    const after = await account.portRequest(portRequestId);
    expect(after.updatedAt).toBe(before.updatedAt);
    expect(after.status).toBe(before.status);
    expect(await account.events(portRequestId)).toEqual(before.events);
  }, 30000);

  it('accepts webhooks signed with the new token once the connection is rotated, and refuses the old one', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [portRequestId] = (await account.order(bill, ['(415) 555-0111'])) as [string];
    const sid = await account.submitted(portRequestId);

    const newToken = `${account.authToken.slice(0, 16)}rotated0000000000`;
    await account.sim(`/_sim/accounts/${account.accountSid}/auth-token`, { authToken: newToken });
    const rotated = await account.api.put(`${account.base}/twilio-connection`, {
      accountSid: account.accountSid,
      authToken: newToken,
    });
    expect(rotated.status).toBe(200);

    const stale = await postWebhook(stack, account.accountId, account.authToken, {
      event_type: 'PortInWaitingForSignature',
      port_in_request_sid: sid,
      status: 'Waiting for Signature',
    });
    expect(stale.status).toBe(403);

    // The simulator signs with the new token; the poll cadence (30 s) is far off, so only the webhook moves it.
    await account.setTwilioStatus(sid, { status: 'Waiting for Signature' });
    await account.waitFor(
      portRequestId,
      (pr) => pr.status === 'WAITING_FOR_SIGNATURE',
      'the webhook signed with the new token',
      10000,
    );
  }, 30000);
});
