import type { LocalStack } from '../../local/stack';
import { type Email, startTestStack, TestAccount } from '../support/harness';
import {
  countsOf,
  emailsOnce,
  expectEmailRules,
  expectInOrder,
  national,
  sentTemplates,
  storyOf,
  Workflows,
  withSubject,
} from '../support/paths';

/**
 * VerifyNumbers through the real path: the handler, the service's Twilio client, the Twilio simulator placing the
 * test calls, the local call router answering them. Verification runs 200 times faster than in AWS
 * (verificationTimeScale 0.005): the 2-minute answer window is 1 s, a 15-minute re-check 5 s, an hour 18 s.
 */
const TIME_SCALE = 0.005;
const SIMULATED_HOUR_MS = 3_600_000 * TIME_SCALE;
const SECRETS = ['604931', '5551234'];

/** A call of the simulator's `/_sim/calls` view. */
type SimCall = {
  resource: { sid: string; direction: string; from: string; to: string; status: string; account_sid: string };
  timeoutSeconds: number | null;
  timeLimitSeconds: number | null;
};

async function callsOf(account: TestAccount): Promise<SimCall[]> {
  const calls = await account.sim<SimCall[]>('/_sim/calls');
  return calls.filter((c) => c.resource.account_sid === account.accountSid);
}

/** The test calls placed to each number: outbound calls of the account, by `To`. */
async function testCallsTo(account: TestAccount): Promise<Record<string, number>> {
  const calls = await callsOf(account);
  return countsOf(calls.filter((c) => c.resource.direction === 'outbound-api').map((c) => c.resource.to));
}

