import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { LocalStack } from '../../local/stack';
import { LOCAL_CREDENTIALS } from '../../local/stack';
import { eventually } from '../support/eventually';
import { startTestStack, TestAccount } from '../support/harness';

type SimPortIn = {
  sid: string;
  status: string;
  createBody: {
    phone_numbers: Array<{ phone_number: string; pin?: string }>;
    losing_carrier_information: { account_number?: string };
  };
};

describe('corrections and cancel, end to end', () => {
  let stack: LocalStack;
  let sfn: SFNClient;

  beforeAll(async () => {
    stack = await startTestStack();
    sfn = new SFNClient({ endpoint: stack.urls.stepFunctions, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  }, 60000);

  afterAll(async () => {
    sfn?.destroy();
    await stack?.stop();
  });

  const executionsOf = async (portRequestId: string) => {
    const list = await sfn.send(new ListExecutionsCommand({ stateMachineArn: stack.stateMachineArn }));
    return (list.executions ?? []).filter((e) => e.name === portRequestId);
  };

  it('resubmits a rejected port with the corrections and carries on in the same execution', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [portRequestId] = (await account.order(bill, ['(415) 555-0150', '(415) 555-0151'])) as [string];
    const firstSid = await account.submitted(portRequestId);
    const correctionsPath = `${account.base}/port-requests/${portRequestId}/corrections`;

    const tooEarly = await account.api.post<{ status: number; detail: string }>(correctionsPath, { pin: '2468' });
    expect(tooEarly.status).toBe(409);
    expect(tooEarly.headers.get('content-type')).toContain('application/problem+json');

    await account.setTwilioStatus(firstSid, {
      status: 'Action Required',
      phoneNumbers: { '+14155550150': { status: 'port_rejected', rejectionReason: 'INVALID_PIN' } },
    });
    await account.waitFor(portRequestId, (pr) => pr.status === 'ACTION_REQUIRED', 'ACTION_REQUIRED');

    const badNumber = await account.api.post<{ errors: Array<{ path: string }> }>(correctionsPath, {
      phoneNumbers: [{ phoneNumber: '+14155550199', pin: '2468' }],
    });
    expect(badNumber.status).toBe(400);
    expect(badNumber.body.errors).toEqual([expect.objectContaining({ path: 'phoneNumbers[0].phoneNumber' })]);
    const empty = await account.api.post(correctionsPath, {});
    expect(empty.status).toBe(400);

    const corrected = await account.api.post<{ status: string }>(correctionsPath, {
      accountNumber: '8675309',
      phoneNumbers: [{ phoneNumber: '(415) 555-0150', pin: '2468' }],
    });
    expect(corrected.status).toBe(202);
    expect(JSON.stringify(corrected.body)).not.toContain('2468');

    const resubmitted = await account.waitFor(
      portRequestId,
      (pr) => Boolean(pr.twilioPortInRequestSid) && pr.twilioPortInRequestSid !== firstSid,
      'the corrected resubmission',
    );
    expect(resubmitted.status).toBe('IN_REVIEW');
    expect(resubmitted.phoneNumbers.map((n) => [n.phoneNumber, n.status, n.rejectionReason])).toEqual([
      ['+14155550150', 'PENDING', undefined],
      ['+14155550151', 'PENDING', undefined],
    ]);
    const secondSid = resubmitted.twilioPortInRequestSid as string;
    const portIns = await account.sim<SimPortIn[]>(`/_sim/port-ins?accountSid=${account.accountSid}`);
    const first = portIns.find((p) => p.sid === firstSid);
    const second = portIns.find((p) => p.sid === secondSid);
    expect(first?.status.toLowerCase()).toBe('canceled');
    expect(second?.createBody.losing_carrier_information.account_number).toBe('8675309');
    expect(second?.createBody.phone_numbers).toEqual([
      { phone_number: '+14155550150', pin: '2468' },
      { phone_number: '+14155550151' },
    ]);

    await account.setTwilioStatus(secondSid, { status: 'Completed' });
    await account.waitFor(portRequestId, (pr) => pr.safeToCancelOldService, 'safe to cancel');

    const types = (await account.events(portRequestId)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['CORRECTION_RECEIVED', 'CORRECTION_SUBMITTED', 'NUMBERS_IMPORTED']));
    const received = (await account.events(portRequestId)).find((e) => e.type === 'CORRECTION_RECEIVED');
    expect(received?.detail).toBe('accountNumber, phoneNumbers');
    const emails = await eventually(async () => {
      const all = await account.emails();
      return all.some((e) => e.subject.toLowerCase().includes('safe to cancel')) ? all : undefined;
    });
    const subjects = emails.map((e) => e.subject);
    expect(subjects.some((s) => s.startsWith('Action required'))).toBe(true);
    expect(subjects.some((s) => s.includes('we resubmitted your port request'))).toBe(true);
    for (const email of emails) expect(`${email.body.text}${email.body.html}`).not.toMatch(/2468|8675309/);

    // The email is in SES a moment before DeliverCompletionEmails returns and the execution ends.
    const executions = await eventually(
      async () => {
        const found = await executionsOf(portRequestId);
        return found.every((e) => e.status !== 'RUNNING') ? found : undefined;
      },
      { what: 'the execution to end' },
    );
    expect(executions).toHaveLength(1);
    expect(executions[0]?.status).toBe('SUCCEEDED');
  }, 60000);

  it('cancels in Twilio, ends the workflow and tells the customer to keep the old service', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [portRequestId] = (await account.order(bill, ['(415) 555-0160'])) as [string];
    const sid = await account.submitted(portRequestId);
    const cancelPath = `${account.base}/port-requests/${portRequestId}/cancel`;

    const stranger = new TestAccount(stack);
    await stranger.connect();
    const notYours = await stranger.api.post(`${stranger.base}/port-requests/${portRequestId}/cancel`, undefined);
    expect(notYours.status).toBe(404);

    const canceled = await account.api.post<{ status: string; phoneNumbers: Array<{ status: string }> }>(
      cancelPath,
      undefined,
    );
    expect(canceled.status).toBe(202);
    expect(canceled.body.status).toBe('CANCELED');
    expect(canceled.body.phoneNumbers.map((n) => n.status)).toEqual(['CANCELED']);

    const portIn = await account.sim<SimPortIn>(`/_sim/port-ins/${sid}`);
    expect(portIn.status.toLowerCase()).toBe('canceled');

    const execution = await eventually(
      async () => {
        const [found] = await executionsOf(portRequestId);
        if (!found?.executionArn) return undefined;
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn: found.executionArn }));
        return described.status === 'SUCCEEDED' ? described : undefined;
      },
      { what: 'the execution to end' },
    );
    expect(execution.status).toBe('SUCCEEDED');

    const emails = await eventually(async () => {
      const all = await account.emails();
      return all.some((e) => e.subject.startsWith('Port canceled')) ? all : undefined;
    });
    const cancelEmail = emails.find((e) => e.subject.startsWith('Port canceled'));
    expect(cancelEmail?.subject.toLowerCase()).toContain('do not cancel');
    expect(cancelEmail?.body.text).toContain('your numbers stay there');

    const again = await account.api.post(cancelPath, undefined);
    expect(again.status).toBe(409);
    const types = (await account.events(portRequestId)).map((e) => (e.status ? `${e.type}:${e.status}` : e.type));
    expect(types).toEqual(expect.arrayContaining(['STATUS_CHANGED:CANCELED', 'CANCELED_BY_CUSTOMER', 'EMAIL_SENT']));
  }, 60000);

  it('refuses to cancel a completed port', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const [portRequestId] = (await account.order(bill, ['(415) 555-0170'])) as [string];
    const sid = await account.submitted(portRequestId);
    await account.setTwilioStatus(sid, { status: 'Completed' });
    await account.waitFor(portRequestId, (pr) => pr.safeToCancelOldService, 'safe to cancel');
    const answer = await account.api.post<{ status: number; title: string }>(
      `${account.base}/port-requests/${portRequestId}/cancel`,
      undefined,
    );
    expect(answer.status).toBe(409);
    expect(answer.body.status).toBe(409);
  }, 60000);
});
