import '../local/polyfills';
import { randomBytes, randomInt } from 'node:crypto';
import { SignedApiClient } from '../local/signed-api-client';
import { LOCAL_CREDENTIALS, type LocalStack, startLocalStack } from '../local/stack';

/**
 * `npm run demo`: starts the local stack (or uses one already running on the default ports), connects a demo
 * Twilio account, orders a port of numbers from two losing carriers, and shows the port moving until every number
 * is ported and imported, then test-called (one number's carrier routing lags at first: its check fails, the customer
 * is told not to cancel yet, and a re-check passes once the routing moves) before "safe to cancel"; then prints the
 * timeline and where to read the emails.
 */

const DEFAULT_API = process.env.DEMO_API_URL ?? 'http://127.0.0.1:3000';
const DEFAULT_SIM = process.env.DEMO_TWILIO_URL ?? 'http://127.0.0.1:4010';
const DEFAULT_SES = process.env.DEMO_SES_URL ?? 'http://127.0.0.1:8005';
const TIMEOUT_MS = Number(process.env.DEMO_TIMEOUT_MS ?? 180_000);

type PortRequestView = {
  portRequestId: string;
  status: string;
  route: string;
  losingCarrier: { name: string };
  phoneNumbers: Array<{
    phoneNumber: string;
    status: string;
    imported: boolean;
    focDate?: string;
    verification: { status: string; detail?: string };
  }>;
  safeToCancelOldService: boolean;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const clock = (start: number) => `+${((Date.now() - start) / 1000).toFixed(1).padStart(5)}s`;

async function isUp(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
}

function randomLocalNumbers(count: number): string[] {
  const areaCodes = ['415', '510', '650', '408', '312', '206'];
  const seen = new Set<string>();
  while (seen.size < count) {
    const area = areaCodes[randomInt(areaCodes.length)];
    const line = String(100 + randomInt(100)).padStart(4, '0');
    seen.add(`(${area}) 555-${line}`);
  }
  return [...seen];
}

async function main(): Promise<void> {
  const started = Date.now();
  let stack: LocalStack | undefined;
  let urls = { api: DEFAULT_API, twilio: DEFAULT_SIM, ses: DEFAULT_SES };
  if (await isUp(`${DEFAULT_SIM}/_sim/port-ins`)) {
    console.log(`Using the local stack already running at ${DEFAULT_API} (start it with SIM_AUTO_ADVANCE=1).`);
  } else {
    console.log(
      'Starting the local stack (dynalite, SES, Secrets Manager, Step Functions, API Gateway, Twilio simulator)…',
    );
    stack = await startLocalStack({
      pollIntervalSeconds: 5,
      reminderIntervalSeconds: 6,
      simulatorAutoAdvance: true,
      simulatorStepMs: Number(process.env.SIM_STEP_MS ?? 2000),
      // The test calls' 2-minute answer window in 2 s, the 15-minute re-checks in 18 s.
      verificationTimeScale: Number(process.env.VERIFICATION_TIME_SCALE ?? 0.02),
    });
    urls = stack.urls;
    console.log(`  API ${urls.api} · Twilio simulator ${urls.twilio} · emails ${urls.ses}`);
  }
  const sim = (simPath: string, body: unknown) =>
    fetch(`${urls.twilio}${simPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  try {
    const api = new SignedApiClient(urls.api, LOCAL_CREDENTIALS);
    const accountId = `demo-${randomBytes(3).toString('hex')}`;
    const base = `/v1/accounts/${accountId}`;
    const accountSid = `AC${randomBytes(16).toString('hex')}`;

    const connection = await api.put<{ webhookUrl: string }>(`${base}/twilio-connection`, {
      accountSid,
      authToken: randomBytes(16).toString('hex'),
    });
    if (connection.status !== 200) throw new Error(`connect failed: ${JSON.stringify(connection.body)}`);
    console.log(
      `${clock(started)} Connected Twilio account ${accountSid}; porting webhook → ${connection.body.webhookUrl}`,
    );

    const bill = await api.post<{ documentSid: string }>(`${base}/documents`, {
      fileName: 'utility-bill.pdf',
      contentType: 'application/pdf',
      contentBase64: Buffer.from('%PDF-1.4\n% demo utility bill\n').toString('base64'),
    });
    if (bill.status !== 201) throw new Error(`upload failed: ${JSON.stringify(bill.body)}`);
    console.log(`${clock(started)} Uploaded the utility bill: ${bill.body.documentSid}`);

    const [a, b, c, d] = randomLocalNumbers(4) as [string, string, string, string];
    // Marchex has not moved d's routing yet when the port completes: calls to it do not reach Twilio.
    const lagging = `+1${d.replace(/\D/g, '')}`;
    await sim(`/_sim/accounts/${accountSid}/incoming-phone-numbers/${encodeURIComponent(lagging)}/routing`, {
      reachable: false,
    });
    let laggingFixed = false;
    const tollFree = `(888) 555-${String(100 + randomInt(100)).padStart(4, '0')}`;
    const address = { street: '1 Main St', city: 'San Francisco', state: 'CA', zip: '94105', country: 'US' };
    const order = await api.post<{
      orderId: string;
      portRequests: Array<{ portRequestId: string; route: string; losingCarrier: string; phoneNumbers: string[] }>;
      notPortable: unknown[];
    }>(
      `${base}/port-orders`,
      {
        losingCarriers: [
          {
            name: 'CallRail',
            customerType: 'Business',
            customerName: 'Acme Plumbing LLC',
            accountNumber: '5551234',
            authorizedRepresentative: 'Jane Doe',
            authorizedRepresentativeEmail: 'jane@acme.example',
            address,
            utilityBillDocumentSid: bill.body.documentSid,
            phoneNumbers: [a, { phoneNumber: b, pin: '9876' }],
          },
          {
            name: 'Marchex',
            customerType: 'Business',
            customerName: 'Acme Plumbing LLC',
            accountNumber: '77-1200',
            pin: '4321',
            authorizedRepresentative: 'Jane Doe',
            authorizedRepresentativeEmail: 'jane@acme.example',
            address,
            utilityBillDocumentSid: bill.body.documentSid,
            phoneNumbers: [c, d, tollFree],
          },
        ],
        notificationEmails: ['owner@acme.example'],
        attestations: { currentServiceActiveAndPaid: true, keepCurrentServiceUntilComplete: true },
      },
      { 'Idempotency-Key': `demo-${randomBytes(8).toString('hex')}` },
    );
    if (order.status !== 202) throw new Error(`order failed: ${JSON.stringify(order.body)}`);
    console.log(`${clock(started)} Order ${order.body.orderId} accepted, split into:`);
    for (const pr of order.body.portRequests) {
      console.log(
        `           ${pr.portRequestId}  ${pr.route.padEnd(6)} ${pr.losingCarrier.padEnd(9)} ${pr.phoneNumbers.join(', ')}`,
      );
    }

    // The toll-free number goes the MANUAL way: the customer ports it in Twilio's console; simulate that finishing.
    const manual = order.body.portRequests.find((pr) => pr.route === 'MANUAL');
    const seen = new Map<string, string>();
    const deadline = Date.now() + TIMEOUT_MS;
    let manualDone = false;
    for (;;) {
      const list = await api.get<{ items: PortRequestView[] }>(`${base}/port-requests?limit=100`);
      for (const pr of list.body.items) {
        const numbers = pr.phoneNumbers
          .map(
            (n) =>
              `${n.phoneNumber} ${n.status}${n.focDate ? ` (FOC ${n.focDate})` : ''}${n.imported ? ` imported, verification ${n.verification.status}` : ''}`,
          )
          .join(', ');
        const line = `${pr.status}${pr.safeToCancelOldService ? ' · SAFE TO CANCEL' : ' · do not cancel yet'} · ${numbers}`;
        if (seen.get(pr.portRequestId) !== line) {
          seen.set(pr.portRequestId, line);
          console.log(`${clock(started)} ${pr.portRequestId} ${pr.losingCarrier.name.padEnd(9)} ${line}`);
        }
      }
      if (manual && !manualDone && Date.now() - started > 8000) {
        for (const phoneNumber of manual.phoneNumbers) {
          await sim(`/_sim/accounts/${accountSid}/incoming-phone-numbers`, { phoneNumber });
        }
        manualDone = true;
        console.log(`${clock(started)} (the customer finished the toll-free port in Twilio's console)`);
      }
      // Once its check has failed (and the customer was told), the carrier's routing catches up.
      const laggingFailed = list.body.items.some((pr) =>
        pr.phoneNumbers.some((n) => n.phoneNumber === lagging && n.verification.status === 'FAILED'),
      );
      if (laggingFailed && !laggingFixed) {
        const detail = list.body.items.flatMap((pr) => pr.phoneNumbers).find((n) => n.phoneNumber === lagging)
          ?.verification.detail;
        console.log(`${clock(started)} ${lagging} does not reach Ring Tonic yet: ${detail}`);
        await sim(`/_sim/accounts/${accountSid}/incoming-phone-numbers/${encodeURIComponent(lagging)}/routing`, {
          reachable: true,
        });
        laggingFixed = true;
        console.log(`${clock(started)} (Marchex finished routing ${lagging} to Twilio; the next check will pass)`);
      }
      if (list.body.items.length > 0 && list.body.items.every((pr) => pr.safeToCancelOldService)) break;
      if (Date.now() > deadline) throw new Error('The demo ports did not complete in time');
      await sleep(1000);
    }

    console.log(`\n${clock(started)} Every number is ported, imported and verified by a test call. Timelines:`);
    for (const pr of order.body.portRequests) {
      const events = await api.get<{ items: Array<{ at: string; type: string; status?: string; detail?: string }> }>(
        `${base}/port-requests/${pr.portRequestId}/events`,
      );
      console.log(`\n  ${pr.portRequestId} (${pr.losingCarrier}, ${pr.route})`);
      for (const e of events.body.items) {
        console.log(`    ${e.at.slice(11, 19)}  ${e.type.padEnd(20)} ${e.status ?? ''} ${e.detail ?? ''}`.trimEnd());
      }
    }
    const inventory = await api.get<{ items: Array<{ phoneNumber: string; twilioSid: string }> }>(`${base}/inventory`);
    console.log(`\nInventory: ${inventory.body.items.map((n) => n.phoneNumber).join(', ')}`);
    const store = (await (await fetch(`${urls.ses}/store`)).json()) as {
      emails: Array<{ subject: string; destination: { to: string[] } }>;
    };
    console.log(`\nEmails sent (${store.emails.length}); read them at ${urls.ses}:`);
    for (const email of store.emails.slice(-20)) console.log(`  - ${email.subject}`);
    console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } finally {
    await stack?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
