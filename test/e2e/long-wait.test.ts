import { SFNClient } from '@aws-sdk/client-sfn';
import { SignedApiClient } from '../../local/signed-api-client';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack, startLocalStack } from '../../local/stack';
import { eventually } from '../support/eventually';
import { attestations, losingCarrier, newAccount, utilityBillBase64 } from '../support/fixtures';
import { executionArnNamed, executionHistory, loopCycles } from '../support/workflow-history';

describe('explore', () => {
  let stack: LocalStack;
  let api: SignedApiClient;
  beforeAll(async () => {
    stack = await startLocalStack({
      apiPort: 0,
      twilioPort: 0,
      sesPort: 0,
      pollIntervalSeconds: 1,
      reminderIntervalSeconds: 3,
      retryIntervalScale: 0.01,
    });
    api = new SignedApiClient(stack.urls.api, LOCAL_CREDENTIALS);
  }, 60000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('dumps', async () => {
    const { accountId, accountSid, authToken } = newAccount();
    const base = `/v1/accounts/${accountId}`;
    await api.put(`${base}/twilio-connection`, { accountSid, authToken });
    const bill = await api.post<{ documentSid: string }>(`${base}/documents`, {
      fileName: 'bill.pdf',
      contentType: 'application/pdf',
      contentBase64: utilityBillBase64,
    });
    const order = await api.post<{ portRequests: Array<{ portRequestId: string }> }>(
      `${base}/port-orders`,
      {
        losingCarriers: [losingCarrier('CallRail', bill.body.documentSid, ['(415) 555-0140'])],
        notificationEmails: ['o@acme.example'],
        attestations,
      },
      { 'Idempotency-Key': `key-${accountId}` },
    );
    const portRequestId = order.body.portRequests[0]?.portRequestId as string;
    const sfn = new SFNClient({
      endpoint: stack.urls.stepFunctions,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const arn = await eventually(() => executionArnNamed(sfn, stack.stateMachineArn, portRequestId));
    await new Promise((r) => setTimeout(r, 6000));
    const events = await executionHistory(sfn, arn);
    console.log(
      events
        .map((e) => `${e.id} ${e.type} ${e.stateEnteredEventDetails?.name ?? ''} ${e.timestamp?.toISOString()}`)
        .join('\n'),
    );
    console.log(loopCycles(events, 'WaitForPortUpdate').map((c) => c.types.length));
  }, 60000);
});
