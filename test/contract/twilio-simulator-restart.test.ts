import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { startTwilioSimulator } from '../../local/twilio-simulator';
import { freePort } from '../support/child-stack';
import { eventually } from '../support/eventually';
import {
  type ReceivedWebhook,
  SimulatorAccount,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/twilio-simulator';

// The Twilio simulator restarted on its state file with auto-advance on carries on as Twilio would: the port-ins it
// restores walk on where they were, on the schedule they had, and the webhooks due at the stop are sent; no step is
// taken twice, no webhook sent twice.

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The webhooks of a one-number port-in that walks from In Review to Completed, in order. */
const FULL_WALK = [
  'PortInWaitingForSignature',
  'PortInPhoneNumberWaitingForSignature',
  'PortInInProgress',
  'PortInPhoneNumberSubmitted',
  'PortInPhoneNumberPending',
  'PortInCompleted',
  'PortInPhoneNumberCompleted',
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const eventOf = (webhook: ReceivedWebhook) => JSON.parse(webhook.body) as Record<string, string>;

/** `tsx local/twilio-simulator/main.ts` as a child process, so that SIGKILL stops it where it is. */
async function spawnSimulator(port: number, env: Record<string, string>) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO_ROOT, 'local/twilio-simulator/main.ts')],
    { cwd: REPO_ROOT, env: { ...process.env, ...env, SIM_PORT: String(port) }, stdio: 'ignore' },
  );
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => ((await fetch(`${url}/_sim/health`)).ok ? true : undefined), {
    timeoutMs: 30_000,
    what: 'the simulator to answer',
  }).catch(async (error: unknown) => {
    await kill();
    throw error;
  });
  return { url, kill };
}

