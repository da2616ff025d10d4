import {
  explainVerificationFailure,
  isVerified,
  type NumberVerification,
  type PortRequest,
  type PortRequestNumber,
  type VerificationCall,
  type VerificationFailure,
  withEmail,
  withEvent,
} from '../../domain/port-request';
import type { IncomingPhoneNumber, TwilioAccountGateway, TwilioCall } from '../ports';
import { mapWithConcurrency, twilioForAccount } from '../twilio-account';
import type { WorkflowDeps } from './submit-port-in';

/** How the checks are timed: the state machine waits between them (WaitToVerifyNumbers), never a Lambda. */
export interface VerificationTiming {
  /** How long after the test call its inbound leg must be answered (2 minutes). */
  readonly answerWindowSeconds: number;
  /** How long after a failed check the next one runs (about 15 minutes). */
  readonly recheckSeconds: number;
  /** How long failed numbers are checked again before the port request is left not safe (48 hours). */
  readonly giveUpAfterSeconds: number;
}

export const DEFAULT_VERIFICATION_TIMING: VerificationTiming = {
  answerWindowSeconds: 120,
  recheckSeconds: 900,
  giveUpAfterSeconds: 172_800,
};

/** TwiML of the test call's outbound leg: hang up as soon as the number answers. */
export const TEST_CALL_TWIML = '<Response><Hangup/></Response>';
/** How long the test call rings before Twilio gives up on it (Timeout). */
export const TEST_CALL_RING_SECONDS = 15;
/** The longest the test call may last once answered (TimeLimit): it hangs up at once, this is the backstop. */
export const TEST_CALL_TIME_LIMIT_SECONDS = 10;
/**
 * Test calls one invocation places. Twilio queues calls beyond the account's calls per second (1 by default): more
 * calls than the answer window can carry at that rate would fail for the queue, not for the number. The rest are
 * placed by the next checks.
 */
export const TEST_CALLS_PER_CHECK = 60;
/** Calls in flight at once from one invocation: under the account's REST concurrency, and CPS queues the rest. */
const CALL_CONCURRENCY = 5;
/** Slack for clocks: an inbound leg's StartTime may read a little before our record of placing the call. */
const CLOCK_SLACK_MS = 60_000;
const ANSWERED: ReadonlySet<string> = new Set(['in-progress', 'completed']);

/** What VerifyNumbers answers the state machine (IsVerificationDone reads it). */
export interface VerifyNumbersResult {
  /** Every ported number is verified, or re-checking gave up: deliver the outbox and end. */
  readonly finished: boolean;
  /** Every ported number passed (or was skipped): the "safe to cancel" email is in the outbox. */
  readonly verified: boolean;
  /** The outbox owes an email (a failure or a give-up): DeliverVerificationEmails before waiting. */
  readonly emailsPending: boolean;
  /** How long WaitToVerifyNumbers waits before the next invocation. */
  readonly waitSeconds: number;
}

export interface VerifyNumbersDeps extends WorkflowDeps {
  readonly callRouterUrl: string;
  readonly timing: VerificationTiming;
}

const ms = (iso: string) => Date.parse(iso);

/** The ported numbers that still need a check: imported, not PASSED nor SKIPPED. */
function unverified(pr: PortRequest): PortRequestNumber[] {
  return pr.phoneNumbers.filter((n) => n.status === 'COMPLETED' && !isVerified(n));
}

/** The number checks of step 1: in the account, voice-capable, its voice URL the call router. */
export function checkNumberSetup(
  incoming: IncomingPhoneNumber | undefined,
  callRouterUrl: string,
): VerificationFailure | undefined {
  if (!incoming) return 'NOT_IN_TWILIO_ACCOUNT';
  if (!incoming.voiceCapable) return 'NOT_VOICE_CAPABLE';
  if (incoming.voiceUrl !== callRouterUrl) return 'VOICE_URL_ELSEWHERE';
  return undefined;
}

/**
 * The caller ID for a number's test call: the connection's `verificationCallerNumber` when set, else another
 * voice-capable number of the account, this port request's first (a caller ID does not depend on inbound routing).
 */
export function chooseCaller(
  phoneNumber: string,
  account: readonly IncomingPhoneNumber[],
  sameRequest: ReadonlySet<string>,
  configured: string | undefined,
): string | undefined {
  if (configured && configured !== phoneNumber) return configured;
  const others = account.filter((n) => n.voiceCapable && n.phoneNumber !== phoneNumber).map((n) => n.phoneNumber);
  others.sort((a, b) => Number(sameRequest.has(b)) - Number(sameRequest.has(a)) || a.localeCompare(b));
  return others[0];
}

