import type { PortRequest } from '../../lambdas/domain/port-request';
import type {
  IncomingPhoneNumber,
  PortInRepository,
  TestCallRequest,
  TwilioAccountGateway,
  TwilioCall,
} from '../../lambdas/use-cases/ports';
import {
  DEFAULT_VERIFICATION_TIMING,
  judgeTestCall,
  verifyPortedNumbers,
} from '../../lambdas/use-cases/workflow/verify-numbers';
import { samplePortRequest } from '../support/fixtures';
import { recordingMetrics } from '../support/recording-metrics';

const ROUTER = 'https://calls.ringtonic.example/twilio/voice';
const [A, B] = ['+14155550100', '+14155550101'];
const input = { accountId: 'acme', portRequestId: 'pr_1' };

/** A Twilio account whose calls to reachable numbers are answered by the router, as the simulator does. */
class FakeTwilio {
  numbers: IncomingPhoneNumber[] = [A, B].map((phoneNumber, i) => ({
    sid: `PN${i}`,
    phoneNumber,
    friendlyName: phoneNumber,
    voiceUrl: ROUTER,
    voiceCapable: true,
  }));
  calls: TwilioCall[] = [];
  unreachable = new Set<string>();
  creates = 0;
  /** Makes the next create succeed at Twilio and then throw, as an answer lost to a timeout or a crash. */
  loseNextAnswer = false;
  now = () => new Date().toISOString();

  gateway(): TwilioAccountGateway {
    return {
      listIncomingPhoneNumbers: async () => this.numbers,
      createCall: async (call: TestCallRequest) => {
        this.creates += 1;
        const sid = `CA${this.creates}`;
        const startTime = this.now();
        this.calls.push({
          sid,
          direction: 'outbound-api',
          from: call.from,
          to: call.to,
          status: 'completed',
          startTime,
        });
        if (!this.unreachable.has(call.to)) {
          this.calls.push({
            sid: `${sid}-in`,
            direction: 'inbound',
            from: call.from,
            to: call.to,
            status: 'completed',
            startTime,
          });
        }
        if (this.loseNextAnswer) {
          this.loseNextAnswer = false;
          throw Object.assign(new Error('timed out'), { name: 'TwilioTransientError' });
        }
        return sid;
      },
      listCalls: async (filter: { to: string; from?: string }) =>
        this.calls.filter((c) => c.to === filter.to && (!filter.from || c.from === filter.from)),
    } as unknown as TwilioAccountGateway;
  }
}

function setUp(pr: PortRequest) {
  let stored = pr;
  let clock = Date.parse('2026-12-01T10:00:00.000Z');
  const twilio = new FakeTwilio();
  twilio.now = () => new Date(clock).toISOString();
  const repository = {
    getPortRequest: async () => stored,
    getConnection: async () => ({ accountId: 'acme', accountSid: 'AC1', webhookUrl: '', connectedAt: '' }),
    updatePortRequest: async (_a: string, _p: string, change: (current: PortRequest) => PortRequest | undefined) => {
      const next = change(stored);
      if (next) stored = { ...next, version: stored.version + 1 };
      return stored;
    },
  } as unknown as PortInRepository;
  const recorded = recordingMetrics();
  const deps = {
    repository,
    tokens: { getAuthToken: async () => 'token', putAuthToken: async () => undefined },
    twilio: { forAccount: () => twilio.gateway() },
    clock: { now: () => new Date(clock) },
    metrics: recorded.metrics,
    callRouterUrl: ROUTER,
    timing: DEFAULT_VERIFICATION_TIMING,
  };
  return {
    twilio,
    counts: recorded.counts,
    run: () => verifyPortedNumbers(input, deps),
    advance: (seconds: number) => {
      clock += seconds * 1000;
    },
    get pr() {
      return stored;
    },
  };
}

const ported = () =>
  samplePortRequest({
    status: 'COMPLETED',
    phoneNumbers: [A, B].map((phoneNumber) => ({
      phoneNumber,
      numberType: 'LOCAL' as const,
      status: 'COMPLETED' as const,
      imported: true,
      verification: { status: 'PENDING' as const },
    })),
  });