describe('Twilio simulator restarted on its state file with auto-advance', () => {
  let dataDir: string;
  let stateFile: string;
  let receiver: WebhookReceiver;
  /** The webhooks the receiver accepted for a port-in, in the order they came. */
  const webhooksOf = (sid: string) => receiver.received.filter((w) => eventOf(w).port_in_request_sid === sid);

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'twilio-sim-restart-'));
    stateFile = path.join(dataDir, 'twilio-simulator.json');
    receiver = await startWebhookReceiver();
  });

  afterEach(async () => {
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGKILLed with 30 port-ins mid-walk: each walks on to Completed, every webhook delivered once, in order', async () => {
    const stepMs = 1500;
    const port = await freePort();
    const first = await spawnSimulator(port, {
      SIM_STATE_FILE: stateFile,
      SIM_AUTO_ADVANCE: '1',
      SIM_AUTO_ADVANCE_STEP_MS: String(stepMs),
    });
    /** An account on the first simulator, with ten port-ins created at once. */
    const tenPortIns = async (hooksPath: string) => {
      const account = await SimulatorAccount.connect(first.url, receiver.url(hooksPath));
      return { account, sids: await Promise.all(Array.from({ length: 10 }, () => account.portIn())) };
    };
    const walkedAtLeast = (sids: string[], webhooks: number) => async () =>
      sids.every((sid) => webhooksOf(sid).length >= webhooks) ? true : undefined;
    let ahead: Awaited<ReturnType<typeof tenPortIns>>;
    let behind: typeof ahead;
    let unheard: typeof ahead;
    try {
      // Ten port-ins a step ahead of the others; the service of a third account is down, its webhooks refused.
      ahead = await tenPortIns('/ahead');
      await eventually(walkedAtLeast(ahead.sids, 2), { what: 'the first step of the ten ahead' });
      receiver.state.refusedPaths.add('/unheard');
      [behind, unheard] = [await tenPortIns('/behind'), await tenPortIns('/unheard')];
      await eventually(walkedAtLeast(ahead.sids, 4), { what: 'the second step of the ten ahead' });
      await eventually(walkedAtLeast(behind.sids, 2), { what: 'the first step of the others' });
      for (const sid of unheard.sids) {
        await eventually(
          async () => ((await unheard.account.status(sid)).startsWith('Waiting for Signature') ? true : undefined),
          { what: 'the first step of the unheard' },
        );
      }
      // Killed between two steps, once the deliveries made are recorded; the refused ones are between retries.
      await sleep(200);
    } finally {
      await first.kill();
    }
    const killedAt = Date.now();
    const heardBeforeKill = receiver.received.length;
    // The webhooks of the unheard's first step are kept, to be sent.
    expect(unheard.sids.every((sid) => webhooksOf(sid).length === 0)).toBe(true);
    const atKill = JSON.parse(readFileSync(stateFile, 'utf8')) as { webhooks: Array<{ url: string }> };
    expect(atKill.webhooks.map((w) => new URL(w.url).pathname)).toEqual(Array(20).fill('/unheard'));

    // Down for more than a step: the next step of every port-in falls due meanwhile.
    await sleep(stepMs + 500);
    expect(receiver.received.length).toBe(heardBeforeKill);
    receiver.state.refusedPaths.clear();
    const restartedAt = Date.now();
    const second = await startTwilioSimulator({ port, stateFile, autoAdvance: true, autoAdvanceStepMs: stepMs });
    try {
      for (const { account, sids } of [ahead, behind, unheard]) {
        for (const sid of sids) {
          await eventually(async () => ((await account.status(sid)) === 'Completed/completed' ? true : undefined), {
            what: `${sid} to complete`,
          });
        }
        expect(await account.client.api.v2010.accounts(account.sid).incomingPhoneNumbers.list()).toHaveLength(10);
      }
      await eventually(walkedAtLeast([...ahead.sids, ...behind.sids, ...unheard.sids], FULL_WALK.length), {
        what: 'the last webhooks',
      });
      await sleep(300);

      for (const { account, sids } of [ahead, behind, unheard]) {
        const firstAfterRestart = receiver.received.find(
          (w) => w.at > killedAt && sids.includes(eventOf(w).port_in_request_sid as string),
        );
        expect((firstAfterRestart as ReceivedWebhook).at - restartedAt).toBeLessThan(stepMs / 3);
        for (const sid of sids) {
          const webhooks = webhooksOf(sid);
          // Across both runs, each status once and in order: no step taken twice, no webhook sent twice.
          expect([sid, webhooks.map((w) => eventOf(w).event_type)]).toEqual([sid, FULL_WALK]);
          const afterRestart = webhooks.filter((w) => w.at > killedAt);
          expect(afterRestart.length).toBeGreaterThan(0);
          // What was due while the simulator was down comes at once (behind the account's earlier webhooks: one
          // delivery at a time per account), signed with the account's token.
          expect((afterRestart[0] as ReceivedWebhook).at - restartedAt).toBeLessThan(stepMs);
          for (const webhook of afterRestart) {
            const signature = String(webhook.headers['x-twilio-signature']);
            expect(twilio.validateRequestWithBody(account.token, signature, webhook.url, webhook.body)).toBe(true);
          }
        }
      }
    } finally {
      await second.close();
    }
    // Nothing left to do.
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { portIns: object[]; webhooks: object[] };
    expect(saved.webhooks).toEqual([]);
    expect(saved.portIns.filter((request) => 'autoAdvance' in request)).toEqual([]);
  }, 90_000);

  it('keeps the schedule: the steps due while it was down come at once, in order, the next one when it was due', async () => {
    const stepMs = 1000;
    const options = { port: 0, stateFile, autoAdvance: true, autoAdvanceStepMs: stepMs };
    const first = await startTwilioSimulator(options);
    const account = await SimulatorAccount.connect(first.url, receiver.url('/hooks'));
    const sid = await account.portIn();
    const firstStep = await eventually(async () => webhooksOf(sid)[1], { what: 'the first step' });
    // Once the deliveries made are recorded.
    await sleep(100);
    await first.close();
    // Steps two and three fall due while the simulator is down; step four is due 3 steps after step one.
    await sleep(2 * stepMs + 200);
    const second = await startTwilioSimulator(options);
    try {
      const restartedAt = Date.now();
      const completed = await eventually(async () => webhooksOf(sid)[6], { what: 'Completed' });
      const webhooks = webhooksOf(sid);
      expect(webhooks.map((w) => eventOf(w).event_type)).toEqual(FULL_WALK);
      expect((webhooks[4] as ReceivedWebhook).at - restartedAt).toBeLessThan(stepMs / 2);
      expect(completed.at - firstStep.at).toBeGreaterThan(3 * stepMs - 200);
      expect(completed.at - firstStep.at).toBeLessThan(3 * stepMs + 500);
    } finally {
      await second.close();
    }
  }, 30_000);

  it('leaves alone the port-ins that explicit control took over or that were canceled', async () => {
    const port = await freePort();
    // No step before the stop: the walk of the first run is only its schedule.
    const first = await startTwilioSimulator({ port, stateFile, autoAdvance: true, autoAdvanceStepMs: 3000 });
    const account = await SimulatorAccount.connect(first.url, receiver.url('/hooks'));
    const [walking, driven, canceled] = [await account.portIn(), await account.portIn(), await account.portIn()];
    const control = await fetch(`${first.url}/_sim/port-ins/${driven}/status`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 'Waiting for Signature' }),
    });
    expect(control.status).toBe(200);
    await account.client.numbers.v1.portingPortIns(canceled).remove();
    await eventually(async () => webhooksOf(canceled)[1], { what: 'the cancel webhooks' });
    // Once the deliveries made are recorded.
    await sleep(100);
    await first.close();
    const second = await startTwilioSimulator({ port, stateFile, autoAdvance: true, autoAdvanceStepMs: 100 });
    try {
      await eventually(async () => webhooksOf(walking)[6], { what: 'Completed' });
      await sleep(500);
      expect(webhooksOf(walking).map((w) => eventOf(w).event_type)).toEqual(FULL_WALK);
      expect(webhooksOf(driven).map((w) => eventOf(w).event_type)).toEqual([
        'PortInWaitingForSignature',
        'PortInPhoneNumberWaitingForSignature',
      ]);
      expect(await account.status(driven)).toBe('Waiting for Signature/waiting_for_signature');
      expect(await account.status(canceled)).toBe('Canceled/canceled');
    } finally {
      await second.close();
    }
  }, 30_000);
});