describe('verifying ported numbers before "safe to cancel"', () => {
  let stack: LocalStack;
  let workflows: Workflows;

  beforeAll(async () => {
    // A toll-free port is noticed by polling the account: every 2 s.
    stack = await startTestStack({ verificationTimeScale: TIME_SCALE, pollIntervalSeconds: 2 });
    workflows = new Workflows(stack);
  }, 60000);

  afterAll(async () => {
    workflows?.destroy();
    await stack?.stop();
  });

  /** Orders a port of `numbers`, completes it at Twilio; answers the port request id. */
  async function completedPort(account: TestAccount, numbers: string[]): Promise<string> {
    const bill = await account.connect();
    const [id] = (await account.order(bill, numbers, 'CallRail', { pin: '604931' })) as [string];
    const sid = await account.submitted(id);
    await account.setTwilioStatus(sid, { status: 'Completed' });
    return id;
  }

  it('test-calls every number once, each reaching the call router, and only then says it is safe to cancel', async () => {
    const account = new TestAccount(stack);
    const [a, b] = ['+14155550610', '+14155550611'];
    const id = await completedPort(account, [a, b]);

    const done = await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel', 30000);
    expect(done.phoneNumbers.map((n) => [n.phoneNumber, n.verification.status, n.verification.detail])).toEqual([
      [a, 'PASSED', 'Our test call reached Ring Tonic.'],
      [b, 'PASSED', 'Our test call reached Ring Tonic.'],
    ]);
    await workflows.ended(id);

    // One test call to each number, from the other, short: Timeout and TimeLimit set, hung up at once.
    expect(await testCallsTo(account)).toEqual({ [a]: 1, [b]: 1 });
    const calls = await callsOf(account);
    const outbound = calls.filter((c) => c.resource.direction === 'outbound-api');
    expect(outbound.map((c) => [c.resource.from, c.resource.to, c.timeoutSeconds, c.timeLimitSeconds]).sort()).toEqual([
      [a, b, 15, 10],
      [b, a, 15, 10],
    ]);
    // Each inbound leg was answered by the call router (completed).
    const inbound = calls.filter((c) => c.resource.direction === 'inbound');
    expect(inbound.map((c) => [c.resource.to, c.resource.status]).sort()).toEqual([
      [a, 'completed'],
      [b, 'completed'],
    ]);
    const routed = (await (await fetch(`${stack.urls.callRouter}/_router/requests`)).json()) as Array<{
      to: string | null;
      outcome: string;
    }>;
    expect(
      routed
        .filter((r) => r.to === a || r.to === b)
        .map((r) => [r.to, r.outcome])
        .sort(),
    ).toEqual([
      [a, 'answered'],
      [b, 'answered'],
    ]);

    const events = await account.events(id);
    expectInOrder(storyOf(events), [
      'STATUS_CHANGED:COMPLETED',
      `NUMBERS_IMPORTED:${a}, ${b}`,
      `NUMBER_VERIFIED:${a}`,
      `NUMBER_VERIFIED:${b}`,
      'EMAIL_SENT:PORT_COMPLETED',
    ]);
    expect(storyOf(events).filter((e) => e.startsWith('NUMBER_VERIFICATION_FAILED'))).toEqual([]);

    const emails = await emailsOnce(account, (e) => e.subject.includes('safe to cancel'), 'the safe-to-cancel email');
    const last = emails.at(-1) as Email;
    expect(last.subject).toBe('Your numbers are ported: it is now safe to cancel your CallRail service');
    expect(last.body.text).toContain('We test-called every number: each call reached Ring Tonic.');
    expect(last.body.text).toContain(`- ${national(a)} (test call reached Ring Tonic)`);
    expectEmailRules(emails, SECRETS);
  }, 60000);

  it('says not to cancel while a number does not reach Ring Tonic, re-checks it, and says safe once it does', async () => {
    const account = new TestAccount(stack);
    const [a, b] = ['+14155550620', '+14155550621'];
    // The old carrier has not moved b's routing yet: calls to it do not reach the account.
    await account.sim(`/_sim/accounts/${account.accountSid}/incoming-phone-numbers/${encodeURIComponent(b)}/routing`, {
      reachable: false,
    });
    const id = await completedPort(account, [a, b]);

    const failing = await account.waitFor(
      id,
      (pr) => pr.phoneNumbers.some((n) => n.verification.status === 'FAILED'),
      'a failed check',
      30000,
    );
    expect(failing.safeToCancelOldService).toBe(false);
    expect(failing.phoneNumbers.map((n) => [n.phoneNumber, n.verification.status])).toEqual([
      [a, 'PASSED'],
      [b, 'FAILED'],
    ]);
    const reason = 'Our test call did not reach your Twilio account: the old carrier may still be routing the number.';
    expect(failing.phoneNumbers[1]?.verification.detail).toBe(reason);
    const notYet = await emailsOnce(
      account,
      (e) => e.subject.includes('do not reach Ring Tonic yet'),
      'the not-reaching email',
    );
    const [warning] = withSubject(notYet, 'Do not cancel your CallRail service yet: some numbers');
    expect(warning?.body.text).toContain(`- ${national(b)}: ${reason}`);
    expect(warning?.body.text).not.toContain(`- ${national(a)}`);

    // An hour of simulated time: re-checked about every 15 minutes, failing the same way, with no more emails.
    await new Promise((resolve) => setTimeout(resolve, SIMULATED_HOUR_MS));
    const calledMeanwhile = (await testCallsTo(account))[b] ?? 0;
    expect(calledMeanwhile).toBeGreaterThanOrEqual(3);
    expect((await account.portRequest(id)).safeToCancelOldService).toBe(false);

    // The carrier finishes: the next check passes and the "safe to cancel" email goes out.
    await account.sim(`/_sim/accounts/${account.accountSid}/incoming-phone-numbers/${encodeURIComponent(b)}/routing`, {
      reachable: true,
    });
    const done = await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel', 30000);
    expect(done.phoneNumbers.map((n) => n.verification.status)).toEqual(['PASSED', 'PASSED']);
    await workflows.ended(id);
    // a was called once; b once per check, never twice for the same check.
    const calls = await testCallsTo(account);
    expect(calls[a]).toBe(1);

    const events = await account.events(id);
    const story = storyOf(events);
    expect(story.filter((e) => e.startsWith('NUMBER_VERIFICATION_FAILED'))).toEqual([
      `NUMBER_VERIFICATION_FAILED:${b}: ${reason}`,
    ]);
    expectInOrder(story, [
      `NUMBERS_IMPORTED:${a}, ${b}`,
      `NUMBER_VERIFIED:${a}`,
      `NUMBER_VERIFICATION_FAILED:${b}: ${reason}`,
      'EMAIL_SENT:NUMBERS_NOT_REACHING',
      `NUMBER_VERIFIED:${b}`,
      'EMAIL_SENT:PORT_COMPLETED',
    ]);
    const templates = countsOf(sentTemplates(events));
    expect([templates.NUMBERS_NOT_REACHING, templates.PORT_COMPLETED]).toEqual([1, 1]);
    const emails = await emailsOnce(account, (e) => e.subject.includes('safe to cancel'), 'the safe-to-cancel email');
    expect(emails.at(-1)?.subject).toBe('Your numbers are ported: it is now safe to cancel your CallRail service');
    expectEmailRules(emails, SECRETS);
  }, 90000);

  it('fails a number whose call the router answers with 500, and passes it at the next check', async () => {
    const account = new TestAccount(stack);
    const [a, b] = ['+14155550630', '+14155550631'];
    const bill = await account.connect();
    const [id] = (await account.order(bill, [a, b], 'CallRail', { pin: '604931' })) as [string];
    const sid = await account.submitted(id);
    // The router answers the next voice request (the first test call's) with a 500.
    const fault = await fetch(`${stack.urls.callRouter}/_router/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 500, times: 1 }),
    });
    expect(fault.status).toBeLessThan(300);
    await account.setTwilioStatus(sid, { status: 'Completed' });

    const done = await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel', 40000);
    expect(done.phoneNumbers.map((n) => n.verification.status)).toEqual(['PASSED', 'PASSED']);
    await workflows.ended(id);
    const story = storyOf(await account.events(id));
    const failed = story.filter((e) => e.startsWith('NUMBER_VERIFICATION_FAILED'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/: Our test call reached your Twilio account but Ring Tonic did not answer it\.$/);
    expectInOrder(story, ['EMAIL_SENT:NUMBERS_NOT_REACHING', 'EMAIL_SENT:PORT_COMPLETED']);
    const calls = await callsOf(account);
    expect(calls.filter((c) => c.resource.direction === 'inbound').map((c) => c.resource.status)).toContain('failed');
  }, 60000);

  it('rides out Twilio errors on the Calls API (503, 429) as transient: retried, one call per number, no failure', async () => {
    const account = new TestAccount(stack);
    const [a, b] = ['+14155550680', '+14155550681'];
    const bill = await account.connect();
    const [id] = (await account.order(bill, [a, b], 'CallRail', { pin: '604931' })) as [string];
    const sid = await account.submitted(id);
    await account.sim('/_sim/faults', { operation: 'createCall', status: 503, times: 2 });
    await account.sim('/_sim/faults', { operation: 'listCalls', status: 429, times: 1 });
    await account.setTwilioStatus(sid, { status: 'Completed' });

    const done = await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel', 30000);
    expect(done.phoneNumbers.map((n) => n.verification.status)).toEqual(['PASSED', 'PASSED']);
    expect(await testCallsTo(account)).toEqual({ [a]: 1, [b]: 1 });
    const story = storyOf(await account.events(id));
    expect(story.filter((e) => e.startsWith('NUMBER_VERIFICATION_FAILED'))).toEqual([]);
    expect(sentTemplates(await account.events(id))).not.toContain('NUMBERS_NOT_REACHING');
  }, 60000);

  it('passes the only number of an account on the number checks alone, saying it was not test-called', async () => {
    const account = new TestAccount(stack);
    const only = '+14155550640';
    const id = await completedPort(account, [only]);

    const done = await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel', 30000);
    expect(done.phoneNumbers[0]?.verification.status).toBe('PASSED');
    expect(done.phoneNumbers[0]?.verification.detail).toContain('not test-called');
    await workflows.ended(id);
    expect(await testCallsTo(account)).toEqual({});
    const emails = await emailsOnce(account, (e) => e.subject.includes('safe to cancel'), 'the safe-to-cancel email');
    const last = emails.at(-1) as Email;
    expect(last.body.text).toContain(
      `could not test-call ${national(only)}: your Twilio account has no other number to call from. Call it once`,
    );
    expect(last.body.text).toContain(`- ${national(only)} (not test-called: please call it once)`);
    expect(storyOf(await account.events(id))).toContain(`NUMBER_VERIFIED:${only}`);
  }, 60000);

  it("places the test calls from the connection's verificationCallerNumber when it is set", async () => {
    const account = new TestAccount(stack);
    const caller = '+14155550670';
    const [a, b] = ['+14155550671', '+14155550672'];
    await account.sim(`/_sim/accounts/${account.accountSid}/incoming-phone-numbers`, { phoneNumber: caller });
    const bill = await account.connect();
    const refused = await account.api.put(`${account.base}/twilio-connection`, {
      accountSid: account.accountSid,
      authToken: account.authToken,
      verificationCallerNumber: '+14155550699',
    });
    expect(refused.status).toBe(400);
    const connected = await account.api.put(`${account.base}/twilio-connection`, {
      accountSid: account.accountSid,
      authToken: account.authToken,
      verificationCallerNumber: caller,
    });
    expect(connected.status).toBe(200);
    const [id] = (await account.order(bill, [a, b], 'CallRail', { pin: '604931' })) as [string];
    await account.setTwilioStatus(await account.submitted(id), { status: 'Completed' });

    await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel', 30000);
    const outbound = (await callsOf(account)).filter((c) => c.resource.direction === 'outbound-api');
    expect(outbound.map((c) => [c.resource.from, c.resource.to]).sort()).toEqual([
      [caller, a],
      [caller, b],
    ]);
  }, 60000);

  it('verifies a toll-free (MANUAL) number once it arrives, calling it from another number of the account', async () => {
    const account = new TestAccount(stack);
    const bill = await account.connect();
    const tollFree = '+18885550650';
    const other = '+14155550650';
    await account.sim(`/_sim/accounts/${account.accountSid}/incoming-phone-numbers`, { phoneNumber: other });
    const [id] = (await account.order(bill, [tollFree], 'CallRail', { pin: '604931' })) as [string];
    expect((await account.portRequest(id)).route).toBe('MANUAL');
    await emailsOnce(account, (e) => e.subject.includes('toll-free'), 'MANUAL_PORT_INSTRUCTIONS');
    await account.sim(`/_sim/accounts/${account.accountSid}/incoming-phone-numbers`, { phoneNumber: tollFree });

    const done = await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel', 30000);
    expect(done.phoneNumbers.map((n) => [n.phoneNumber, n.verification.status, n.verification.detail])).toEqual([
      [tollFree, 'PASSED', 'Our test call reached Ring Tonic.'],
    ]);
    const outbound = (await callsOf(account)).filter((c) => c.resource.direction === 'outbound-api');
    expect(outbound.map((c) => [c.resource.from, c.resource.to])).toEqual([[other, tollFree]]);
  }, 60000);
});

describe('verification switched off (verifyPortedNumbers false)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startTestStack({ verifyPortedNumbers: false });
  }, 120000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('marks the numbers SKIPPED, places no call, and says they were not test-called', async () => {
    const account = new TestAccount(stack);
    const [a, b] = ['+14155550660', '+14155550661'];
    const bill = await account.connect();
    const [id] = (await account.order(bill, [a, b], 'CallRail', { pin: '604931' })) as [string];
    const sid = await account.submitted(id);
    await account.setTwilioStatus(sid, { status: 'Completed' });

    const done = await account.waitFor(id, (pr) => pr.safeToCancelOldService, 'safe to cancel', 30000);
    expect(done.phoneNumbers.map((n) => n.verification.status)).toEqual(['SKIPPED', 'SKIPPED']);
    expect(await testCallsTo(account)).toEqual({});
    const emails = await emailsOnce(account, (e) => e.subject.includes('safe to cancel'), 'the safe-to-cancel email');
    const last = emails.at(-1) as Email;
    expect(last.body.text).toContain('These numbers were not test-called (number verification is switched off');
    expect(last.body.text).toContain(`- ${national(a)} (not test-called)`);
    const story = storyOf(await account.events(id));
    expect(story.filter((e) => e.startsWith('NUMBER_VERIFI'))).toEqual([]);
    expectEmailRules(emails, SECRETS);
  }, 60000);
});
