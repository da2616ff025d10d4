import { LOCAL_CREDENTIALS, type LocalStack } from '../../local/stack';
import { eventually } from '../support/eventually';
import { attestations, losingCarrier, newAccount, utilityBillBase64 } from '../support/fixtures';
import { CALL_ROUTER_URL, CheckedApiClient, startTestStack } from '../support/harness';

type PortRequestView = {
  portRequestId: string;
  status: string;
  route: string;
  twilioPortInRequestSid: string | null;
  losingCarrier: Record<string, unknown>;
  phoneNumbers: Array<{ phoneNumber: string; status: string; imported: boolean; focDate?: string }>;
  safeToCancelOldService: boolean;
  focDate?: string;
};
type Email = { subject: string; destination: { to: string[] }; body: { text: string; html: string } };

describe('one port, end to end on the local stack', () => {
  let stack: LocalStack;
  let api: CheckedApiClient;

  beforeAll(async () => {
    stack = await startTestStack();
    api = new CheckedApiClient(stack.urls.api, LOCAL_CREDENTIALS);
  }, 60000);

  afterAll(async () => {
    await stack?.stop();
  });

  const sim = async (path: string, body?: unknown) => {
    const response = await fetch(`${stack.urls.twilio}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status).toBeLessThan(300);
    return response.json() as Promise<unknown>;
  };
  const emailsTo = async (to: string): Promise<Email[]> => {
    const store = (await (await fetch(`${stack.urls.ses}/store`)).json()) as { emails: Email[] };
    return store.emails.filter((e) => e.destination.to.includes(to));
  };

  it('ports the numbers, imports them, and only then says it is safe to cancel', async () => {
    const { accountId, accountSid, authToken } = newAccount();
    const base = `/v1/accounts/${accountId}`;
    const owner = `owner-${accountId}@acme.example`;

    const connected = await api.put<{ webhookUrl: string }>(`${base}/twilio-connection`, { accountSid, authToken });
    expect(connected.status).toBe(200);
    expect(connected.body.webhookUrl).toBe(`${stack.urls.api}/v1/webhooks/twilio/${accountId}/port-in`);
    expect(JSON.stringify(connected.body)).not.toContain(authToken);

    const bill = await api.post<{ documentSid: string }>(`${base}/documents`, {
      fileName: 'bill.pdf',
      contentType: 'application/pdf',
      contentBase64: utilityBillBase64,
    });
    expect(bill.status).toBe(201);
    expect(bill.body.documentSid).toMatch(/^RD[0-9a-f]{32}$/);

    const order = await api.post<{
      orderId: string;
      portRequests: Array<{ portRequestId: string; route: string; losingCarrier: string; phoneNumbers: string[] }>;
    }>(
      `${base}/port-orders`,
      {
        losingCarriers: [
          losingCarrier(
            'CallRail',
            bill.body.documentSid,
            ['(415) 555-0140', { phoneNumber: '415.555.0141', pin: '9876' }],
            {
              pin: '4321',
            },
          ),
        ],
        notificationEmails: [owner],
        attestations,
      },
      { 'Idempotency-Key': `key-${accountId}` },
    );
    expect(order.status).toBe(202);
    expect(order.body.portRequests).toEqual([
      expect.objectContaining({
        route: 'API',
        losingCarrier: 'CallRail',
        phoneNumbers: ['+14155550140', '+14155550141'],
      }),
    ]);
    const portRequestId = order.body.portRequests[0]?.portRequestId as string;
    const prPath = `${base}/port-requests/${portRequestId}`;

    // Submitted to Twilio with the snake_case body Twilio wants, the utility bill and each number's PIN.
    const submitted = await eventually(
      async () => {
        const pr = await api.get<PortRequestView>(prPath);
        return pr.body.twilioPortInRequestSid ? pr.body : undefined;
      },
      { what: 'the port-in to be submitted' },
    );
    expect(submitted.status).toBe('IN_REVIEW');
    expect(JSON.stringify(submitted)).not.toMatch(/9876|4321|"pin"/);
    const sid = submitted.twilioPortInRequestSid as string;
    const portIns = (await sim('/_sim/port-ins')) as Array<{
      sid?: string;
      port_in_request_sid?: string;
      body?: unknown;
      createBody?: unknown;
    }>;
    const created = portIns.find((p) => JSON.stringify(p).includes(sid));
    expect(JSON.stringify(created)).toContain('"account_sid"');
    const createBody = JSON.stringify(created);
    expect(createBody).toContain('"losing_carrier_information"');
    expect(createBody).toContain('"customer_name":"Acme Plumbing LLC"');
    expect(createBody).toContain('"street_2":"Suite 2"');
    expect(createBody).toContain(`"documents":["${bill.body.documentSid}"]`);
    expect(createBody).toContain('{"phone_number":"+14155550141","pin":"9876"}');
    expect(createBody).toContain('{"phone_number":"+14155550140","pin":"4321"}');
    expect(createBody).not.toContain('phoneNumbers');

    // The first email says not to cancel the old service.
    const firstEmails = await eventually(async () => {
      const emails = await emailsTo(owner);
      return emails.length > 0 ? emails : undefined;
    });
    expect(firstEmails[0]?.subject.toLowerCase()).toContain('do not cancel');

    // Twilio moves the port on; each webhook wakes the workflow.
    await sim(`/_sim/port-ins/${sid}/status`, { status: 'Waiting for Signature' });
    await eventually(
      async () => ((await api.get<PortRequestView>(prPath)).body.status === 'WAITING_FOR_SIGNATURE' ? true : undefined),
      {
        what: 'WAITING_FOR_SIGNATURE',
      },
    );
    await sim(`/_sim/port-ins/${sid}/status`, {
      status: 'In Progress',
      phoneNumbers: {
        '+14155550140': { status: 'port_pending', focDate: '2026-12-10' },
        '+14155550141': { status: 'port_pending', focDate: '2026-12-10' },
      },
    });
    const foc = await eventually(
      async () => {
        const pr = (await api.get<PortRequestView>(prPath)).body;
        return pr.status === 'FOC_RECEIVED' ? pr : undefined;
      },
      { what: 'FOC_RECEIVED' },
    );
    expect(foc.focDate).toBe('2026-12-10');
    expect(foc.safeToCancelOldService).toBe(false);

    await sim(`/_sim/port-ins/${sid}/status`, { status: 'Completed' });
    const done = await eventually(
      async () => {
        const pr = (await api.get<PortRequestView>(prPath)).body;
        return pr.safeToCancelOldService ? pr : undefined;
      },
      { what: 'safeToCancelOldService', timeoutMs: 30000 },
    );
    expect(done.status).toBe('COMPLETED');
    expect(done.phoneNumbers.every((n) => n.status === 'COMPLETED' && n.imported)).toBe(true);

    // In the inventory, and pointed at the call router in Twilio.
    const inventory = await api.get<{ items: Array<{ phoneNumber: string; source: string; portRequestId: string }> }>(
      `${base}/inventory`,
    );
    expect(inventory.body.items.map((n) => [n.phoneNumber, n.source, n.portRequestId]).sort()).toEqual([
      ['+14155550140', 'PORTED', portRequestId],
      ['+14155550141', 'PORTED', portRequestId],
    ]);
    const incoming = (await (
      await fetch(`${stack.urls.twilio}/2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers.json`, {
        headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` },
      })
    ).json()) as { incoming_phone_numbers: Array<{ phone_number: string; voice_url: string }> };
    expect(incoming.incoming_phone_numbers.map((n) => [n.phone_number, n.voice_url]).sort()).toEqual([
      ['+14155550140', CALL_ROUTER_URL],
      ['+14155550141', CALL_ROUTER_URL],
    ]);

    // The last email says it is safe to cancel and lists the numbers; every earlier one said not to.
    const emails = await eventually(async () => {
      const all = await emailsTo(owner);
      return all.some((e) => e.subject.toLowerCase().includes('safe to cancel')) ? all : undefined;
    });
    const last = emails.at(-1) as Email;
    expect(last.subject.toLowerCase()).toContain('safe to cancel');
    expect(last.body.text).toContain('(415) 555-0140');
    expect(last.body.text).toContain('(415) 555-0141');
    for (const email of emails.slice(0, -1)) expect(email.subject.toLowerCase()).toContain('do not cancel');
    for (const email of emails) expect(`${email.body.text}${email.body.html}`).not.toMatch(/9876|4321|5551234/);

    // The timeline tells the story in order (the EMAIL_SENT event is written just after SES took the email).
    await eventually(async () => {
      const timeline = await api.get<{ items: Array<{ type: string; detail?: string }> }>(`${prPath}/events`);
      return timeline.body.items.some((e) => e.type === 'EMAIL_SENT' && e.detail === 'PORT_COMPLETED')
        ? true
        : undefined;
    });
    const events = await api.get<{ items: Array<{ type: string; status?: string; detail?: string }> }>(
      `${prPath}/events`,
    );
    const story = events.body.items.map((e) =>
      e.status ? `${e.type}:${e.status}` : e.detail ? `${e.type}:${e.detail}` : e.type,
    );
    expect(story).toEqual(
      expect.arrayContaining([
        'ORDER_ACCEPTED:SUBMITTING',
        `SUBMITTED_TO_TWILIO:${sid}`,
        'STATUS_CHANGED:IN_REVIEW',
        'EMAIL_SENT:PORT_SUBMITTED',
        'STATUS_CHANGED:WAITING_FOR_SIGNATURE',
        'FOC_DATE_SET:2026-12-10',
        'STATUS_CHANGED:FOC_RECEIVED',
        'EMAIL_SENT:FOC_DATE_SET',
        'STATUS_CHANGED:COMPLETED',
        'NUMBERS_IMPORTED:+14155550140, +14155550141',
        'NUMBER_VERIFIED:+14155550140',
        'NUMBER_VERIFIED:+14155550141',
        'EMAIL_SENT:PORT_COMPLETED',
      ]),
    );
    // Each number was test-called (each from the other) before "safe to cancel".
    expect(story.indexOf('NUMBER_VERIFIED:+14155550141')).toBeLessThan(story.indexOf('EMAIL_SENT:PORT_COMPLETED'));
    expect(done.phoneNumbers.map((n) => (n as { verification?: { status: string } }).verification?.status)).toEqual([
      'PASSED',
      'PASSED',
    ]);
    expect(story.indexOf('NUMBERS_IMPORTED:+14155550140, +14155550141')).toBeLessThan(
      story.indexOf('EMAIL_SENT:PORT_COMPLETED'),
    );
  }, 90000);
});