/**
 * What the account's Calls say of a test call: the inbound leg to the number, from the test call's caller, started
 * since the call was placed. Answered (in-progress or completed) passes; a leg that ended otherwise (the router
 * answered an error, busy) is the router not answering; no leg is a call that never reached the account.
 */
export function judgeTestCall(calls: readonly TwilioCall[], call: VerificationCall): 'PASSED' | VerificationFailure {
  const since = ms(call.placedAt ?? call.attemptedAt) - CLOCK_SLACK_MS;
  const legs = calls.filter(
    (c) => c.direction === 'inbound' && c.from === call.from && (!c.startTime || ms(c.startTime) >= since),
  );
  if (legs.some((c) => ANSWERED.has(c.status))) return 'PASSED';
  // A leg that ended unanswered (the router answered an error) or still rings at the end of the answer window.
  return legs.length > 0 ? 'ROUTER_DID_NOT_ANSWER' : 'CALL_DID_NOT_ARRIVE';
}

/** The test call of `n` the current check placed (or tried to), if any. */
function callOf(n: PortRequestNumber, round: number): VerificationCall | undefined {
  const call = n.verification?.call;
  return call && call.round === round ? call : undefined;
}

/**
 * VerifyNumbers: checks that calls to every ported number reach Ring Tonic. A check is a round over the numbers
 * not yet verified: the number checks, then one test call each, then (after the answer window, waited out by the
 * state machine) a look at the account's Calls for its inbound leg. Numbers that fail are checked again every
 * `recheckSeconds` until `giveUpAfterSeconds` after verification began. Safe to run again at any point: a round's
 * test calls are recorded before they are created, and a retry adopts the call an earlier attempt placed.
 */
export async function verifyPortedNumbers(
  input: { accountId: string; portRequestId: string },
  deps: VerifyNumbersDeps,
): Promise<VerifyNumbersResult> {
  const { timing } = deps;
  let pr = await get(input, deps);
  const now = () => deps.clock.now().toISOString();

  if (unverified(pr).length === 0) return finish(input, deps, 'VERIFIED');
  if (pr.verificationGaveUpAt) return result(pr, { finished: true, verified: false, waitSeconds: 1 });

  const round = pr.verificationRound ?? 0;
  const inFlight = unverified(pr).filter((n) => callOf(n, round));
  if (round > 0 && inFlight.length > 0) {
    const { gateway } = await twilioForAccount(input.accountId, deps);
    // A retry of the invocation that placed this round's calls: place the ones not known to be placed.
    const unplaced = inFlight.filter((n) => !callOf(n, round)?.callSid);
    if (unplaced.length > 0) {
      pr = await placeCallsOnce(pr, unplaced, round, gateway, deps, undefined);
      return result(pr, { finished: false, verified: false, waitSeconds: timing.answerWindowSeconds });
    }
    const placedAt = Math.max(...inFlight.map((n) => ms(callOf(n, round)?.placedAt ?? now())));
    const dueAt = placedAt + timing.answerWindowSeconds * 1000;
    if (deps.clock.now().getTime() < dueAt) {
      return result(pr, { finished: false, verified: false, waitSeconds: secondsUntil(dueAt, deps) });
    }
    const verdicts = await mapWithConcurrency(inFlight, CALL_CONCURRENCY, async (n) => {
      const call = callOf(n, round) as VerificationCall;
      const calls = await gateway.listCalls({
        to: n.phoneNumber,
        from: call.from,
        startedSince: new Date(ms(call.placedAt ?? call.attemptedAt) - CLOCK_SLACK_MS).toISOString(),
      });
      return [n.phoneNumber, judgeTestCall(calls, call)] as const;
    });
    pr = await record(input, deps, new Map(verdicts), now());
  } else {
    const nextAt = pr.verificationNextCheckAt ? ms(pr.verificationNextCheckAt) : 0;
    if (deps.clock.now().getTime() < nextAt) {
      return result(pr, { finished: false, verified: false, waitSeconds: secondsUntil(nextAt, deps) });
    }
    pr = await startCheck(input, pr, deps, now());
  }

  if (unverified(pr).length === 0) return finish(input, deps, 'VERIFIED');
  const startedAt = ms(pr.verificationStartedAt ?? pr.updatedAt);
  const pendingCalls = unverified(pr).some((n) => callOf(n, pr.verificationRound ?? 0)?.callSid);
  if (!pendingCalls && deps.clock.now().getTime() - startedAt >= timing.giveUpAfterSeconds * 1000) {
    return finish(input, deps, 'GAVE_UP');
  }
  if (pendingCalls) {
    return result(pr, { finished: false, verified: false, waitSeconds: timing.answerWindowSeconds });
  }
  const nextAt = ms(pr.verificationNextCheckAt ?? now());
  return result(pr, { finished: false, verified: false, waitSeconds: secondsUntil(nextAt, deps) });
}

