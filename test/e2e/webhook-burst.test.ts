import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack } from '../../local/stack';
import { eventually } from '../support/eventually';
import { startTestStack, TestAccount } from '../support/harness';
import { Workflows } from '../support/paths';
import { entriesOf } from '../support/workflow-history';

/** The settle window these tests run with: long enough to see a burst held, short enough for a test. */
const SETTLE_SECONDS = 4;

/** Posts a porting webhook signed the way Twilio signs JSON bodies, with the given token. */
async function postWebhook(stack: LocalStack, accountId: string, token: string, body: object) {
  const raw = JSON.stringify(body);
  const url = `${stack.urls.api}/v1/webhooks/twilio/${accountId}/port-in?bodySHA256=${createHash('sha256').update(raw).digest('hex')}`;
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-twilio-signature': getExpectedTwilioSignature(token, url, {}) },
    body: raw,
  });
}

describe('Twilio webhooks in bursts, end to end', () => {
  let stack: LocalStack;
  let db: DynamoDBDocumentClient;
  let workflows: Workflows;

  beforeAll(async () => {
    stack = await startTestStack({ webhookSettleSeconds: SETTLE_SECONDS });
    workflows = new Workflows(stack);
    db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: stack.urls.dynamoDb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
    );
  }, 60000);

  afterAll(async () => {
    db?.destroy();
    workflows?.destroy();
    await stack?.stop();
  });

  const stored = async (accountId: string, portRequestId: string) =>
    (
      await db.send(
        new GetCommand({
          TableName: stack.tableName,
          Key: { PK: `ACCOUNT#${accountId}`, SK: `PORT_REQUEST#${portRequestId}` },
          ConsistentRead: true,
        }),
      )
    ).Item as { wakeCount?: number; version: number };

  it('answers 200 to every one of many concurrent webhooks about one port, and records every wake', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [portRequestId] = (await account.order(bill, ['(415) 555-0120'])) as [string];
    const sid = await account.submitted(portRequestId);
    // The workflow waits for Twilio (its task token is stored), as a port does most of its life.
    await eventually(
      async () => ((await account.events(portRequestId)).some((e) => e.type === 'EMAIL_SENT') ? 1 : undefined),
      {
        what: 'the submitted email',
      },
    );
    const before = (await stored(account.accountId, portRequestId)).wakeCount ?? 0;

    const count = 120;
    const event = { event_type: 'PortInProcessing', port_in_request_sid: sid, status: 'In Progress' };
    const statuses = await Promise.all(
      Array.from(
        { length: count },
        async () => (await postWebhook(stack, account.accountId, account.authToken, event)).status,
      ),
    );

    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect((await stored(account.accountId, portRequestId)).wakeCount).toBe(before + count);
  }, 60000);

  it('a warm function that kept the old token accepts the rotated one at once, and refuses the old one', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [portRequestId] = (await account.order(bill, ['(415) 555-0121'])) as [string];
    const sid = await account.submitted(portRequestId);
    const event = { event_type: 'PortInProcessing', port_in_request_sid: sid, status: 'In Progress' };
    // The function reads (and keeps) the account's current token.
    expect((await postWebhook(stack, account.accountId, account.authToken, event)).status).toBe(200);

    const newToken = `${account.authToken.slice(0, 16)}rotated1111111111`;
    await account.sim(`/_sim/accounts/${account.accountSid}/auth-token`, { authToken: newToken });
    const rotated = await account.api.put(`${account.base}/twilio-connection`, {
      accountSid: account.accountSid,
      authToken: newToken,
    });
    expect(rotated.status).toBe(200);

    const wakes = (await stored(account.accountId, portRequestId)).wakeCount ?? 0;
    expect((await postWebhook(stack, account.accountId, newToken, event)).status).toBe(200);
    expect((await postWebhook(stack, account.accountId, account.authToken, event)).status).toBe(403);
    expect((await stored(account.accountId, portRequestId)).wakeCount).toBe(wakes + 1);
  }, 60000);

  it('reads a burst of webhooks with a sync per settle window (the first at once), none lost', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [portRequestId] = (await account.order(bill, ['(415) 555-0122'])) as [string];
    const sid = await account.submitted(portRequestId);
    await workflows.settled(portRequestId);
    const syncsBefore = entriesOf(await workflows.history(portRequestId), 'SyncPortStatus').length;

    // Twilio moves the port on (its own webhook dropped), then a burst announces it: 6 waves of 10, 200 ms apart.
    await account.setTwilioStatus(sid, { status: 'Waiting for Signature', webhook: 'drop' });
    const event = {
      event_type: 'PortInWaitingForSignature',
      port_in_request_sid: sid,
      status: 'Waiting for Signature',
    };
    const started = Date.now();
    const statuses: number[] = [];
    for (let wave = 0; wave < 6; wave += 1) {
      statuses.push(
        ...(await Promise.all(
          Array.from(
            { length: 10 },
            async () => (await postWebhook(stack, account.accountId, account.authToken, event)).status,
          ),
        )),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const burstMs = Date.now() - started;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    // The first webhook's sync shows the change at once, well inside the settle window.
    await account.waitFor(portRequestId, (pr) => pr.status === 'WAITING_FOR_SIGNATURE', 'the new status', 10000);
    // The rest of the burst is read by one more sync at the window's end, then the workflow waits again.
    await new Promise((resolve) => setTimeout(resolve, (SETTLE_SECONDS + 1) * 1000));
    await workflows.settled(portRequestId);
    const history = await workflows.history(portRequestId);
    const syncs = entriesOf(history, 'SyncPortStatus').length - syncsBefore;
    // One sync per settle window the burst spans, plus the first: 2 when the burst fits in one window.
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(1 + Math.ceil(burstMs / (SETTLE_SECONDS * 1000)));
    expect(syncs).toBeLessThan(statuses.length / 10);
    expect(entriesOf(history, 'SettleWebhooks').length).toBeGreaterThanOrEqual(syncs);
    // Every webhook was recorded, and the last sync covered them all: nothing is left waiting for a sync.
    const item = (await stored(account.accountId, portRequestId)) as { wakeCount?: number; wakesHandled?: number };
    expect(item.wakesHandled).toBe(item.wakeCount);
  }, 60000);
});
