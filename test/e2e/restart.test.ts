import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTwilioSimulator, type TwilioSimulator } from '../../local/twilio-simulator';
import { ChildStack, freePort } from '../support/child-stack';
import { eventually } from '../support/eventually';
import { armFault, outcomesOf } from '../support/faults';
import { CALL_ROUTER_URL, type PortRequestView, TestAccount } from '../support/harness';
import { countsOf, incomingNumbers, utcDateInDays, Workflows } from '../support/paths';

// The local stack killed in the middle of ports and started again on the same data (issue 5, item 1): `npm start`
// runs as a child process and is SIGKILLed (no drain); the Twilio simulator is an outside service that keeps
// running meanwhile. At start the stack resumes every open port from DynamoDB, and each one completes with nothing
// lost or done twice.

type SimPortIn = { sid: string; status: string };
type Stage = 'submitting' | 'submitted' | 'waiting for signature' | 'FOC set' | 'completed';

let numberSeq = 0;
const nextNumber = () => `+1415555${String(700 + numberSeq++).padStart(4, '0')}`;

describe('restart: the local stack killed mid-port and started again carries every open port on', () => {
  let simulator: TwilioSimulator;
  let dataDir: string;
  let env: Record<string, string>;
  let running: ChildStack | undefined;

  beforeAll(async () => {
    simulator = await startTwilioSimulator({ port: 0, webhookRetryDelaysMs: [100, 200] });
    dataDir = mkdtempSync(path.join(tmpdir(), 'port-in-restart-'));
    env = {
      PORT: String(await freePort()),
      SES_PORT: String(await freePort()),
      SIM_PORT: '0',
      SFN_PORT: '0',
      DYNAMODB_PORT: '0',
      SECRETS_MANAGER_PORT: '0',
      TWILIO_URL: simulator.url,
      CALL_ROUTER_URL,
      POLL_INTERVAL_SECONDS: '2',
      RETRY_INTERVAL_SCALE: '0.01',
      // VerifyNumbers' 2-minute answer window in 1 s.
      VERIFICATION_TIME_SCALE: '0.01',
      LOCAL_STACK_QUIET: '1',
    };
  }, 30000);

  afterAll(async () => {
    await running?.kill();
    await simulator?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes the open ports from DynamoDB; each completes, every email once, every number imported once', async () => {
    running = await ChildStack.start(env, dataDir);
    const first = running;
    expect(first.info.resumed).toEqual([]);
    let workflows = new Workflows(first.stack);

    // One account per port, so that each port's emails are told apart by their recipient.
    type Port = { stage: Stage; account: TestAccount; number: string; portRequestId: string; sid?: string };
    const ports: Port[] = [];
    const order = async (stage: Stage): Promise<Port> => {
      const account = new TestAccount(first.stack);
      const bill = await account.connect();
      const number = nextNumber();
      const [portRequestId] = (await account.order(bill, [number])) as [string];
      const port: Port = { stage, account, number, portRequestId };
      ports.push(port);
      return port;
    };
    const byStage = (stage: Stage) => ports.find((p) => p.stage === stage) as Port;

    for (const stage of ['submitted', 'waiting for signature', 'FOC set', 'completed'] as const) {
      const port = await order(stage);
      port.sid = await port.account.submitted(port.portRequestId);
      await workflows.settled(port.portRequestId);
    }
    const waiting = byStage('waiting for signature');
    await waiting.account.setTwilioStatus(waiting.sid as string, { status: 'Waiting for Signature' });
    const foc = byStage('FOC set');
    const focDate = utcDateInDays(20);
    await foc.account.setTwilioStatus(foc.sid as string, {
      status: 'In Progress',
      phoneNumbers: { [foc.number]: { status: 'port_pending', focDate } },
    });
    const completed = byStage('completed');
    await completed.account.setTwilioStatus(completed.sid as string, { status: 'Completed' });
    await waiting.account.waitFor(waiting.portRequestId, (pr) => pr.status === 'WAITING_FOR_SIGNATURE', 'signature');
    await foc.account.waitFor(foc.portRequestId, (pr) => pr.status === 'FOC_RECEIVED', 'the FOC date');
    await completed.account.waitFor(completed.portRequestId, (pr) => pr.safeToCancelOldService, 'safe to cancel');
    expect((await workflows.ended(completed.portRequestId)).status).toBe('SUCCEEDED');
    for (const port of [waiting, foc]) await workflows.settled(port.portRequestId);

    // One more, killed while SubmitPortIn waits for a Twilio that does not answer.
    await armFault(first.stack, { operation: 'createPortIn', status: 0, times: 1 });
    const submitting = await order('submitting');
    await eventually(
      async () =>
        outcomesOf(await workflows.history(submitting.portRequestId), 'SubmitPortIn')[0] === 'pending'
          ? true
          : undefined,
      { what: 'SubmitPortIn to call Twilio' },
    );
    // The call reaches the simulator, which holds it unanswered.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await submitting.account.portRequest(submitting.portRequestId)).status).toBe('SUBMITTING');

    const before = new Map<string, { view: PortRequestView; subjects: string[] }>();
    for (const port of ports) {
      before.set(port.portRequestId, {
        view: await port.account.portRequest(port.portRequestId),
        subjects: (await port.account.emails()).map((e) => e.subject),
      });
    }
    expect(before.get(submitting.portRequestId)?.view.twilioPortInRequestSid).toBeNull();

    await first.kill();
    workflows.destroy();

    // While the stack is down, Twilio moves on: this webhook finds nobody (the simulator gives up after its
    // retries), so only the resumed execution's own poll can see it.
    const submitted = byStage('submitted');
    await submitted.account.sim(`/_sim/port-ins/${submitted.sid}/status`, { status: 'Completed' });

    running = await ChildStack.start(env, dataDir);
    const second = running;
    workflows = new Workflows(second.stack);
    expect(second.info.urls.api).toBe(first.info.urls.api);
    expect([...second.info.resumed].sort()).toEqual(
      ports
        .filter((p) => p.stage !== 'completed')
        .map((p) => p.portRequestId)
        .sort(),
    );

    // The completed port: no execution, nothing changed.
    expect(await workflows.executionsOf(completed.portRequestId)).toEqual([]);

    // The port that never reached Twilio is submitted now, once.
    submitting.sid = await submitting.account.submitted(submitting.portRequestId);
    await workflows.settled(submitting.portRequestId);
    for (const port of [waiting, foc, submitting]) {
      await port.account.setTwilioStatus(port.sid as string, { status: 'Completed' });
    }

    for (const port of ports) {
      const { account, portRequestId, number } = port;
      const done = await account.waitFor(portRequestId, (pr) => pr.safeToCancelOldService, `${port.stage}: done`);
      expect([port.stage, done.status]).toEqual([port.stage, 'COMPLETED']);
      expect(done.phoneNumbers.map((n) => [n.phoneNumber, n.status, n.imported])).toEqual([
        [number, 'COMPLETED', true],
      ]);
      if (port.stage === 'completed') {
        expect(done).toEqual(before.get(portRequestId)?.view);
      } else {
        expect((await workflows.ended(portRequestId)).status).toBe('SUCCEEDED');
        expect(await workflows.executionsOf(portRequestId)).toHaveLength(1);
      }

      // Twilio: one port-in per port. Imported once, routed to the call router.
      const portIns = await account.sim<SimPortIn[]>(`/_sim/port-ins?accountSid=${account.accountSid}`);
      expect(portIns.map((p) => p.sid)).toEqual([port.sid]);
      const inventory = await account.api.get<{ items: Array<{ phoneNumber: string }> }>(`${account.base}/inventory`);
      expect(inventory.body.items.map((n) => n.phoneNumber)).toEqual([number]);
      expect(await incomingNumbers(account)).toEqual([[number, CALL_ROUTER_URL]]);
      const events = await account.events(portRequestId);
      expect(events.filter((e) => e.type === 'NUMBERS_IMPORTED')).toHaveLength(1);
    }

    // Emails: what was sent before the kill is still in the SES record, nothing went out twice, and each port got
    // its completion email.
    for (const port of ports) {
      const subjects = await eventuallyEmailed(port.account, 'safe to cancel');
      const counts = countsOf(subjects);
      expect([port.stage, Object.entries(counts).filter(([, count]) => count > 1)]).toEqual([port.stage, []]);
      expect(subjects.slice(0, before.get(port.portRequestId)?.subjects.length)).toEqual(
        before.get(port.portRequestId)?.subjects,
      );
      const sent = (await port.account.events(port.portRequestId)).filter((e) => e.type === 'EMAIL_SENT');
      expect(sent.map((e) => e.detail)).toHaveLength(subjects.length);
      if (port.stage === 'completed') expect(subjects).toEqual(before.get(port.portRequestId)?.subjects);
    }
    expect(countsOf((await byStage('FOC set').account.emails()).map((e) => e.subject))).toEqual(
      expect.objectContaining({ 'Your numbers are ported: it is now safe to cancel your CallRail service': 1 }),
    );
    workflows.destroy();
    await second.kill();
  }, 300_000);

  it('npm start as is: the Twilio simulator it runs keeps its state in the data dir too', async () => {
    const ownDataDir = mkdtempSync(path.join(tmpdir(), 'port-in-restart-sim-'));
    const ownEnv = { ...env, SIM_PORT: String(await freePort()) };
    delete (ownEnv as Record<string, string | undefined>).TWILIO_URL;
    try {
      running = await ChildStack.start(ownEnv, ownDataDir);
      const first = running;
      expect(first.info.urls.twilio).toBe(`http://127.0.0.1:${ownEnv.SIM_PORT}`);
      let workflows = new Workflows(first.stack);
      const account = new TestAccount(first.stack);
      const bill = await account.connect();
      const numbers = [nextNumber(), nextNumber()];
      const portRequestIds: string[] = [];
      const sids: string[] = [];
      for (const number of numbers) {
        const [portRequestId] = (await account.order(bill, [number])) as [string];
        portRequestIds.push(portRequestId);
        sids.push(await account.submitted(portRequestId));
        await workflows.settled(portRequestId);
      }
      await account.setTwilioStatus(sids[1] as string, { status: 'Waiting for Signature' });
      await account.waitFor(portRequestIds[1] as string, (pr) => pr.status === 'WAITING_FOR_SIGNATURE', 'signature');
      await workflows.settled(portRequestIds[1] as string);
      await first.kill();
      workflows.destroy();

      running = await ChildStack.start(ownEnv, ownDataDir);
      const second = running;
      workflows = new Workflows(second.stack);
      expect([...second.info.resumed].sort()).toEqual([...portRequestIds].sort());
      // The same Twilio: the account's port-ins, in their statuses.
      const portIns = await account.sim<SimPortIn[]>(`/_sim/port-ins?accountSid=${account.accountSid}`);
      expect(portIns.map((p) => [p.sid, p.status])).toEqual([
        [sids[0], 'In Review'],
        [sids[1], 'Waiting for Signature'],
      ]);
      for (const sid of sids) await account.setTwilioStatus(sid, { status: 'Completed' });
      for (const [i, portRequestId] of portRequestIds.entries()) {
        const done = await account.waitFor(portRequestId, (pr) => pr.safeToCancelOldService, 'safe to cancel');
        expect(done.phoneNumbers.map((n) => [n.phoneNumber, n.status, n.imported])).toEqual([
          [numbers[i], 'COMPLETED', true],
        ]);
        expect((await workflows.ended(portRequestId)).status).toBe('SUCCEEDED');
      }
      const inventory = await account.api.get<{ items: Array<{ phoneNumber: string }> }>(`${account.base}/inventory`);
      expect(inventory.body.items.map((n) => n.phoneNumber).sort()).toEqual([...numbers].sort());
      const subjects = await eventuallyEmailed(account, 'safe to cancel');
      expect(countsOf(subjects)).toMatchObject({
        'Do not cancel your CallRail service yet: your port request is submitted': 2,
        'Your numbers are ported: it is now safe to cancel your CallRail service': 2,
      });
      expect(Object.values(countsOf(subjects)).every((count) => count <= 2)).toBe(true);
      workflows.destroy();
    } finally {
      await running?.kill();
      rmSync(ownDataDir, { recursive: true, force: true });
    }
  }, 240_000);
});

/** The account's email subjects, once one containing `text` is there. */
async function eventuallyEmailed(account: TestAccount, text: string): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const subjects = (await account.emails()).map((e) => e.subject);
    if (subjects.some((s) => s.includes(text)) || Date.now() > deadline) return subjects;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