async function get(input: { accountId: string; portRequestId: string }, deps: VerifyNumbersDeps) {
  const pr = await deps.repository.getPortRequest(input.accountId, input.portRequestId);
  if (!pr) throw new Error(`Port request ${input.portRequestId} not found`);
  return pr;
}

function secondsUntil(at: number, deps: VerifyNumbersDeps): number {
  return Math.max(1, Math.ceil((at - deps.clock.now().getTime()) / 1000));
}

function result(
  pr: PortRequest,
  outcome: { finished: boolean; verified: boolean; waitSeconds: number },
): VerifyNumbersResult {
  return { ...outcome, emailsPending: pr.outbox.some((e) => !e.sentAt && !e.deadLetteredAt) };
}

/**
 * A new check of the numbers not verified yet: the number checks (one IncomingPhoneNumbers list), then a test call
 * to each number that passes them. A number with no other number to call it from passes on the checks alone.
 */
async function startCheck(
  input: { accountId: string; portRequestId: string },
  pr: PortRequest,
  deps: VerifyNumbersDeps,
  at: string,
): Promise<PortRequest> {
  const { gateway } = await twilioForAccount(input.accountId, deps);
  const connection = await deps.repository.getConnection(input.accountId);
  const account = await gateway.listIncomingPhoneNumbers();
  const byNumber = new Map(account.map((n) => [n.phoneNumber, n]));
  const sameRequest = new Set(pr.phoneNumbers.map((n) => n.phoneNumber));
  const round = (pr.verificationRound ?? 0) + 1;

  const verdicts = new Map<string, 'PASSED' | 'PASSED_NOT_CALLED' | VerificationFailure>();
  const calls = new Map<string, VerificationCall>();
  for (const n of unverified(pr)) {
    const failure = checkNumberSetup(byNumber.get(n.phoneNumber), deps.callRouterUrl);
    if (failure) {
      verdicts.set(n.phoneNumber, failure);
      continue;
    }
    const from = chooseCaller(n.phoneNumber, account, sameRequest, connection?.verificationCallerNumber);
    if (!from) verdicts.set(n.phoneNumber, 'PASSED_NOT_CALLED');
    else if (calls.size < TEST_CALLS_PER_CHECK) calls.set(n.phoneNumber, { round, from, attemptedAt: at });
  }

  // The round and its calls are recorded before any call is created: a retry of this invocation adopts them.
  let next = await record(input, deps, verdicts, at, { round, calls });
  const toPlace = unverified(next).filter((n) => callOf(n, round) && !callOf(n, round)?.callSid);
  if (toPlace.length > 0) next = await placeCallsOnce(next, toPlace, round, gateway, deps, at);
  return next;
}

/**
 * Creates the recorded test calls of a round, once. The create takes no idempotency key, so each call's attempt is
 * written first (see startCheck, which passes the time it wrote as `attemptedNow`); a later attempt that finds an attempt without a sid first looks in Calls for the
 * outbound call that attempt may have placed (To, From, since the attempt), as createPortInOnce does for a Port In.
 */
async function placeCallsOnce(
  pr: PortRequest,
  numbers: readonly PortRequestNumber[],
  round: number,
  gateway: TwilioAccountGateway,
  deps: VerifyNumbersDeps,
  attemptedNow: string | undefined,
): Promise<PortRequest> {
  const placed = await mapWithConcurrency(numbers, CALL_CONCURRENCY, async (n) => {
    const call = callOf(n, round) as VerificationCall;
    // Recorded by this invocation: no earlier attempt can have placed it.
    if (call.attemptedAt !== attemptedNow) {
      const earlier = await gateway.listCalls({
        to: n.phoneNumber,
        from: call.from,
        startedSince: new Date(ms(call.attemptedAt) - CLOCK_SLACK_MS).toISOString(),
      });
      const adopted = earlier.find((c) => c.direction === 'outbound-api');
      if (adopted) return [n.phoneNumber, adopted.sid] as const;
    }
    const sid = await gateway.createCall({
      from: call.from,
      to: n.phoneNumber,
      twiml: TEST_CALL_TWIML,
      timeoutSeconds: TEST_CALL_RING_SECONDS,
      timeLimitSeconds: TEST_CALL_TIME_LIMIT_SECONDS,
    });
    return [n.phoneNumber, sid] as const;
  });
  const sids = new Map(placed);
  const at = deps.clock.now().toISOString();
  return deps.repository.updatePortRequest(pr.accountId, pr.portRequestId, (current) => ({
    ...current,
    phoneNumbers: current.phoneNumbers.map((n): PortRequestNumber => {
      const call = callOf(n, round);
      const sid = sids.get(n.phoneNumber);
      if (!call || !sid || call.callSid || !n.verification) return n;
      return { ...n, verification: { ...n.verification, call: { ...call, callSid: sid, placedAt: at } } };
    }),
  }));
}