describe('VerifyNumbers', () => {
  it('calls each number once, waits out the answer window, then passes them and owes the "safe to cancel" email', async () => {
    const t = setUp(ported());
    expect(await t.run()).toEqual({ finished: false, verified: false, emailsPending: false, waitSeconds: 120 });
    expect(t.twilio.creates).toBe(2);
    // Early: still waiting, no new call.
    t.advance(60);
    expect((await t.run()).waitSeconds).toBe(60);
    t.advance(60);
    expect(await t.run()).toEqual({ finished: true, verified: true, emailsPending: true, waitSeconds: 1 });
    expect(t.twilio.creates).toBe(2);
    expect(t.pr.phoneNumbers.map((n) => n.verification?.status)).toEqual(['PASSED', 'PASSED']);
    expect(t.pr.outbox.map((e) => e.template)).toEqual(['PORT_COMPLETED']);
  });

  it('never places a second call for a check whose create answer was lost: a retry adopts the call Twilio has', async () => {
    const t = setUp(ported());
    t.twilio.loseNextAnswer = true;
    await expect(t.run()).rejects.toThrow('timed out');
    // The retry (the state machine's) finds the calls recorded and looks for them before creating.
    await t.run();
    expect(t.twilio.creates).toBe(2);
    t.advance(120);
    expect((await t.run()).verified).toBe(true);
    expect(t.twilio.creates).toBe(2);
  });

  it('fails an unreachable number with a reason, emails once, re-checks every 15 minutes, and gives up after 48 hours', async () => {
    const t = setUp(ported());
    t.twilio.unreachable.add(B);
    await t.run();
    t.advance(120);
    const failed = await t.run();
    // The next check starts 15 minutes after this one did (its answer window took 2).
    expect(failed).toEqual({ finished: false, verified: false, emailsPending: true, waitSeconds: 780 });
    expect(t.pr.phoneNumbers.map((n) => n.verification?.status)).toEqual(['PASSED', 'FAILED']);
    expect(t.pr.phoneNumbers[1]?.verification?.detail).toMatch(/did not reach your Twilio account/);
    let checks = 1;
    for (let result = failed; !result.finished; checks += 1) {
      t.advance(result.waitSeconds);
      result = await t.run();
      if (!result.finished && result.waitSeconds === 120) {
        t.advance(120);
        result = await t.run();
      }
    }
    // About every 15 minutes for 48 hours, one call to B each.
    expect(checks).toBeGreaterThanOrEqual(190);
    expect(t.twilio.calls.filter((c) => c.direction === 'outbound-api' && c.to === B)).toHaveLength(checks);
    expect(t.pr.outbox.map((e) => e.template)).toEqual(['NUMBERS_NOT_REACHING', 'NUMBERS_STILL_NOT_REACHING']);
    expect(t.pr.events.filter((e) => e.type === 'NUMBER_VERIFICATION_FAILED')).toHaveLength(1);
    expect(t.counts.NumbersVerificationGaveUp).toBe(1);
  });

  it('fails a number whose voice URL points elsewhere without calling it', async () => {
    const t = setUp(ported());
    t.twilio.numbers = t.twilio.numbers.map((n) => (n.phoneNumber === B ? { ...n, voiceUrl: 'https://other' } : n));
    await t.run();
    expect(t.twilio.calls.filter((c) => c.to === B)).toEqual([]);
    expect(t.pr.phoneNumbers[1]?.verification?.failure).toBe('VOICE_URL_ELSEWHERE');
  });

  it('judges a test call by its inbound leg: answered passes, an unanswered leg is the router, none never arrived', () => {
    const call = { round: 1, from: A, attemptedAt: '2026-12-01T10:00:00.000Z', placedAt: '2026-12-01T10:00:01.000Z' };
    const leg = (status: string) => ({
      sid: 'CA1',
      direction: 'inbound',
      from: A,
      to: B,
      status,
      startTime: call.placedAt,
    });
    expect(judgeTestCall([leg('completed')], call)).toBe('PASSED');
    expect(judgeTestCall([leg('in-progress')], call)).toBe('PASSED');
    expect(judgeTestCall([leg('failed')], call)).toBe('ROUTER_DID_NOT_ANSWER');
    expect(judgeTestCall([{ ...leg('completed'), direction: 'outbound-api' }], call)).toBe('CALL_DID_NOT_ARRIVE');
    expect(judgeTestCall([{ ...leg('completed'), startTime: '2026-11-30T10:00:00.000Z' }], call)).toBe(
      'CALL_DID_NOT_ARRIVE',
    );
  });
});