/**
 * Writes what a check found: NUMBER_VERIFIED for a pass; NUMBER_VERIFICATION_FAILED for a failure whose reason is new
 * for the number (a number failing for the same reason at every re-check is one event); the one "not reaching Ring
 * Tonic yet" email at the first failure; the next check's time. With `start`, also the new round and its calls.
 */
async function record(
  input: { accountId: string; portRequestId: string },
  deps: VerifyNumbersDeps,
  verdicts: ReadonlyMap<string, 'PASSED' | 'PASSED_NOT_CALLED' | VerificationFailure>,
  at: string,
  start?: { round: number; calls: ReadonlyMap<string, VerificationCall> },
): Promise<PortRequest> {
  return deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => {
    if (start && (current.verificationRound ?? 0) >= start.round) return undefined;
    let failedNow = false;
    const events: { type: string; detail: string }[] = [];
    const phoneNumbers = current.phoneNumbers.map((n): PortRequestNumber => {
      if (isVerified(n)) return n;
      const verdict = verdicts.get(n.phoneNumber);
      const call = start?.calls.get(n.phoneNumber);
      const before = n.verification;
      if (verdict === 'PASSED' || verdict === 'PASSED_NOT_CALLED') {
        const notTestCalled = verdict === 'PASSED_NOT_CALLED';
        const detail = notTestCalled
          ? 'Set up to reach Ring Tonic, but not test-called: your Twilio account has no other number to call it from. Call it once yourself before you cancel.'
          : 'Our test call reached Ring Tonic.';
        events.push({ type: 'NUMBER_VERIFIED', detail: n.phoneNumber });
        return {
          ...n,
          verification: { status: 'PASSED', checkedAt: at, detail, ...(notTestCalled ? { notTestCalled } : {}) },
        };
      }
      if (verdict) {
        failedNow = true;
        if (before?.failure !== verdict) {
          events.push({
            type: 'NUMBER_VERIFICATION_FAILED',
            detail: `${n.phoneNumber}: ${explainVerificationFailure(verdict)}`,
          });
        }
        const failed: NumberVerification = {
          status: 'FAILED',
          checkedAt: at,
          detail: explainVerificationFailure(verdict),
          failure: verdict,
        };
        return { ...n, verification: failed };
      }
      if (call) {
        return { ...n, verification: { ...(before ?? { status: 'PENDING' }), call } };
      }
      return n;
    });
    let next: PortRequest = {
      ...current,
      phoneNumbers,
      ...(start ? { verificationRound: start.round } : {}),
      ...(current.verificationStartedAt ? {} : { verificationStartedAt: at }),
    };
    for (const event of events) next = withEvent(next, { at, ...event });
    if (failedNow) {
      // Checks start every recheckSeconds: a failure found after the answer window waits that much less.
      const waitSeconds = Math.max(1, deps.timing.recheckSeconds - (start ? 0 : deps.timing.answerWindowSeconds));
      next = { ...next, verificationNextCheckAt: new Date(ms(at) + waitSeconds * 1000).toISOString() };
      if (!current.outbox.some((e) => e.template === 'NUMBERS_NOT_REACHING')) {
        next = withEmail(next, 'NUMBERS_NOT_REACHING', at);
        deps.metrics.count('NumbersVerificationFailed');
      }
    }
    return next;
  });
}

/**
 * Ends verification: every number verified queues the "safe to cancel" email (PORT_COMPLETED, once); giving up
 * queues the "what to do" email and counts the metric the operations alarm watches.
 */
async function finish(
  input: { accountId: string; portRequestId: string },
  deps: VerifyNumbersDeps,
  how: 'VERIFIED' | 'GAVE_UP',
): Promise<VerifyNumbersResult> {
  const at = deps.clock.now().toISOString();
  let gaveUpNow = false;
  const pr = await deps.repository.updatePortRequest(input.accountId, input.portRequestId, (current) => {
    if (how === 'VERIFIED') {
      if (current.outbox.some((e) => e.template === 'PORT_COMPLETED')) return undefined;
      return withEmail(current, 'PORT_COMPLETED', at);
    }
    if (current.verificationGaveUpAt) return undefined;
    gaveUpNow = true;
    const failing = unverified(current).map((n) => n.phoneNumber);
    return withEmail(
      withEvent(
        { ...current, verificationGaveUpAt: at },
        { at, type: 'NUMBER_VERIFICATION_GAVE_UP', detail: failing.join(', ') },
      ),
      'NUMBERS_STILL_NOT_REACHING',
      at,
    );
  });
  if (gaveUpNow) deps.metrics.count('NumbersVerificationGaveUp');
  return result(pr, { finished: true, verified: how === 'VERIFIED', waitSeconds: 1 });
}
